"""The registry of document kinds and the settings that go with it."""
from __future__ import annotations

import pytest

from engine.config import Settings
from engine.documents import kinds
from engine.documents.render import TEMPLATES


def test_the_citizens_documents_are_the_ones_the_verification_page_may_hand_out():
    citizen = {k for k, v in kinds.KINDS.items() if v.citizen_facing}
    # ../shared/DOCUMENTS.md, "Practical rules": receipt, previo, resolution, licence, cédula.
    assert {"constancia_recepcion", "previo", "resolucion", "licencia", "cedula_notificacion"} <= citizen
    assert not citizen & {"providencia", "dictamen", "oficio"}


def test_every_number_pattern_is_fillable_and_no_two_kinds_can_give_the_same_number():
    numbered = {k: v.pattern for k, v in kinds.KINDS.items() if v.pattern is not None}
    filled = {p.format(year=2026, seq=1) for p in numbered.values()}
    prefixes = {p.split("{")[0] for p in numbered.values()}
    assert len(filled) == len(prefixes) == len(numbered)
    assert kinds.number_pattern("constancia_recepcion") is None  # identified by the case number


def test_templates_named_by_kinds_exist():
    for kind in kinds.KINDS.values():
        assert kind.template is None or (TEMPLATES / kind.template).is_file(), kind.key


def test_number_patterns_are_overridden_by_the_setting():
    settings = Settings.from_env({"EXPEDIENTE_DOCUMENT_NUMBERS": '{"resolucion": "R-{year}-{seq:03d}"}'})
    assert kinds.number_pattern("resolucion", settings.document_numbers) == "R-{year}-{seq:03d}"
    assert kinds.number_pattern("dictamen", settings.document_numbers) == "DICT-GDCH-{year}-{seq:04d}"
    kinds.check_overrides(settings.document_numbers)
    assert Settings().document_numbers == {} and Settings().public_base_url == "http://127.0.0.1:5000"
    assert Settings.from_env({"EXPEDIENTE_PUBLIC_BASE_URL": "https://gdch.example/"}).public_base_url \
        == "https://gdch.example"


@pytest.mark.parametrize("overrides", [{"sentencia": "S-{seq}"}, {"constancia_recepcion": "C-{seq}"},
                                       {"resolucion": "R-{year}"}, {"resolucion": "R-{anio}-{seq}"}])
def test_unusable_overrides_are_refused(overrides):
    with pytest.raises((ValueError, KeyError)):
        kinds.check_overrides(overrides)


def test_a_setting_that_is_not_an_object_of_patterns_is_refused():
    with pytest.raises(ValueError):
        Settings.from_env({"EXPEDIENTE_DOCUMENT_NUMBERS": '["R-{seq}"]'})
