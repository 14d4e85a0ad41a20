"""Guatemalan data validators and the forms' JSON Schema format checker."""
from datetime import date

import pytest
from jsonschema import Draft202012Validator

from forms.validators import (
    FORMAT_MESSAGES,
    MUNICIPALITIES_PER_DEPARTMENT,
    cui_location,
    is_valid_cui,
    is_valid_nit,
    is_valid_phone_gt,
    make_format_checker,
    nit_check_character,
    normalize_cui,
    normalize_nit,
    normalize_phone_gt,
)


def make_cui(serial: str, department: int, municipality: int) -> str:
    """Build a CUI with the RENAP check digit (independent re-statement of the rule for the tests)."""
    remainder = sum(int(serial[i]) * (i + 2) for i in range(8)) % 11
    assert remainder != 10, "pick another serial"
    return f"{serial}{remainder}{department:02d}{municipality:02d}"


# -- CUI ---------------------------------------------------------------------------------------------
def test_known_cui_check_digit():
    # 1*2 + 2*3 + 3*4 + 4*5 + 5*6 + 6*7 + 7*8 + 8*9 = 240; 240 % 11 = 9.
    assert make_cui("12345678", 4, 1) == "1234567890401"
    assert is_valid_cui("1234567890401")


@pytest.mark.parametrize("municipality", [1, 16])
def test_valid_cui_from_chimaltenango(municipality):
    cui = make_cui("24567890", 4, municipality)
    assert is_valid_cui(cui)
    assert cui_location(cui) == (4, municipality)


def test_cui_accepts_the_grouping_printed_on_the_dpi():
    cui = make_cui("24567890", 4, 1)
    spaced = f"{cui[:4]} {cui[4:9]} {cui[9:]}"
    dashed = f"{cui[:4]}-{cui[4:9]}-{cui[9:]}"
    assert is_valid_cui(spaced) and is_valid_cui(dashed)
    assert normalize_cui(spaced) == cui


def test_cui_rejects_other_spacing():
    cui = make_cui("24567890", 4, 1)
    assert not is_valid_cui(" ".join(cui))
    assert not is_valid_cui(f"{cui[:6]} {cui[6:]}")


def test_cui_with_wrong_check_digit_is_invalid():
    cui = make_cui("24567890", 4, 1)
    wrong = cui[:8] + str((int(cui[8]) + 1) % 10) + cui[9:]
    assert not is_valid_cui(wrong)


def test_cui_whose_serial_gives_remainder_10_is_invalid():
    # 00000006: 6 * 9 = 54; 54 % 11 = 10 -> no check digit fits.
    assert all(not is_valid_cui(f"00000006{d}0401") for d in range(10))


def test_cui_department_23_does_not_exist():
    assert not is_valid_cui(make_cui("24567890", 23, 1))
    assert not is_valid_cui(make_cui("24567890", 0, 1))


def test_chimaltenango_has_no_municipality_17():
    assert not is_valid_cui(make_cui("24567890", 4, 17))
    assert not is_valid_cui(make_cui("24567890", 4, 0))


def test_municipality_limits_follow_each_department():
    assert is_valid_cui(make_cui("24567890", 13, 33))  # Huehuetenango: Petatán (2015)
    assert is_valid_cui(make_cui("24567890", 5, 14))  # Escuintla: Sipacate (2015)
    assert not is_valid_cui(make_cui("24567890", 18, 6))  # Izabal has 5
    assert sum(MUNICIPALITIES_PER_DEPARTMENT.values()) == 340


@pytest.mark.parametrize("value", ["123456789040", "12345678904011", "12345678a0401", "", "١٢٣٤٥٦٧٨٩٠٤٠١"])
def test_cui_with_wrong_length_or_characters_is_invalid(value):
    assert not is_valid_cui(value)


def test_cui_non_string_is_invalid_and_location_raises():
    assert not is_valid_cui(1234567890401)
    with pytest.raises(ValueError):
        cui_location("1234567800401")


# -- NIT ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["576937-K", "576937k", "7108-0", "71080", "3952550-3", "1234567-9"])
def test_valid_nits(value):
    # 1234567: 7*2 + 6*3 + 5*4 + 4*5 + 3*6 + 2*7 + 1*8 = 112; 112 % 11 = 2; 11 - 2 = 9.
    assert is_valid_nit(value)


def test_nit_check_character_k_for_remainder_10():
    # 576937: 7*2 + 3*3 + 9*4 + 6*5 + 7*6 + 5*7 = 166; 166 % 11 = 1; 11 - 1 = 10 -> K.
    assert nit_check_character("576937") == "K"
    assert nit_check_character("1234567") == "9"


@pytest.mark.parametrize("value", ["8977112-0", "576937-1", "1234567-K", "12345679-", "K", "-9", "12a4567-9",
                                   "1234567--9", "1234567890123"])
def test_invalid_nits(value):
    assert not is_valid_nit(value)


def test_normalize_nit_gives_one_canonical_form():
    assert normalize_nit(" 576937k ") == "576937-K"
    assert normalize_nit("0071080") == "7108-0"
    with pytest.raises(ValueError):
        normalize_nit("576937-1")


# -- phone -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["78391234", "5555-1234", "+502 2345 6789", "+50242345678", "3012 3456"])
def test_valid_phones(value):
    assert is_valid_phone_gt(value)


@pytest.mark.parametrize("value", ["18391234", "88391234", "7839123", "783912345", "502 7839 1234",
                                   "+503 7839 1234", "7839a234", ""])
def test_invalid_phones(value):
    assert not is_valid_phone_gt(value)


def test_normalize_phone_keeps_the_8_national_digits():
    assert normalize_phone_gt("+502 7839-1234") == "78391234"


# -- format checker ----------------------------------------------------------------------------------
SCHEMA = {
    "type": "object",
    "properties": {
        "dpi": {"type": "string", "format": "cui"},
        "nit": {"type": "string", "format": "nit"},
        "telefono": {"type": "string", "format": "phone-gt"},
        "correo": {"type": "string", "format": "email"},
        "fecha_evento": {"type": "string", "format": "date-not-past"},
        "presentado": {"type": "string", "format": "date-time"},
    },
}


def errors_by_field(instance, checker):
    validator = Draft202012Validator(SCHEMA, format_checker=checker)
    return {error.path[0]: error.validator_value for error in validator.iter_errors(instance)}


def test_format_checker_accepts_valid_guatemalan_data():
    checker = make_format_checker(today=date(2026, 3, 4))
    instance = {
        "dpi": make_cui("24567890", 4, 1),
        "nit": "576937-K",
        "telefono": "+502 7839 1234",
        "correo": "vecino@example.com",
        "fecha_evento": "2026-03-04",
        "presentado": "2026-03-04T16:29:00-06:00",
    }
    assert errors_by_field(instance, checker) == {}


def test_format_checker_reports_each_invalid_field_with_its_format():
    checker = make_format_checker(today=date(2026, 3, 4))
    instance = {
        "dpi": make_cui("24567890", 4, 17),
        "nit": "576937-1",
        "telefono": "1234 5678",
        "correo": "sin-arroba",
        "fecha_evento": "2026-03-03",
        "presentado": "4 de marzo",
    }
    errors = errors_by_field(instance, checker)
    assert errors == {
        "dpi": "cui", "nit": "nit", "telefono": "phone-gt", "correo": "email",
        "fecha_evento": "date-not-past", "presentado": "date-time",
    }
    assert all(fmt in FORMAT_MESSAGES for fmt in errors.values())


@pytest.mark.parametrize("value", ["20260310", "2026-02-30", "2026-W11-1", "mañana"])
def test_date_not_past_rejects_non_iso_dates(value):
    checker = make_format_checker(today=date(2026, 3, 4))
    assert errors_by_field({"fecha_evento": value}, checker) == {"fecha_evento": "date-not-past"}


def test_date_not_past_reads_the_clock_at_check_time():
    today = [date(2030, 1, 1)]
    checker = make_format_checker(today=lambda: today[0])
    assert errors_by_field({"fecha_evento": "2029-12-31"}, checker) == {"fecha_evento": "date-not-past"}
    today[0] = date(2029, 12, 31)
    assert errors_by_field({"fecha_evento": "2029-12-31"}, checker) == {}


def test_today_can_be_a_callable():
    checker = make_format_checker(today=lambda: date(2026, 3, 4))
    assert not checker.conforms("2026-03-03", "date-not-past")
    assert checker.conforms("2026-03-04", "date-not-past")


def test_custom_formats_ignore_non_strings():
    checker = make_format_checker(today=date(2026, 3, 4))
    assert all(checker.conforms(12345, fmt) for fmt in ("cui", "nit", "phone-gt", "date-not-past"))


def test_default_jsonschema_checker_is_not_modified():
    checker = make_format_checker(today=date(2026, 3, 4))
    assert "cui" not in Draft202012Validator.FORMAT_CHECKER.checkers
    assert {"email", "date", "date-time"} <= set(checker.checkers)
