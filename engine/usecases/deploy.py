"""Deploying BPMN/DMN: a new immutable process version only when the content changed.

It checks no permission: requests deploy through engine.usecases.processes.deploy_bundle and
drafts.publish_draft, which take the acting principal; tests, benchmarks and those use cases call it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import hashlib
from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import func, insert, select

from engine.storage import models
from engine.runtime import serializer
from engine.errors import InvalidInput, ProcessNotFound
from engine.messages import msg
from engine.documents.rules import document_problems
from engine.errors import Problem, SpecInvalid
from engine.language.folders import validate_files
from engine.language.specs import elements_of, parse_bundle
from engine.usecases import office_rules
from engine.usecases.office_rules import bundle_rules

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_versions = models.process_versions
DEPLOYABLE_SUFFIXES = (".bpmn", ".dmn")


@dataclass(frozen=True)
class Deployed:
    process_key: str
    version: int
    version_id: int
    created: bool  # False when the content equals the latest version


def deploy_files(svc: Services, files: dict[str, bytes], actor: str | None = None,
                 comment: str = "", only: frozenset[str] | None = None, office: bool = False,
                 lanes: dict[str, dict] | None = None, forms: dict[str, dict] | None = None) -> list[Deployed]:
    """Parse and lint the files as one bundle and store a version for each changed process.

    `only` limits the stored versions to those processes; the other files only let call activities resolve.
    `office` also applies the office's rules (engine/usecases/office_rules.py) to every BPMN file, counting the lanes
    of `lanes` (a lanes.json table deployed with the files) as mapped; without it only the documents' rules apply.
    A refused bundle of several files reports every file's problems under its name (validate_files).
    `forms` ({key: JSON Schema}: a draft's edited forms) are kept with the versions instead of forms/'s of that key.
    """
    if not files:
        raise InvalidInput(msg("No hay archivos para publicar."),
                           errors=[{"field": "files", "message": msg("No se envió ningún archivo.")}])
    try:
        bundle = parse_bundle(files)
    except SpecInvalid as exc:
        raise SpecInvalid(file_by_file(files, exc.problems)) from None
    if office:
        errors = [p for p in bundle_rules(svc, bundle.files, lanes) if p.severity == "error"]
        if errors:
            raise SpecInvalid(errors)
    else:
        _check_documents(svc, bundle.texts)
    results = []
    with svc.uow() as uow:
        now = svc.clock()
        for key, proc in sorted(bundle.processes.items()):
            if only is not None and key not in only:
                continue
            spec_json = serializer.dump_spec(proc.spec, proc.subprocess_specs)
            used = _files_used(proc, bundle.texts)
            # The forms its tasks name, kept with the version: its running cases keep them when forms change.
            forms_json = _forms_snapshot(svc, proc, forms or {})
            # DMN tables are compiled into spec_json, so only the BPMN sources (layout included)
            # are hashed beside it: a DMN change bumps only the processes that use it; a form change bumps the
            # processes that name the form.
            digest = content_hash(spec_json, {n: t for n, t in used.items() if not n.endswith(".dmn")},
                                  forms_json)
            latest = uow.conn.execute(
                select(_versions.c.id, _versions.c.version, _versions.c.content_hash)
                .where(_versions.c.process_key == key).order_by(_versions.c.version.desc()).limit(1)
            ).first()
            if latest is not None and latest.content_hash == digest:
                results.append(Deployed(key, latest.version, latest.id, False))
                continue
            number = (latest.version if latest else 0) + 1
            version_id = uow.conn.execute(insert(_versions).values(
                process_key=key, version=number, name=proc.name[:200], content_hash=digest,
                spec_json=spec_json, files_json=orjson.dumps(used).decode(), forms_json=forms_json,
                serializer_version=serializer.SERIALIZER_VERSION, created_at=now, created_by=actor,
                comment=comment[:500],
            )).inserted_primary_key[0]
            results.append(Deployed(key, number, version_id, True))
        uow.commit()
    return results


def forms_of_version(svc: Services, conn, version_id: int):
    """The forms a process version's cases are validated and shown with (engine.forms_gate.FormsGate.for_version,
    kept per version by svc.specs: a completed step does not read and hash the version's forms again), or None
    when the services have no forms."""
    if svc.forms is None:
        return None
    return svc.specs.forms(conn, version_id, svc.forms)


schema_lookup = office_rules.schema_lookup


def _check_documents(svc: Services, texts: dict[str, str]) -> None:
    """Refuse a bundle whose tasks declare documents wrongly (engine/documents/rules.py), naming each task."""
    lookup = schema_lookup(svc)
    problems = []
    for name, text in sorted(texts.items()):
        try:
            elements = elements_of(text, name)
        except SpecInvalid:  # a DMN file: nothing to check here
            continue
        problems += document_problems(name, elements, lookup)
    if problems:
        raise SpecInvalid(problems)


def file_by_file(files: dict[str, bytes], problems: list[Problem]) -> list[Problem]:
    """The bundle's problems, each file's as validating it on its own (with the files it calls) finds them: one broken
    file stops the bundle's parse before the others are checked."""
    if len(files) < 2:
        return problems
    own = validate_files(files)
    located = {(p.file, p.element_id) for p in own}  # the bundle's own (a process id used twice) are kept
    return list(dict.fromkeys(own + [p for p in problems if (p.file, p.element_id) not in located]))


def deploy_paths(svc: Services, paths, actor: str | None = None, comment: str = "") -> list[Deployed]:
    """Deploy files and directories (recursively *.bpmn, *.dmn) as one bundle."""
    return deploy_files(svc, read_paths(paths), actor, comment)


def read_paths(paths) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for raw in paths:
        path = Path(raw)
        found = sorted(p for p in path.rglob("*") if p.suffix in DEPLOYABLE_SUFFIXES) if path.is_dir() else [path]
        for p in found:
            if p.name in files:  # SpiffWorkflow identifies documents by file name
                raise InvalidInput(msg("Hay dos archivos llamados «%(name)s» en la misma publicación.", name=p.name),
                                   errors=[{"field": "paths", "message": str(p)}])
            files[p.name] = p.read_bytes()
    return files


def content_hash(spec_json: str, files: dict[str, str], forms_json: str | None = None) -> str:
    h = hashlib.sha256(spec_json.encode())
    for name in sorted(files):
        h.update(b"\0" + name.encode() + b"\0" + files[name].encode())
    if forms_json is not None:  # canonical (sorted keys): the stored snapshot keeps each form's field order
        h.update(b"\0forms\0" + orjson.dumps(orjson.loads(forms_json), option=orjson.OPT_SORT_KEYS))
    return h.hexdigest()


def form_keys(proc) -> set[str]:
    """The forms a parsed process's tasks and start events name (property `form`), its call activities' too."""
    specs = [proc.spec, *proc.subprocess_specs.values()]
    return {key for spec in specs for task_spec in spec.task_specs.values()
            if (key := ((getattr(task_spec, "extensions", None) or {}).get("properties") or {}).get("form"))}


def _forms_snapshot(svc: Services, proc, edited: dict[str, dict]) -> str | None:
    """The version's forms as JSON ({key: schema}, each form's properties in its own order: the pages draw the
    fields in it); None when the services have no forms. A form that does not exist is left to the office rules
    (the draft's problems): the version keeps the ones that do. A form in `edited` is kept as edited."""
    if svc.forms is None:
        return None
    known, used = set(svc.forms.keys()), form_keys(proc)
    schemas = svc.forms.snapshot(k for k in used if k in known and k not in edited)
    schemas |= {k: edited[k] for k in used if k in edited}
    return orjson.dumps(dict(sorted(schemas.items()))).decode()


def _files_used(proc, texts: dict[str, str]) -> dict[str, str]:
    """The documents a process was parsed from (its own and its called processes'), as text."""
    main = getattr(proc.spec, "file", None)
    called = {getattr(s, "file", None) for s in proc.subprocess_specs.values()} - {main}
    # The process's own file first: viewers draw the first document.
    used = {n: texts[n] for n in [main, *sorted(n for n in called if n)] if n in texts}
    # Keep the bundle's DMN sources with the version, for download and display.
    used |= {n: t for n, t in texts.items() if n.endswith(".dmn")}
    return used


def list_versions(svc: Services, process_key: str | None = None) -> list[dict]:
    """Versions with the number of cases still open on each."""
    c = models.cases
    open_cases = (select(func.count()).where(c.c.process_version_id == _versions.c.id,
                                             c.c.state.in_(["running", "error", "suspended"]))
                  .scalar_subquery())
    q = select(_versions.c.id, _versions.c.process_key, _versions.c.version, _versions.c.name,
               _versions.c.created_at, _versions.c.created_by, _versions.c.comment,
               open_cases.label("open_cases"))
    if process_key:
        q = q.where(_versions.c.process_key == process_key)
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(q.order_by(_versions.c.process_key, _versions.c.version))
                .mappings()]


def version_diagram(svc: Services, version_id: int) -> str:
    """The BPMN XML of a process version's own file (the first stored document)."""
    with svc.uow(write=False) as uow:
        text = uow.conn.execute(select(_versions.c.files_json).where(_versions.c.id == version_id)).scalar()
    if text is None:
        raise ProcessNotFound(msg("La versión de procedimiento %(version_id)s no existe.", version_id=version_id))
    files = orjson.loads(text)
    return next(iter(files.values()))
