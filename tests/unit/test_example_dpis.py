"""Every example DPI (CUI) the office shows people (form hints, error messages, page templates, the English
catalogue, the documents' sample) passes our own validator: an example that fails it teaches the wrong number."""
from __future__ import annotations

import re
from pathlib import Path

from forms.validators import FORMAT_MESSAGES, is_valid_cui

ROOT = Path(__file__).resolve().parents[2]
# Written as the DPI prints it (4-5-4, spaces or hyphens), or 13 digits after the words DPI/CUI/ejemplo.
GROUPED = re.compile(r"(?<![0-9])[0-9]{4}[ -][0-9]{5}[ -][0-9]{4}(?![0-9])", re.ASCII)
PLAIN = re.compile(r"(?:DPI|CUI|ejemplo|example)[^0-9\n]{0,40}(?<![0-9])([0-9]{13})(?![0-9])", re.IGNORECASE)
SHOWN = [*ROOT.glob("forms/*.json"), *ROOT.glob("forms/*.py"), *ROOT.glob("web/templates/**/*.html"),
         *ROOT.glob("web/translations/*/LC_MESSAGES/messages.po"), *ROOT.glob("engine/**/*.py"),
         *ROOT.glob("engine/**/templates/**/*.*"), *ROOT.glob("web/static/js/*.js")]


def examples() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in SHOWN:
        text = path.read_text(encoding="utf-8", errors="replace")
        hits = GROUPED.findall(text) + PLAIN.findall(text)
        if hits:
            found[str(path.relative_to(ROOT))] = hits
    return found


def test_every_example_dpi_shown_to_people_is_valid():
    found = examples()
    assert "forms/validators.py" in found and "forms/solicitud_ciudadana.schema.json" in found
    invalid = {path: [dpi for dpi in hits if not is_valid_cui(dpi)] for path, hits in found.items()}
    assert {path: bad for path, bad in invalid.items() if bad} == {}


def test_the_dpi_error_message_gives_a_valid_example():
    example = GROUPED.search(FORMAT_MESSAGES["cui"])
    assert example is not None and is_valid_cui(example.group(0))


def test_the_old_example_was_invalid_and_is_caught():
    assert not is_valid_cui("2456 78901 0401")  # its check digit is 5: 2456 78905 0401
    assert GROUPED.findall("por ejemplo 2456 78901 0401.") == ["2456 78901 0401"]
