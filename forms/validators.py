"""Validators for Guatemalan data (DPI/CUI, NIT, phone) and the JSON Schema format checker of the forms."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, tzinfo

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

# Municipalities per department, indexed by RENAP department code 01-22 (INE, 340 municipalities since
# 2015). Older published validators still say Escuintla 13 and Huehuetenango 32: Sipacate (Escuintla)
# and Petatán (Huehuetenango) were created in 2015, as were La Blanca (San Marcos, 2014) and
# Las Cruces / El Chal (Petén, 2011 / 2014), already counted here.
MUNICIPALITIES_PER_DEPARTMENT: dict[int, int] = {
    1: 17,   # Guatemala
    2: 8,    # El Progreso
    3: 16,   # Sacatepéquez
    4: 16,   # Chimaltenango
    5: 14,   # Escuintla
    6: 14,   # Santa Rosa
    7: 19,   # Sololá
    8: 8,    # Totonicapán
    9: 24,   # Quetzaltenango
    10: 21,  # Suchitepéquez
    11: 9,   # Retalhuleu
    12: 30,  # San Marcos
    13: 33,  # Huehuetenango
    14: 21,  # Quiché
    15: 8,   # Baja Verapaz
    16: 17,  # Alta Verapaz
    17: 14,  # Petén
    18: 5,   # Izabal
    19: 11,  # Zacapa
    20: 11,  # Chiquimula
    21: 7,   # Jalapa
    22: 17,  # Jutiapa
}

# [0-9] with re.ASCII: \d and str.isdigit() would accept other scripts' digits (e.g. Arabic-Indic).
# Choice: the CUI is 13 digits, optionally written in the 4-5-4 grouping printed on the DPI
# ("2456 78905 0401", space or hyphen); any other spacing is rejected rather than guessed at.
_CUI_RE = re.compile(r"([0-9]{4})[ -]?([0-9]{5})[ -]?([0-9]{4})", re.ASCII)
_NIT_RE = re.compile(r"([0-9]+)-?([0-9K])", re.ASCII)
_PHONE_RE = re.compile(r"(?:\+502)?([2-7][0-9]{7})", re.ASCII)
_ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
NIT_MAX_LENGTH = 12  # body plus check character, as in python-stdnum's gt.nit

FORMAT_MESSAGES: dict[str, str] = {
    "cui": "El DPI/CUI no es válido: debe tener 13 dígitos (por ejemplo 2456 78905 0401) con dígito "
           "verificador, departamento y municipio correctos.",
    "nit": "El NIT no es válido: escriba los dígitos y el dígito verificador (0-9 o K), por ejemplo 576937-K.",
    "phone-gt": "El teléfono no es válido: debe tener 8 dígitos y empezar con 2 a 7, con o sin +502.",
    "date-not-past": "La fecha no es válida o ya pasó: use el formato AAAA-MM-DD y una fecha de hoy en adelante.",
    "email": "El correo electrónico no es válido.",
    "date": "La fecha no es válida: use el formato AAAA-MM-DD.",
    "date-time": "La fecha y hora no son válidas: use el formato AAAA-MM-DDTHH:MM:SS con zona horaria.",
}


# -- DPI / CUI --------------------------------------------------------------------------------------
def normalize_cui(value: str) -> str:
    """Return the 13 CUI digits without separators; raise ValueError if the CUI is not valid."""
    match = _CUI_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError("CUI must be 13 digits")
    cui = "".join(match.groups())
    serial, check = cui[:8], int(cui[8])
    # RENAP check digit: serial digits weighted 2..9 from the left, sum mod 11; a remainder of 10
    # has no digit, so such serials are never issued. Same rule as Odoo's l10n_gt (res_partner.py,
    # '0123456789K'[sum % 11] compared with the 9th digit) and the PyPI package cui-gt (aalonzolu/cui-gt).
    remainder = sum(int(digit) * weight for weight, digit in enumerate(serial, start=2)) % 11
    if remainder == 10 or remainder != check:
        raise ValueError("CUI check digit does not match")
    department, municipality = int(cui[9:11]), int(cui[11:13])
    if not 1 <= municipality <= MUNICIPALITIES_PER_DEPARTMENT.get(department, 0):
        raise ValueError("CUI department or municipality code does not exist")
    return cui


def is_valid_cui(value: str) -> bool:
    """True if value is a valid DPI/CUI (13 digits, RENAP check digit, existing department/municipality)."""
    try:
        normalize_cui(value)
    except ValueError:
        return False
    return True


def cui_location(value: str) -> tuple[int, int]:
    """(department, municipality) codes of a valid CUI; raise ValueError if it is not valid."""
    cui = normalize_cui(value)
    return int(cui[9:11]), int(cui[11:13])


# -- NIT --------------------------------------------------------------------------------------------
def nit_check_character(body: str) -> str:
    """SAT check character of a NIT body: weights 2, 3, ... from the right, (11 - sum % 11) % 11, 10 = K."""
    # Same as python-stdnum's stdnum.gt.nit.calc_check_digit (-sum % 11 == (11 - sum % 11) % 11),
    # which cites SAT's "FEL reglas y validaciones" document.
    total = sum(int(digit) * weight for weight, digit in enumerate(reversed(body), start=2))
    check = (11 - total % 11) % 11
    return "K" if check == 10 else str(check)


def normalize_nit(value: str) -> str:
    """Canonical NIT 'BODY-CHECK' (uppercase K, no leading zeros); raise ValueError if not valid."""
    match = _NIT_RE.fullmatch(value.strip().upper()) if isinstance(value, str) else None
    if match is None:
        raise ValueError("NIT must be digits followed by a check character (0-9 or K)")
    body, check = match.group(1).lstrip("0"), match.group(2)
    # Leading zeros weigh nothing in the sum, so dropping them keeps one canonical form per NIT.
    if not body or len(body) + 1 > NIT_MAX_LENGTH:
        raise ValueError("NIT has an invalid length")
    if nit_check_character(body) != check:
        raise ValueError("NIT check character does not match")
    return f"{body}-{check}"


def is_valid_nit(value: str) -> bool:
    """True if value is a NIT whose check character (0-9 or K, optional hyphen) matches."""
    try:
        normalize_nit(value)
    except ValueError:
        return False
    return True


# -- phone ------------------------------------------------------------------------------------------
def normalize_phone_gt(value: str) -> str:
    """The 8 national digits of a Guatemalan phone number; raise ValueError if not valid."""
    compact = re.sub(r"[ \-]", "", value) if isinstance(value, str) else ""
    match = _PHONE_RE.fullmatch(compact)
    if match is None:
        raise ValueError("phone must be 8 digits starting with 2-7, optionally prefixed by +502")
    return match.group(1)


def is_valid_phone_gt(value: str) -> bool:
    """True for 8 digits starting with 2-7 (landlines 2/6/7, mobiles 3/4/5), optional +502, spaces/dashes."""
    try:
        normalize_phone_gt(value)
    except ValueError:
        return False
    return True


# -- JSON Schema format checker ---------------------------------------------------------------------
def _parse_iso_date(value: str) -> date | None:
    # date.fromisoformat also takes "20260101" and week dates; JSON Schema dates are YYYY-MM-DD only.
    if not _ISO_DATE_RE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def make_format_checker(today: date | Callable[[], date]) -> FormatChecker:
    """Draft 2020-12 format checker plus "cui", "nit", "phone-gt" and "date-not-past" against `today`.

    `today` is the office's date or a callable giving it, called at check time so one long-lived checker never
    freezes the date it was built on (the engine passes its clock's date in the office's timezone).
    """
    if callable(today):
        clock = today
    else:
        def clock() -> date:
            return today

    checker = FormatChecker(formats=())
    checker.checkers.update(Draft202012Validator.FORMAT_CHECKER.checkers)

    # Formats only constrain strings (JSON Schema): other types pass, "type" rejects them if needed.
    @checker.checks("cui")
    def _cui(instance) -> bool:
        return not isinstance(instance, str) or is_valid_cui(instance)

    @checker.checks("nit")
    def _nit(instance) -> bool:
        return not isinstance(instance, str) or is_valid_nit(instance)

    @checker.checks("phone-gt")
    def _phone(instance) -> bool:
        return not isinstance(instance, str) or is_valid_phone_gt(instance)

    @checker.checks("date-not-past")
    def _date_not_past(instance) -> bool:
        if not isinstance(instance, str):
            return True
        parsed = _parse_iso_date(instance)
        return parsed is not None and parsed >= clock()

    return checker


# -- dates of past events -----------------------------------------------------------------------------
# A field that records something that already happened (a notification, an appeal's filing, a session held, an
# inspection) says so with "x-fecha": "pasada" beside its "format" ("date" or "date-time"): a day after the
# office's today is refused. The page's date input gets max= today (web/schema_form.py).
WHEN_KEYWORD = "x-fecha"
PAST = "pasada"


def event_day(value: str, office_tz: tzinfo | None = None) -> date | None:
    """The calendar day of an ISO date or date-time string (a moment's day in `office_tz` when given, else in its
    own offset); None for what is neither (the format check reports it)."""
    day = _parse_iso_date(value)
    if day is not None:
        return day
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if office_tz is not None and moment.tzinfo is not None:
        moment = moment.astimezone(office_tz)
    return moment.date()


def make_validator_class(today: Callable[[], date], office_tz: tzinfo | None = None):
    """Draft 2020-12 with the office's keyword "x-fecha": "pasada" (no day after `today()`)."""
    def when(validator, value, instance, schema):
        if value != PAST or not isinstance(instance, str):
            return
        day = event_day(instance, office_tz)
        if day is not None and day > today():
            yield ValidationError(f"{instance!r} is after today ({today().isoformat()})")

    return validators.extend(Draft202012Validator, {WHEN_KEYWORD: when})
