"""Dates and hours as the office writes them, always in Guatemala time.

`fecha`: "2 de diciembre de 2026" (the heading's form in ../shared/DOCUMENTS.md); `fecha_en_letras`: "dos de
diciembre de dos mil veintiséis" (for actas and resoluciones that spell it out); `hora`: "14:35 horas"."""
from __future__ import annotations

from datetime import date, datetime, timezone

from engine.timekeeping.calendar import MONTHS_ES, OFFICE_TZ

_UNITS = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once",
          "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve", "veinte",
          "veintiuno", "veintidós", "veintitrés", "veinticuatro", "veinticinco", "veintiséis", "veintisiete",
          "veintiocho", "veintinueve")
_TENS = {3: "treinta", 4: "cuarenta", 5: "cincuenta", 6: "sesenta", 7: "setenta", 8: "ochenta", 9: "noventa"}
_HUNDREDS = {1: "ciento", 2: "doscientos", 3: "trescientos", 4: "cuatrocientos", 5: "quinientos",
             6: "seiscientos", 7: "setecientos", 8: "ochocientos", 9: "novecientos"}


def local(value: date | datetime) -> date | datetime:
    """A stored moment (UTC; naive ones are UTC too) in office time; a plain date as it is."""
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(OFFICE_TZ)


def number_in_words(n: int) -> str:
    """0 to 9999 in Spanish words, as dates and counts of pages need them ("uno", not "un": a day, a year)."""
    if not 0 <= n < 10000:
        raise ValueError(f"{n} is out of range")
    if n < 30:
        return _UNITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS[tens] + (f" y {_UNITS[unit]}" if unit else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        if n == 100:
            return "cien"
        return _HUNDREDS[hundreds] + (f" {number_in_words(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    head = "mil" if thousands == 1 else f"{number_in_words(thousands)} mil"
    return head + (f" {number_in_words(rest)}" if rest else "")


def fecha(value: date | datetime) -> str:
    d = local(value)
    return f"{d.day} de {MONTHS_ES[d.month - 1]} de {d.year}"


def fecha_en_letras(value: date | datetime) -> str:
    d = local(value)
    day = "primero" if d.day == 1 else number_in_words(d.day)
    return f"{day} de {MONTHS_ES[d.month - 1]} de {number_in_words(d.year)}"


def hora(value: datetime) -> str:
    return f"{local(value):%H:%M} horas"


_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
          (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


def romano(n: int) -> str:
    """1 → I, 4 → IV, 14 → XIV: how a resolution numbers its points."""
    if not 0 < n < 4000:
        raise ValueError(f"{n} has no Roman numeral here")
    out = []
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def parrafos(text) -> list[str]:
    """A text typed in a form as its paragraphs (split at blank lines or line breaks), empty ones dropped; a
    list (an array field) is taken item by item."""
    if text is None:
        return []
    if isinstance(text, (list, tuple)):
        return [str(t).strip() for t in text if str(t).strip()]
    return [p.strip() for p in str(text).replace("\r\n", "\n").split("\n") if p.strip()]


def _as_date(value):
    """A form's ISO date or date-time string (or a date) as a date/datetime, for `fecha` and `hora`."""
    if isinstance(value, str):
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    return value


FILTERS = {"fecha": lambda v: fecha(_as_date(v)), "fecha_en_letras": lambda v: fecha_en_letras(_as_date(v)),
           "hora": lambda v: hora(_as_date(v)), "romano": romano, "parrafos": parrafos}
