"""How actionable the problem messages are on diagrams from other modelers: validate every .bpmn/.dmn file of a
folder file by file (as `expediente validate <folder>` does) and count what each line says.

    .venv/bin/python bench/message_quality.py [folder]      # default ../shared/bpmn-reference

Counts: files, problem lines, lines about an element that has a name and how many of them name it, lines with a
line number, lines with raw XML or namespace URIs (must be 0), lines ending cut off (must be 0). Last line: JSON.
"""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from engine.language.naming import shorten  # noqa: E402
from engine.language.folders import validate_paths  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "bpmn-reference"
RAW_XML = re.compile(r"\{https?://|<[A-Za-z/!?][^<>]*>|xmlns(?::[\w.-]+)?=[\"']")
# A message ends like a sentence, a quotation, a parenthesis or a deliberate "…"; anything else was cut off.
FINISHED = tuple(".!?)»\"'…")
KNOWN_CUTS = re.compile(r"(of type|for tasks|the following|:)\s*\.?$")


def element_names(path: Path) -> dict[str, str]:
    """id -> name of every named element of the file (read for counting only; a broken file has none)."""
    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    except (etree.XMLSyntaxError, OSError):
        return {}
    return {el.get("id"): el.get("name") for el in root.iter(etree.Element) if el.get("id") and el.get("name")}


def measure(folder: Path) -> dict:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".bpmn", ".dmn") and p.is_file())
    started = time.perf_counter()
    problems = validate_paths([folder])
    seconds = time.perf_counter() - started
    names = {str(p): element_names(p) for p in files}
    about_named = naming = with_line = raw = cut = 0
    for problem in problems:
        text = str(problem.message)
        name = names.get(problem.file, {}).get(problem.element_id or "")
        if name and name.strip():
            about_named += 1
            naming += f"«{shorten(name, 80)}»" in text
        with_line += bool(problem.line)
        raw += bool(RAW_XML.search(text))
        cut += (not text.rstrip().endswith(FINISHED)) or bool(KNOWN_CUTS.search(text))
    return {"folder": str(folder), "files": len(files), "files_with_problems": len({p.file for p in problems}),
            "problem_lines": len(problems), "lines_about_a_named_element": about_named,
            "lines_naming_it": naming, "lines_with_line_number": with_line, "lines_with_raw_xml": raw,
            "lines_cut_off": cut, "seconds": round(seconds, 2)}


def main(argv: list[str]) -> int:
    folder = Path(argv[1]) if len(argv) > 1 else DEFAULT
    result = measure(folder)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
