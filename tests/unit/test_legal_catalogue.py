"""The catalogue of legal deadlines and the diagrams agree: every deadline the catalogue names is opened and closed by
some element of the office's procedures, every `plazoLegal` value parses, and every figure is a plazo setting."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from lxml import etree

from engine.config import DEFAULT_PLAZOS
from engine.timekeeping.legal_deadlines import CATALOGUE, OWNER_CITIZEN, parse_actions

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
NS = {"spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}


def bindings() -> dict[str, dict[str, list[str]]]:
    """{key: {action: ["file#element", ...]}} from every plazoLegal property of processes/."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(PROCESSES.glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        for prop in root.iterfind(".//spiffworkflow:property[@name='plazoLegal']", NS):
            element = prop.getparent().getparent().getparent()
            for action, key in parse_actions(prop.get("value")):
                found[key][action].append(f"{path.name}#{element.get('id')}")
    return found


def test_every_catalogued_deadline_is_opened_and_closed_by_some_diagram():
    found = bindings()
    assert set(found) == set(CATALOGUE)
    for key, actions in found.items():
        assert actions["abre"] and actions["cierra"], (key, dict(actions))


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_each_figure_is_a_setting_and_citizens_windows_raise_no_staff_alert(key):
    kind = CATALOGUE[key]
    assert kind.title and kind.basis
    for setting in filter(None, (kind.days_setting, kind.extension_setting, *kind.alert_settings)):
        assert setting in DEFAULT_PLAZOS, setting
    if kind.owner == OWNER_CITIZEN:
        assert not kind.alerts_staff and not kind.alert_settings
    if kind.days_setting is None:
        assert kind.due_var, "a deadline fixed by date reads its date from the case"


def test_a_bad_plazo_legal_value_names_what_is_wrong():
    with pytest.raises(ValueError, match="abre, prorroga"):
        parse_actions("empieza:laip_respuesta")
    with pytest.raises(ValueError, match="not a legal deadline"):
        parse_actions("abre:plazo_inventado")
    assert parse_actions(" cierra:subsanacion , abre:recurso_revocatoria ") == [
        ("cierra", "subsanacion"), ("abre", "recurso_revocatoria")]
