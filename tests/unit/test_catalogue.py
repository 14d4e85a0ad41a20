"""The English catalogue covers every text the code marks for translation, placeholders included.

The msgids are the Spanish texts: `_()`/`gettext()` in pages, templates and the API, and `msg()` in the engine
(engine.messages). `make messages` adds new msgids to web/translations/en/LC_MESSAGES/messages.po; their English
is written by hand.
"""
from __future__ import annotations

import io
import re
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = ROOT / "web" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "msg": None}  # as `make messages`: pybabel extract -k msg
PYTHON_METHOD = "web.i18n_extract.extract_python_calls"  # babel.cfg's method for .py: calls only
# Where marked texts live, as babel.cfg maps them; each area is checked on its own.
AREAS = ("engine", "forms", "api", "web/modeler_templates", "web")
# A %-format conversion (named or positional); '%%' is a literal percent sign.
_PLACEHOLDER = re.compile(r"%(?:\(([^)]*)\))?[#0 +\-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?([diouxXeEfFgGcrsa%])")


def _area(path: str) -> str:
    return next(area for area in AREAS if path == area or path.startswith(area + "/"))


def _extracted() -> dict[str, dict[str, list[str]]]:
    """{area: {msgid: ['file:line', ...]}} for every msgid babel.cfg's extraction finds."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)

    def wanted(directory: str) -> bool:
        rel = Path(directory).relative_to(ROOT)
        return rel.parts[0] in ("api", "engine", "forms", "web") and rel.parts[:2] != ("web", "static") \
            and not rel.name.startswith((".", "_"))

    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path, line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS, directory_filter=wanted):
        msgid = message[0] if isinstance(message, tuple) else message  # ngettext: the singular is the key
        if msgid:
            found[_area(path)][msgid].append(f"{path}:{line}")
    return found


@pytest.fixture(scope="module")
def extracted():
    return _extracted()


@pytest.fixture(scope="module")
def english():
    with open(ENGLISH, "rb") as po:
        return read_po(po, locale="en")


def _strings(entry) -> tuple[str, ...]:
    """An entry's msgstr, or its plural forms."""
    return tuple(entry.string) if isinstance(entry.string, (list, tuple)) else (entry.string,)


def _ids(entry) -> tuple[str, ...]:
    return tuple(entry.id) if isinstance(entry.id, (list, tuple)) else (entry.id,)


def placeholders(text: str) -> set[str]:
    """The named placeholders of a %-format text ('%(name)s' -> 'name'), positional ones as '%s'-like."""
    return {name or f"%{conv}"
            for name, conv in _PLACEHOLDER.findall(text) if conv != "%"}


def test_every_area_has_marked_texts(extracted):
    assert {"engine", "api", "web"} <= set(extracted), sorted(extracted)
    assert len(extracted["engine"]) > 50  # the parser's and linter's problems


def _without_english(found: dict[str, list[str]], english) -> list[str]:
    """'file:line: msgid' for each extracted msgid that has no (complete) English entry."""
    return [f"{locations[0]}: {msgid!r}" for msgid, locations in found.items()
            if english.get(msgid) is None or not all(_strings(english.get(msgid)))]


@pytest.mark.parametrize("area", AREAS)
def test_every_msgid_has_an_english_translation(area, extracted, english):
    missing = _without_english(extracted.get(area, {}), english)
    assert not missing, (f"{len(missing)} msgid(s) of {area}/ without English in {ENGLISH.relative_to(ROOT)} "
                         "(run `make messages`, then write the msgstr):\n" + "\n".join(missing))


def test_msgstr_placeholders_match_the_msgid(english):
    wrong = [f"{msgid!r} -> {msgstr!r}" for entry in english if entry.id
             for msgid, msgstr in zip(_ids(entry) * 2, _strings(entry))  # plural forms follow singular, plural
             if msgstr and placeholders(msgid) != placeholders(msgstr)]
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)


def test_engine_messages_use_named_placeholders_only(extracted):
    positional = [f"{locations[0]}: {msgid!r}" for area in ("engine", "forms")
                  for msgid, locations in extracted.get(area, {}).items()
                  if any(name.startswith("%") for name in placeholders(msgid))
                  or ("%" in msgid and not placeholders(msgid))]
    assert not positional, "use %(name)s placeholders (and no bare '%'):\n" + "\n".join(positional)


def test_placeholder_parsing():
    assert placeholders("«%(title)s» del expediente %(number)s, 100%% listo") == {"title", "number"}
    assert placeholders("%s de %d") == {"%s", "%d"}


def test_a_new_engine_text_without_english_is_reported(english):
    translated = "El archivo enviado es demasiado grande."
    found = {translated: ["engine/x.py:1"], "Texto nuevo sin traducir.": ["engine/x.py:2"]}
    assert english.get(translated) is not None
    assert _without_english(found, english) == ["engine/x.py:2: 'Texto nuevo sin traducir.'"]


def test_python_texts_are_the_literal_arguments_of_calls_only():
    source = b"""
mail = EmailMessage()
mail["Subject"] = subject
msg = EmailMessage()
msg["From"], msg["To"] = sender, to
problem = msg("El elemento %(id)s no existe.", id=element_id)
joined = msg("Primera parte, "
             "segunda parte.")
label = _("Bandeja")
plural = ngettext("%(n)s tarea", "%(n)s tareas", n)
dotted = flask_babel.gettext("Salir")
dynamic = msg(template)
"""
    found = [(lineno, message) for lineno, message, _comments, _context
             in extract(PYTHON_METHOD, io.BytesIO(source), keywords=KEYWORDS)]
    assert found == [(6, "El elemento %(id)s no existe."), (7, "Primera parte, segunda parte."), (9, "Bandeja"),
                     (10, ("%(n)s tarea", "%(n)s tareas")), (11, "Salir")]


def test_babel_cfg_reads_every_python_area_with_calls_only():
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, _options = parse_mapping_cfg(cfg)
    python = {pattern: method for pattern, method in method_map if pattern.endswith(".py")}
    assert set(python) == {f"{area}/**.py" for area in ("web", "api", "engine", "forms")}
    assert set(python.values()) == {PYTHON_METHOD}


def test_every_msgid_appears_once_in_the_english_catalogue():
    """Helpers appending to messages.po at the same time once left 76 msgids twice: the later copy silently wins."""
    ids, current = [], None
    for line in ENGLISH.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            current = [line[6:]]
        elif current is not None and line.startswith('"'):
            current.append(line)
        else:
            if current is not None:
                ids.append("".join(current))
            current = None
    seen, twice = set(), []
    for msgid in ids:
        if msgid in seen and msgid != '""':
            twice.append(msgid)
        seen.add(msgid)
    assert twice == []
