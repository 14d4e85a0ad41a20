"""Validating files and folders file by file, so that no file's problems hide another's.

A folder (or the files of one deploy) is not one bundle here: each BPMN file is parsed with only the files it needs
(the processes its call activities call, the decisions its business rule tasks evaluate), found among the others;
engine.language.specs remains the only parser.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterable, Mapping

from lxml import etree

from engine.errors import Problem, SpecInvalid
from engine.language.lint import BPMN_NS, NS, SPIFF_NS, lint
from engine.language.spec_problems import BUNDLE, dedupe, problems_from
from engine.language.specs import MAX_DOCUMENT_BYTES, _Parser, _read_xml, _too_big, _validator, parse_bundle
from engine.messages import msg


def validate_paths(paths: Iterable[str | Path]) -> list[Problem]:
    """Parse and lint files and directories (recursively *.bpmn, *.dmn) file by file; return problems, never raise.

    Each directory is one group and the files named one by one another: a file's call activities and business rule
    tasks resolve among the files of its group (validate_files).
    """
    problems: list[Problem] = []
    groups: list[dict[str, bytes]] = []
    loose: dict[str, bytes] = {}
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".bpmn", ".dmn") and p.is_file())
            if not found:
                problems.append(Problem(str(path), msg("No hay archivos .bpmn ni .dmn en esta carpeta.")))
            group: dict[str, bytes] = {}
            for file in found:
                _read_into(file, group, problems)
            groups.append(group)
        elif path.is_file():
            _read_into(path, loose, problems)
        else:
            problems.append(Problem(str(path), msg("No existe ningún archivo ni carpeta con ese nombre.")))
    for group in [*groups, loose]:
        problems.extend(validate_files(group))
    return list(dict.fromkeys(problems))


def validate_files(files: Mapping[str, bytes]) -> list[Problem]:
    """Every file's problems under its own name, none hidden by another file's.

    Each BPMN file is parsed with only the files of `files` that define the processes its call activities call and
    the decisions its business rule tasks evaluate (and theirs, in turn); a DMN file no BPMN file uses is checked
    alone. A broken file therefore stops only its own check and those of the files that need it.
    """
    problems: list[Problem] = []
    roots: dict[str, tuple[str, etree._Element]] = {}
    for name, data in sorted(files.items()):
        result = _read_xml(name, bytes(data))
        if isinstance(result, Problem):
            problems.append(result)
        else:
            roots[name] = result
    defined: dict[str, set[str]] = {}  # file -> process and decision ids it defines
    needs: dict[str, set[str]] = {}  # file -> ids it calls or evaluates
    for name, (kind, root) in roots.items():
        if kind == "bpmn":
            defined[name] = {p.get("id") for p in root.iterfind("bpmn:process", NS)}
            needs[name] = {c.get("calledElement") for c in root.iter("{%s}callActivity" % BPMN_NS)} | \
                {(d.text or "").strip() for d in root.iter("{%s}calledDecisionId" % SPIFF_NS)}
        else:
            defined[name] = {d.get("id") for d in root if etree.QName(d).localname == "decision"}
            needs[name] = set()
    where: dict[str, str] = {}
    for name in roots:
        for element_id in defined[name]:
            where.setdefault(element_id, name)
    used: set[str] = set()
    for name, (kind, _root) in roots.items():
        if kind != "bpmn":
            continue
        bundle, todo = {name}, [name]
        while todo:
            current = todo.pop()
            for ref in needs[current] - defined[current]:
                dep = where.get(ref)
                if dep is not None and dep not in bundle:
                    bundle.add(dep)
                    todo.append(dep)
        used |= bundle - {name}
        try:
            found = parse_bundle({n: files[n] for n in bundle}).warnings
        except SpecInvalid as exc:
            found = exc.problems
        problems.extend(replace(p, file=name) if p.file == BUNDLE else p for p in found
                        if p.file in (name, BUNDLE) or (p.file in bundle and roots[p.file][0] == "dmn"))
    for name, (kind, root) in roots.items():
        if kind == "dmn" and name not in used:
            problems.extend(_dmn_alone(name, root))
    return dedupe(problems)


def _dmn_alone(name: str, root: etree._Element) -> list[Problem]:
    """The problems of a DMN file that no BPMN file of its group uses: its decisions parsed and linted alone."""
    if root.find("dmn:decision", {"dmn": etree.QName(root).namespace}) is None:
        return [Problem(name, msg("El archivo DMN no contiene ninguna decisión."), line=root.sourceline)]
    parser = _Parser(validator=_validator())
    try:
        parser.add_dmn_xml(root, filename=name)
        for dmn_parser in parser.dmn_parsers.values():
            dmn_parser.parse()
    except Exception as exc:
        return problems_from(exc, name, {}, {name: root}, xsd_log=None)
    return lint({}, {name: root})


def _read_into(path: Path, group: dict[str, bytes], problems: list[Problem]) -> None:
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:  # don't read a huge file only to refuse it
            problems.append(_too_big(str(path), size))
        else:
            group[str(path)] = path.read_bytes()
    except OSError as exc:
        problems.append(Problem(str(path), msg("No se puede leer el archivo: %(detail)s.",
                                               detail=str(exc.strerror or exc))))
