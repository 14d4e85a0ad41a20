"""The kinds of document the office issues, by key: Spanish title, number pattern, template, who may read it.

Numbers are per kind and year, without gaps (`engine.storage.documents.next_number`); a pattern fills `{year}`
and `{seq}` and is overridden by the setting EXPEDIENTE_DOCUMENT_NUMBERS (JSON `{kind: pattern}`). A kind
without a pattern has no number of its own: the receipt is identified by the case number. Each kind's prefix is
its own, since a number is unique among all documents. `citizen_facing` (../shared/DOCUMENTS.md, "Practical
rules"): the public verification page may hand out the PDF itself to whoever holds the code; for the others it
only says that the document exists and whether an upload matches. `template` is None until the kind's template
exists in templates/."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from engine.messages import Message, msg


@dataclass(frozen=True)
class Kind:
    key: str
    title: Message  # Spanish, translated on the pages (web.i18n.localize)
    pattern: str | None
    template: str | None
    citizen_facing: bool


def _kinds(*kinds: Kind) -> dict[str, Kind]:
    return {k.key: k for k in kinds}


KINDS: dict[str, Kind] = _kinds(
    Kind("constancia_recepcion", msg("Constancia de recepción"), None, "constancia_recepcion.html", True),
    Kind("previo", msg("Previo"), "PRE-GDCH-{year}-{seq:04d}", None, True),
    Kind("providencia", msg("Providencia"), "PROV-GDCH-{year}-{seq:04d}", None, False),
    Kind("oficio", msg("Oficio"), "OF-GDCH-{year}-{seq:04d}", None, False),
    Kind("dictamen", msg("Dictamen"), "DICT-GDCH-{year}-{seq:04d}", None, False),
    Kind("resolucion", msg("Resolución"), "RES-GDCH-{year}-{seq:04d}", None, True),
    Kind("licencia", msg("Licencia"), "LIC-GDCH-{year}-{seq:04d}", None, True),
    Kind("cedula_notificacion", msg("Cédula de notificación"), "CED-GDCH-{year}-{seq:04d}", None, True),
    # Not named among the citizen's documents in DOCUMENTS.md: they show only that they exist and match.
    Kind("acta_mediacion", msg("Acta de mediación"), "ACTA-MED-GDCH-{year}-{seq:04d}", None, False),
    Kind("codede_convocatoria", msg("Convocatoria CODEDE"), "CONV-CODEDE-{year}-{seq:04d}", None, False),
    Kind("codede_acta", msg("Acta de sesión CODEDE"), "ACTA-CODEDE-{year}-{seq:04d}", None, False),
    Kind("codede_resolucion", msg("Resolución CODEDE"), "RES-CODEDE-{year}-{seq:04d}", None, False),
)

RECEIPT = "constancia_recepcion"


def kind(key: str) -> Kind:
    """The registered kind; KeyError names an unknown one."""
    try:
        return KINDS[key]
    except KeyError:
        raise KeyError(f"unknown document kind {key!r}; known: {', '.join(sorted(KINDS))}") from None


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
