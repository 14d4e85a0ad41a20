"""Drafts: a supervisor edits a process diagram, sees its problems on every save, and publishes it as a version."""
from __future__ import annotations

from typing import TYPE_CHECKING

import re
from pathlib import Path
from typing import Mapping
from xml.sax.saxutils import quoteattr

import orjson
from sqlalchemy import delete, insert, select, update

from engine.accounts.permissions import Principal, allowed, use_case
from engine.documents import kinds
from engine.usecases import deploy
from engine.usecases.office_rules import office_rules
from engine.usecases.processes import list_processes, problem_report, version_id
from engine.storage import models
from engine.errors import Conflict, InvalidInput, NotFound, Problem, ProcessNotFound, SpecInvalid
from engine.messages import msg
from engine.language.diff import diff_xml
from engine.language.specs import MAX_DOCUMENT_BYTES, elements_of, parse_bundle

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

_drafts = models.process_drafts
_versions = models.process_versions
_decisions = models.draft_decisions  # the draft's edited DMN files (engine.usecases.decisions)
_draft_forms = models.draft_forms  # the draft's edited forms (engine.usecases.draft_forms)
TEMPLATE = Path(__file__).resolve().parent / "templates" / "new_process.bpmn"
# A process id is an XML id and a URL segment: letters, digits, '_', '-', '.'; not starting with a digit.
PROCESS_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,99}")


class DraftNotFound(NotFound):
    code = "draft_not_found"


def validate_key(process_key: str) -> None:
    """Refuse (InvalidInput) a procedure identifier that cannot be a BPMN process id and a URL segment."""
    if not PROCESS_KEY.fullmatch(process_key or ""):
        raise InvalidInput(msg("El identificador del procedimiento no es válido."),
                           errors=[{"field": "process_key", "message": "letras, dígitos, '_', '-' o '.'; "
                                                                       "no empieza con dígito; hasta 100"}])


@use_case("process.draft")
def create_draft(svc: Services, principal: Principal, process_key: str, name: str = "") -> dict:
    """Start a draft: a copy of the latest version, or the template for a new process; Conflict if one exists."""
    validate_key(process_key)
    latest = _latest(svc, process_key)
    if latest is not None:
        xml = deploy.version_diagram(svc, latest["id"])
    else:
        xml = TEMPLATE.read_text(encoding="utf-8").replace("{key}", process_key) \
            .replace("{name}", quoteattr(" ".join(name.split()) or process_key))
    with svc.uow() as uow:
        if uow.conn.execute(select(_drafts.c.id).where(_drafts.c.process_key == process_key)).first():
            raise Conflict(msg("Ya existe un borrador de «%(process_key)s».", process_key=process_key),
                           process_key=process_key)
        uow.conn.execute(insert(_drafts).values(process_key=process_key, xml=xml, updated_by=principal.username,
                                                updated_at=svc.clock(), revision=1,
                                                base_version=latest["version"] if latest else None))
        uow.commit()
    return _with_problems(svc, process_key)


@use_case("process.draft")
def save_draft(svc: Services, principal: Principal, process_key: str, xml: str, base_version: int | None = None,
               revision: int | None = None) -> dict:
    """Store the draft's XML (creating the draft if needed) and return it with its problems.

    `revision` is the draft revision the editor started from (0: it expected no draft). When it is given and the
    stored draft is not at that revision, somebody else saved (or published, or discarded) meanwhile: Conflict,
    and nothing is written. Without it the save is unconditional (API clients that mean to overwrite).
    """
    validate_key(process_key)
    if len(xml.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise InvalidInput(msg("El diagrama es demasiado grande (máximo 2 MiB)."),
                           errors=[{"field": "xml", "message": "más de 2 MiB"}])
    latest = _latest(svc, process_key)
    with svc.uow() as uow:
        row = uow.conn.execute(select(_drafts.c.base_version, _drafts.c.revision, _drafts.c.updated_by)
                               .where(_drafts.c.process_key == process_key)).mappings().first()
        if revision is not None:
            _check_revision(process_key, row, revision)
        if base_version is None:  # keep what the draft started from; a new draft starts from the latest
            base_version = row["base_version"] if row else (latest["version"] if latest else None)
        values = dict(xml=xml, updated_by=principal.username, updated_at=svc.clock(), base_version=base_version)
        if row:
            done = uow.conn.execute(update(_drafts).where(_drafts.c.process_key == process_key,
                                                          _drafts.c.revision == row["revision"])
                                    .values(**values, revision=row["revision"] + 1)).rowcount
            if done != 1:  # a concurrent save between our read and write (PostgreSQL, READ COMMITTED)
                raise Conflict(msg("Otra persona guardó el borrador de «%(process_key)s» al mismo tiempo; "
                                   "vuelva a abrirlo.", process_key=process_key), process_key=process_key)
        else:
            uow.conn.execute(insert(_drafts).values(process_key=process_key, revision=1, **values))
        uow.commit()
    return _with_problems(svc, process_key)


def _check_revision(process_key: str, row: Mapping | None, expected: int) -> None:
    """Conflict unless the stored draft (a mapping with revision and updated_by, or None) is at revision
    `expected` (0: no draft at all)."""
    if row is None and expected > 0:
        raise Conflict(msg("El borrador de «%(process_key)s» ya no existe: se publicó o se descartó después de "
                           "que usted lo abrió. Descargue sus cambios si los necesita y vuelva a abrir el "
                           "procedimiento.", process_key=process_key),
                       process_key=process_key, revision=None)
    if row is not None and row["revision"] != expected:
        raise Conflict(msg("%(who)s guardó el borrador de «%(process_key)s» después de que usted lo abrió. Para no "
                           "perder ningún cambio, descargue los suyos y vuelva a abrir el borrador.",
                           who=row["updated_by"] or "—", process_key=process_key),
                       process_key=process_key, revision=row["revision"], updated_by=row["updated_by"])


@use_case("process.draft")
def get_draft(svc: Services, principal: Principal, process_key: str) -> dict:
    """The draft with its XML and the problems found in it now."""
    return _with_problems(svc, process_key)


def _with_problems(svc: Services, process_key: str) -> dict:
    draft = _row(svc, process_key)
    return {**draft, **problem_report(check_draft(svc, process_key, draft["xml"]))}


@use_case("process.draft")
def draft_diagram(svc: Services, principal: Principal, process_key: str) -> str:
    """The draft's BPMN XML, to download."""
    return _row(svc, process_key)["xml"]


def _has_draft(svc: Services, process_key: str) -> bool:
    with svc.uow(write=False) as uow:
        return uow.conn.execute(select(_drafts.c.id).where(_drafts.c.process_key == process_key)).first() is not None


@use_case("process.draft")
def list_drafts(svc: Services, principal: Principal) -> list[dict]:
    """Every draft, without its XML."""
    with svc.uow(write=False) as uow:
        rows = uow.conn.execute(select(_drafts.c.process_key, _drafts.c.updated_by, _drafts.c.updated_at,
                                       _drafts.c.base_version, _drafts.c.revision).order_by(_drafts.c.process_key)).mappings()
        return [dict(r) for r in rows]


@use_case("process.draft")
def discard_draft(svc: Services, principal: Principal, process_key: str) -> None:
    """Delete a draft; the published versions stay as they are."""
    with svc.uow() as uow:
        if uow.conn.execute(delete(_drafts).where(_drafts.c.process_key == process_key)).rowcount == 0:
            raise DraftNotFound(msg("No hay borrador de «%(process_key)s».", process_key=process_key),
                            process_key=process_key)
        uow.conn.execute(delete(_decisions).where(_decisions.c.process_key == process_key))
        uow.conn.execute(delete(_draft_forms).where(_draft_forms.c.process_key == process_key))  # its edited forms
        uow.commit()


@use_case("process.deploy")
def publish_draft(svc: Services, principal: Principal, process_key: str, comment: str = "",
                  revision: int | None = None) -> deploy.Deployed:
    """Deploy the draft as the process's next version and delete it; SpecInvalid if it has any error.

    With `revision`, only that revision of the draft is published (Conflict if somebody saved since).
    """
    draft = _row(svc, process_key)
    if revision is not None:
        _check_revision(process_key, draft, revision)
    latest = _latest(svc, process_key)
    if (latest["version"] if latest else None) != draft["base_version"]:
        raise Conflict(msg("Se publicó la versión %(version)s de «%(process_key)s» después de abrir este borrador: "
                           "revise los cambios y guarde el borrador sobre esa versión.",
                           version=latest["version"] if latest else "-", process_key=process_key),
                       process_key=process_key, latest_version=latest["version"] if latest else None)
    files = bundle_for(svc, process_key, draft["xml"])
    errors = [p for p in check_draft(svc, process_key, draft["xml"], files) if p.severity == "error"]
    if errors:
        raise SpecInvalid(errors)
    [deployed] = deploy.deploy_files(svc, files, actor=principal.username, comment=comment, only=frozenset({process_key}),
                                     forms=_edited_forms(svc, process_key))  # the draft's forms pinned in the version
    with svc.uow() as uow:  # a save made meanwhile keeps its (newer) draft, and its decision tables
        if uow.conn.execute(delete(_drafts).where(_drafts.c.process_key == process_key,
                                                  _drafts.c.revision == draft["revision"])).rowcount:
            uow.conn.execute(delete(_decisions).where(_decisions.c.process_key == process_key))
            uow.conn.execute(delete(_draft_forms).where(_draft_forms.c.process_key == process_key))
        uow.commit()
    return deployed


def draft_file_name(svc: Services, process_key: str) -> str:
    """The name the process's own file was deployed under (kept across versions), else '<key>.bpmn'."""
    latest = _latest(svc, process_key)
    return next(iter(orjson.loads(latest["files_json"])), f"{process_key}.bpmn") if latest else f"{process_key}.bpmn"


def bundle_for(svc: Services, process_key: str, xml: str) -> dict[str, bytes]:
    """The draft plus the files it needs: the decision tables edited in the draft, its version's other DMN tables
    and the called processes' current files."""
    return _bundle_and_elements(svc, process_key, xml)[0]


def _bundle_and_elements(svc: Services, process_key: str, xml: str) -> tuple[dict[str, bytes], dict | None]:
    """bundle_for's files, and the draft's elements it read to find them (None if it cannot be read)."""
    own = draft_file_name(svc, process_key)
    files = {own: xml.encode("utf-8", "surrogatepass")}
    with svc.uow(write=False) as uow:  # edited tables replace the version's (and a called process's) same file
        files.update((r.file_name, r.xml.encode("utf-8", "surrogatepass")) for r in uow.conn.execute(
            select(_decisions.c.file_name, _decisions.c.xml).where(_decisions.c.process_key == process_key)
            .order_by(_decisions.c.file_name)))
    try:
        elements = elements_of(xml, own)
    except SpecInvalid:
        return files, None  # parse_bundle will report why
    called = {e["values"].get("attribute:calledElement") for e in elements.values() if e["type"] == "callActivity"}
    stored = [] if (latest := _latest(svc, process_key)) is None else \
        [(n, t) for n, t in orjson.loads(latest["files_json"]).items() if n.endswith(".dmn")]
    for key in sorted(k for k in called if k and k != process_key):
        version = _latest(svc, key)
        if version is not None:
            stored.extend(orjson.loads(version["files_json"]).items())
    for name, text in stored:
        files.setdefault(name, text.encode("utf-8"))
    return files, elements


def check_draft(svc: Services, process_key: str, xml: str, files: dict[str, bytes] | None = None) -> list[Problem]:
    """The parser's and lint's problems, plus the office's own rules: lanes mapped to groups, forms that exist."""
    elements = None  # read once per save: a big diagram takes a while to walk
    if files is None:
        files, elements = _bundle_and_elements(svc, process_key, xml)
    own = next(iter(files))
    try:
        problems = list(parse_bundle(files).warnings)
    except SpecInvalid as exc:
        problems = list(exc.problems)
    if elements is None:
        try:
            elements = elements_of(xml, own)
        except SpecInvalid:
            return problems
    problems += _office_rules(svc, process_key, own, elements)
    return list(dict.fromkeys(problems))


def _office_rules(svc: Services, process_key: str, file: str, elements: dict[str, dict]) -> list[Problem]:
    problems = []
    processes = {i: e for i, e in elements.items() if e["type"] == "process"}
    if process_key not in processes:
        first = next(iter(processes), None)
        problems.append(Problem(file, msg("El diagrama no tiene ningún proceso con id «%(process_key)s»: el id del "
                                          "proceso ejecutable debe ser el identificador del procedimiento.",
                                          process_key=process_key), first))
    return problems + office_rules(svc, file, elements, [process_key])


def _latest(svc: Services, process_key: str) -> dict | None:
    with svc.uow(write=False) as uow:
        row = uow.conn.execute(select(_versions.c.id, _versions.c.version, _versions.c.files_json)
                               .where(_versions.c.process_key == process_key)
                               .order_by(_versions.c.version.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def _edited_forms(svc: Services, process_key: str) -> dict[str, dict]:
    """The forms edited within the draft ({form key: JSON Schema}; engine.usecases.draft_forms keeps them)."""
    with svc.uow(write=False) as uow:
        rows = uow.conn.execute(select(_draft_forms.c.form_key, _draft_forms.c.schema_json)
                                .where(_draft_forms.c.process_key == process_key))
        return {r.form_key: orjson.loads(r.schema_json) for r in rows}


def get_row(svc: Services, process_key: str) -> dict:
    """Unchecked: the draft's row (DraftNotFound without one), for the use cases of its parts (its forms)."""
    return _row(svc, process_key)


def _row(svc: Services, process_key: str) -> dict:
    with svc.uow(write=False) as uow:
        row = uow.conn.execute(select(_drafts.c.process_key, _drafts.c.xml, _drafts.c.updated_by,
                                      _drafts.c.updated_at, _drafts.c.base_version, _drafts.c.revision)
                               .where(_drafts.c.process_key == process_key)).mappings().first()
    if row is None:
        raise DraftNotFound(msg("No hay borrador de «%(process_key)s».", process_key=process_key),
                            process_key=process_key)
    return dict(row)


@use_case("process.draft")
def diff_draft(svc: Services, principal: Principal, process_key: str, against: int | None = None) -> dict:
    """What the draft changes from the version it started from, or from version `against` (a version published
    after the draft was opened); everything is 'added' for a new process. ProcessNotFound for a missing version."""
    draft = _row(svc, process_key)
    old = against if against is not None else draft["base_version"]
    base = deploy.version_diagram(svc, version_id(svc, process_key, old)) if old is not None else None
    return {"process_key": process_key, "old": old, "new": None, **diff_xml(base or _EMPTY_DEFINITIONS, draft["xml"])}


_EMPTY_DEFINITIONS = '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="empty"/>'


@use_case("process.draft")
def modeler_index(svc: Services, principal: Principal) -> dict:
    """What the modeler's index shows: the published procedures and the drafts in progress."""
    return {"processes": list_processes(svc, principal), "drafts": list_drafts(svc, principal)}


@use_case("process.draft")
def modeler_editor(svc: Services, principal: Principal, process_key: str) -> dict:
    """What the editor page needs to open a procedure; ProcessNotFound if it is neither published nor drafted."""
    validate_key(process_key)
    published = {p["process_key"]: p for p in list_processes(svc, principal)}
    current, has_draft = published.get(process_key), _has_draft(svc, process_key)
    if current is None and not has_draft:
        raise ProcessNotFound(msg("No hay ningún procedimiento «%(process_key)s» publicado ni en borrador.",
                                  process_key=process_key), process_key=process_key)
    return {"process_key": process_key, "process_name": current["name"] if current else "",
            "latest_version": current["latest_version"] if current else None, "has_draft": has_draft,
            "forms": svc.forms.keys() if svc.forms is not None else [], "processes": sorted(published),
            "documents": [{"key": k.key, "title": k.title} for k in kinds.KINDS.values() if k.key != kinds.RECEIPT],
            "may_publish": allowed(principal, "process.deploy")}
