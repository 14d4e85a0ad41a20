"""The kinds of document the office issues, by key: Spanish title, number pattern, template, who may read it.

Numbers are per kind and year, without gaps (`engine.storage.documents.next_number`); a pattern fills `{year}`
and `{seq}` and is overridden by the setting EXPEDIENTE_DOCUMENT_NUMBERS (JSON `{kind: pattern}`). A kind
without a pattern has no number of its own: the receipt is identified by the case number. Each kind's prefix is
its own, since a number is unique among all documents. `citizen_facing` (../shared/DOCUMENTS.md, "Practical
rules"): the public verification page may hand out the PDF itself to whoever holds the code; for the others it
only says that the document exists and whether an upload matches.

A template declares the form fields it needs in its first line, `{#- requires: field_a, field_b -#}`
(`required_fields`): the lint refuses a task that issues the kind when its form lacks one of them, and rendering
without one fails (StrictUndefined) rather than leave a blank in a document."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Mapping

from engine.messages import Message, msg
from engine.runtime.runner import DOCUMENT_PROPERTY  # noqa: F401 - the property's name, defined with the tasks


@dataclass(frozen=True)
class Kind:
    key: str
    title: Message  # Spanish, translated on the pages (web.i18n.localize)
    pattern: str | None
    template: str
    citizen_facing: bool


def _kinds(*kinds: Kind) -> dict[str, Kind]:
    return {k.key: k for k in kinds}


KINDS: dict[str, Kind] = _kinds(
    Kind("constancia_recepcion", msg("Constancia de recepción"), None, "constancia_recepcion.html", True),
    Kind("previo", msg("Previo"), "PRE-GDCH-{year}-{seq:04d}", "previo.html", True),
    Kind("providencia", msg("Providencia"), "PROV-GDCH-{year}-{seq:04d}", "providencia.html", False),
    Kind("oficio", msg("Oficio"), "OF-GDCH-{year}-{seq:04d}", "oficio.html", False),
    Kind("dictamen", msg("Dictamen"), "DICT-GDCH-{year}-{seq:04d}", "dictamen.html", False),
    Kind("resolucion", msg("Resolución"), "RES-GDCH-{year}-{seq:04d}", "resolucion.html", True),
    Kind("licencia", msg("Licencia"), "LIC-GDCH-{year}-{seq:04d}", "licencia.html", True),
    Kind("cedula_notificacion", msg("Cédula de notificación"), "CED-GDCH-{year}-{seq:04d}",
         "cedula_notificacion.html", True),
    # Not named among the citizen's documents in DOCUMENTS.md: they show only that they exist and match.
    Kind("acta_admision", msg("Acta de admisión"), "ACTA-ADM-GDCH-{year}-{seq:04d}", "acta_admision.html", False),
    Kind("acta_inspeccion", msg("Acta de inspección"), "ACTA-INS-GDCH-{year}-{seq:04d}", "acta_inspeccion.html",
         False),
    Kind("acta_sesion", msg("Acta de sesión de mediación"), "ACTA-SES-GDCH-{year}-{seq:04d}", "acta_sesion.html",
         False),
    Kind("acta_mediacion", msg("Acta de mediación"), "ACTA-MED-GDCH-{year}-{seq:04d}", "acta_mediacion.html",
         False),
    Kind("acta_cierre", msg("Acta de cierre"), "ACTA-CIE-GDCH-{year}-{seq:04d}", "acta_cierre.html", False),
    Kind("codede_convocatoria", msg("Convocatoria CODEDE"), "CONV-CODEDE-{year}-{seq:04d}",
         "codede_convocatoria.html", False),
    Kind("codede_acta", msg("Acta de sesión CODEDE"), "ACTA-CODEDE-{year}-{seq:04d}", "codede_acta.html", False),
    Kind("codede_resolucion", msg("Resolución CODEDE"), "RES-CODEDE-{year}-{seq:04d}", "codede_resolucion.html",
         False),
)

RECEIPT = "constancia_recepcion"
# The task properties (spiffworkflow:property) by which a user or manual task of a diagram issues a document:
# `document` names the kind; `documentEach` names an array field of the task's form, one document per item (the
# CODEDE session's resolutions, the oficios to several institutions). The co-signer, where there is one, is the
# form's field `cofirmante` (a name).
EACH_PROPERTY = "documentEach"
COSIGNER_FIELD = "cofirmante"


def kind(key: str) -> Kind:
    """The registered kind; KeyError names an unknown one."""
    try:
        return KINDS[key]
    except KeyError:
        raise KeyError(f"unknown document kind {key!r}; known: {', '.join(sorted(KINDS))}") from None


TEMPLATES = Path(__file__).resolve().parent / "templates"
_REQUIRES = re.compile(r"\{#-?\s*requires:(?P<fields>[^#]*?)\s*-?#\}")


@cache
def required_fields(key: str) -> tuple[str, ...]:
    """The form fields the kind's template declares it needs (its `{#- requires: ... -#}` header), in order;
    () for a kind whose template declares none or does not exist yet."""
    path = TEMPLATES / kind(key).template
    if not path.exists():
        return ()
    found = _REQUIRES.search(path.read_text(encoding="utf-8")[:2000])
    if found is None:
        return ()
    return tuple(f.strip() for f in found.group("fields").replace("\n", " ").split(",") if f.strip())


def title(key: str) -> str:
    """The kind's Spanish title (a Message: pages translate it), or the key itself for a kind no longer
    registered (old rows stay readable)."""
    return KINDS[key].title if key in KINDS else key


def number_pattern(key: str, overrides: Mapping[str, str] | None = None) -> str | None:
    """The kind's number pattern, the setting's override first (None: the kind has no number of its own)."""
    overrides = overrides or {}
    return overrides.get(key, kind(key).pattern)


def check_overrides(overrides: Mapping[str, str]) -> None:
    """Refuse (ValueError) an EXPEDIENTE_DOCUMENT_NUMBERS that names an unknown kind, gives a kind without a
    number of its own a pattern, or a pattern that cannot be filled with a year and a sequence."""
    for key, pattern in overrides.items():
        if kind(key).pattern is None:
            raise ValueError(f"document kind {key!r} has no number of its own")
        try:
            filled = pattern.format(year=2026, seq=1)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise ValueError(f"number pattern {pattern!r} of {key!r} is not usable: {exc}") from None
        if filled == pattern.format(year=2026, seq=2):
            raise ValueError(f"number pattern {pattern!r} of {key!r} does not use {{seq}}")
