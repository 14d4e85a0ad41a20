"""A case exported for audit (engine/audit/export.py) verifies offline with the public key alone
(engine/audit/verify_export.py, `expediente audit verify-export`), and fails after any byte of it changes.

The export runs on SQLite and PostgreSQL; the tampering tests work on one export of a licence case (SQLite) made
once for the module, each rebuilding the ZIP with one thing changed."""
from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from sqlalchemy import select

from engine.audit import bundle
from engine.audit.checkpoints import create_checkpoint
from engine.audit.export import export_case
from engine.audit.verify_export import verify_export
from engine.cli.main import main
from engine.errors import Conflict, Forbidden
from engine.integrity import canonical, keys
from engine.storage import models
from engine.usecases import cases
from engine.usecases.attachments import AttachmentStore, add_attachment
from engine.usecases.deploy import deploy_files
from tests.conftest import FakeClock, _sqlite_url, bpmn_fixture, make_services, principal_for
from tests.processes import licencia_walk as lw
from tests.processes.driver import office

AUDITOR = principal_for("auditor1", role="auditor")
CLERK = principal_for("oficial1", role="clerk", groups=("ventanilla",))


def png(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, format="PNG")
    return out.getvalue()


def licence_case(svc, store: AttachmentStore) -> int:
    """A licence request received, reviewed, with its opinion requests issued (two numbered oficios, recorded by
    document_issued events; the filing receipt, recorded by none) and two attachments."""
    walk = lw.to_opinions(lw.start(svc, at=lw.local(2026, 3, 30, 9)))
    svc.clock.advance(minutes=5)
    add_attachment(svc, principal_for("oficial1"), store, walk.id, "plano del lugar.png", io.BytesIO(png("red")))
    add_attachment(svc, principal_for("oficial1"), store, walk.id, "../../etc/aval.png", io.BytesIO(png("blue")))
    lw.request_opinions(walk, lw.local(2026, 3, 31))
    return walk.id


def export_bytes(svc, store, case_id, principal=AUDITOR) -> tuple[bytes, dict]:
    out = io.BytesIO()
    result = export_case(svc, principal, store, case_id, out)
    return out.getvalue(), result


class Unseekable(io.RawIOBase):
    """A write-only stream that cannot tell or seek (an HTTP response, a pipe)."""

    def __init__(self):
        self.chunks = []

    def writable(self):
        return True

    def write(self, data):
        self.chunks.append(bytes(data))
        return len(data)

    def seekable(self):
        return False

    def tell(self):
        raise OSError("unseekable")


# -- the export on both backends --------------------------------------------------------------------------------

@pytest.fixture
def office_svc(database_url, clock, tmp_path):
    svc = office(database_url, clock, audit_key=str(tmp_path / "audit.pem"))
    yield svc
    svc.db.dispose()


def test_an_exported_case_verifies_offline_with_the_public_key_alone(office_svc, tmp_path, monkeypatch):
    svc = office_svc
    store = AttachmentStore(tmp_path / "attachments")
    case_id = licence_case(svc, store)
    stream, seen = Unseekable(), []
    result = export_case(svc, AUDITOR, store, case_id, stream, progress=lambda done, total: seen.append((done, total)))
    data = b"".join(stream.chunks)
    assert result["bytes"] == len(data) and result["sha256"] == hashlib.sha256(data).hexdigest()
    assert (result["documents"], result["attachments"]) == (3, 2)
    with svc.uow(write=False) as uow:
        events = uow.conn.execute(select(models.events.c.seq).where(models.events.c.case_id == case_id)).all()
        covering = uow.conn.execute(select(models.audit_checkpoints.c.tree_size)).scalars().all()
        logged = uow.conn.execute(select(models.access_log)).mappings().all()
    assert result["events"] == len(events)
    assert covering and max(covering) >= max(seq for (seq,) in events)  # a checkpoint was signed for it
    assert [(r["actor"], r["action"]) for r in logged] == [("auditor1", "audit.export")]
    assert orjson.loads(logged[0]["detail_json"])["sha256"] == result["sha256"]
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert [done for done, _ in seen] == list(range(1, len(names) + 1)) and {t for _, t in seen} == {len(names)}
    assert {bundle.EVENTS, bundle.CONSISTENCY, bundle.INDEX_JSON, bundle.INDEX_CSV, bundle.INDEX_PDF, bundle.README,
            bundle.MANIFEST, bundle.SIGNATURE, "diagrams/licencia-v1/licencia.bpmn"} <= set(names)
    assert sorted(n for n in names if n.startswith(bundle.ATTACHMENTS)) == \
        ["attachments/1-plano_del_lugar.png", "attachments/2-aval.png"]

    # Elsewhere, with no database at all: the ZIP and the public key's one line.
    public = keys.public_text(keys.office_key(svc.settings).public_key())
    copy = tmp_path / "elsewhere" / result["filename"]
    copy.parent.mkdir()
    copy.write_bytes(data)
    monkeypatch.setenv("EXPEDIENTE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    monkeypatch.setenv("EXPEDIENTE_AUDIT_KEY", str(tmp_path / "no-such-key.pem"))
    run = CliRunner().invoke(main, ["audit", "verify-export", str(copy), "--public-key", public])
    assert run.exit_code == 0, run.output
    assert f"{result['events']} eventos" in run.output and "3 documentos, 2 anexos" in run.output
    assert "VERIFICADO" in run.output
    assert not (tmp_path / "no-such-key.pem").exists()


def test_only_the_auditor_and_admin_export(office_svc, tmp_path):
    store = AttachmentStore(tmp_path / "attachments")
    case_id = licence_case(office_svc, store)
    with pytest.raises(Forbidden):
        export_case(office_svc, CLERK, store, case_id, io.BytesIO())


def test_an_export_refuses_a_history_changed_after_its_checkpoint(database_url, clock, tmp_path):
    svc = make_services(database_url, clock, audit_key=str(tmp_path / "audit.pem"))
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="test")
    case_id = cases.start_case(svc, principal_for("oficial1"), "five_step", {"amount": 10}).id
    create_checkpoint(svc, "test")
    with svc.uow() as uow:  # whoever can drop the trigger can edit a row
        if uow.conn.dialect.name == "sqlite":
            uow.conn.exec_driver_sql("DROP TRIGGER events_no_update")
        else:
            uow.conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER events_append_only")
        uow.conn.execute(models.events.update().where(models.events.c.seq == 1).values(leaf_hash="00" * 32))
        uow.commit()
    out = io.BytesIO()
    with pytest.raises(Conflict):
        export_case(svc, AUDITOR, AttachmentStore(tmp_path / "attachments"), case_id, out)
    assert out.getvalue() == b""
    with svc.uow(write=False) as uow:
        assert uow.conn.execute(select(models.access_log)).first() is None
    svc.db.dispose()


def test_an_attachment_file_missing_on_disk_refuses_the_export_before_any_byte(database_url, clock, tmp_path):
    svc = make_services(database_url, clock, audit_key=str(tmp_path / "audit.pem"))
    deploy_files(svc, {"five_step.bpmn": bpmn_fixture("five_step.bpmn")}, actor="test")
    case_id = cases.start_case(svc, principal_for("oficial1"), "five_step", {"amount": 10}).id
    store = AttachmentStore(tmp_path / "attachments")
    added = add_attachment(svc, principal_for("oficial1"), store, case_id, "plano.png", io.BytesIO(png("red")))
    with svc.uow(write=False) as uow:
        stored = uow.conn.execute(select(models.attachments.c.stored_name)
                                  .where(models.attachments.c.id == added["id"])).scalar_one()
    store.path(stored).unlink()
    out = io.BytesIO()
    with pytest.raises(Conflict, match="plano.png"):
        export_case(svc, AUDITOR, store, case_id, out)
    assert out.getvalue() == b""
    svc.db.dispose()


# -- tampering, offline -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def exported(sqlite_template, tmp_path_factory):
    """(ZIP bytes, the office's private key) of one exported licence case."""
    tmp = tmp_path_factory.mktemp("export")
    svc = office(_sqlite_url(sqlite_template, tmp), FakeClock(), audit_key=str(tmp / "audit.pem"))
    store = AttachmentStore(tmp / "attachments")
    data, _ = export_bytes(svc, store, licence_case(svc, store))
    private = keys.office_key(svc.settings)
    svc.db.dispose()
    return data, private


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return out.getvalue()


def resigned(files: dict[str, bytes], private) -> bytes:
    """The ZIP with its manifest recomputed for the files as they are now, signed with `private`."""
    manifest = orjson.loads(files[bundle.MANIFEST])
    manifest["files"] = {n: {"sha256": hashlib.sha256(c).hexdigest(), "bytes": len(c)}
                         for n, c in files.items() if n not in (bundle.MANIFEST, bundle.SIGNATURE)}
    raw = orjson.dumps(manifest)
    return rezip({**files, bundle.MANIFEST: raw, bundle.SIGNATURE: base64.b64encode(private.sign(raw))})


def flip(content: bytes, at: int | None = None) -> bytes:
    at = len(content) // 2 if at is None else at
    return content[:at] + bytes([content[at] ^ 0x01]) + content[at + 1:]


def check(data: bytes, private, **kwargs):
    return verify_export(io.BytesIO(data), keys.public_text(private.public_key()), **kwargs)


def test_the_untouched_export_verifies(exported):
    data, private = exported
    report = check(data, private)
    assert report.ok, report.problem
    assert (report.documents, report.attachments, report.checkpoints) == (3, 2, 1)
    assert report.unrecorded == ["documents/documento-1.pdf"]  # the receipt: no event records it
    assert report.events == len(orjson.loads(members(data)[bundle.EVENTS])["events"]) > 5


def test_a_rezipped_export_with_nothing_changed_still_verifies(exported):
    data, private = exported
    assert check(rezip(members(data)), private).ok


@pytest.mark.parametrize("pattern", [
    bundle.EVENTS, "checkpoints/0001.txt", bundle.CONSISTENCY, bundle.INDEX_JSON, bundle.INDEX_CSV, bundle.INDEX_PDF,
    "diagrams/*", "documents/*", "attachments/*", bundle.README, bundle.MANIFEST, bundle.SIGNATURE])
def test_one_changed_byte_in_any_member_fails(exported, pattern):
    data, private = exported
    files = members(data)
    matched = fnmatch.filter(files, pattern)
    assert matched
    for name in matched:
        for at in (0, len(files[name]) // 2, len(files[name]) - 2):
            report = check(rezip({**files, name: flip(files[name], at)}), private)
            assert not report.ok, (name, at)
            assert report.file in (name, bundle.SIGNATURE, bundle.MANIFEST), (name, report.file, report.problem)


def _edited_event(files: dict[str, bytes]) -> dict[str, bytes]:
    """events.json with one byte of a task's submitted data changed (a "12" folios become "13")."""
    events = orjson.loads(files[bundle.EVENTS])
    target = next(e for e in events["events"] if e["kind"] == "task_completed")
    assert "12" in target["data_json"]
    target["data_json"] = target["data_json"].replace("12", "13", 1)
    return {**files, bundle.EVENTS: orjson.dumps(events)}


def test_an_edited_event_with_the_manifest_signed_by_another_key_fails_on_the_signature(exported):
    data, private = exported
    report = check(resigned(_edited_event(members(data)), Ed25519PrivateKey.generate()), private)
    assert not report.ok and report.file == bundle.SIGNATURE


def test_an_edited_event_with_the_manifest_recomputed_but_unsigned_fails(exported):
    data, private = exported
    files = members(data)
    forged = members(resigned(_edited_event(files), Ed25519PrivateKey.generate()))
    forged[bundle.SIGNATURE] = files[bundle.SIGNATURE]  # the old signature, over the old manifest
    assert check(rezip(forged), private).file == bundle.SIGNATURE
    del forged[bundle.SIGNATURE]
    report = check(rezip(forged), private)
    assert not report.ok and report.file == bundle.SIGNATURE


def test_an_edited_event_fails_on_its_merkle_proof_even_with_the_manifest_signed_by_the_office(exported):
    """Whoever holds the office key (or steals it) still cannot change a checkpointed event."""
    data, private = exported
    files = _edited_event(members(data))
    report = check(resigned(files, private), private)
    assert not report.ok and report.file == bundle.EVENTS and report.seq is not None
    assert "hash" in report.problem
    # ... and with its leaf hash and chain recomputed too, the inclusion proof breaks.
    events = orjson.loads(files[bundle.EVENTS])
    chain = canonical.GENESIS
    for e in events["events"]:
        leaf = canonical.leaf_hash(canonical.entry(*(e[n] for n in canonical.FIELDS)))
        chain = canonical.case_link(chain, leaf)
        e["leaf_hash"], e["case_chain"] = leaf.hex(), chain.hex()
    report = check(resigned({**files, bundle.EVENTS: orjson.dumps(events)}, private), private)
    assert not report.ok and "inclusión" in report.problem


def test_a_missing_event_is_a_gap_in_the_case_sequence(exported):
    data, private = exported
    files = members(data)
    events = orjson.loads(files[bundle.EVENTS])
    removed = events["events"].pop(2)
    report = check(resigned({**files, bundle.EVENTS: orjson.dumps(events)}, private), private)
    assert not report.ok and report.case_seq == removed["case_seq"] and "Falta un evento" in report.problem


def test_the_wrong_public_key_fails(exported):
    data, _ = exported
    report = check(data, Ed25519PrivateKey.generate())
    assert not report.ok and report.file == bundle.SIGNATURE


def test_an_edited_checkpoint_note_fails_on_its_signature(exported):
    data, private = exported
    files = members(data)
    note = files["checkpoints/0001.txt"].decode()
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    report = check(resigned({**files, "checkpoints/0001.txt": "\n".join(lines).encode()}, private), private)
    assert not report.ok and report.file == "checkpoints/0001.txt"


def test_a_document_swapped_for_another_fails_against_the_history(exported):
    data, private = exported
    files = members(data)
    index = orjson.loads(files[bundle.INDEX_JSON])
    oficio = next(d for d in index["documents"] if d["kind"] == "oficio")
    forged = b"%PDF-1.7 forged"
    oficio["sha256"] = hashlib.sha256(forged).hexdigest()
    report = check(resigned({**files, oficio["file"]: forged, bundle.INDEX_JSON: orjson.dumps(index)}, private),
                   private)
    assert not report.ok and report.file == oficio["file"] and "historial" in report.problem


@pytest.mark.parametrize("hostile", ["not_a_zip", "traversal", "absolute", "duplicate", "bomb", "no_manifest",
                                     "bad_json", "extra_file", "missing_file", "bad_proof", "truncated"])
def test_hostile_zips_fail_cleanly(exported, hostile):
    data, private = exported
    files = members(data)
    kwargs = {}
    if hostile == "not_a_zip":
        forged = b"PK\x03\x04 nothing else"
    elif hostile in ("traversal", "absolute"):
        forged = resigned({**files, ("../../evil.txt" if hostile == "traversal" else "/etc/evil.txt"): b"x"},
                          private)
    elif hostile == "duplicate":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for name, content in files.items():
                z.writestr(name, content)
            with pytest.warns(UserWarning):
                z.writestr(bundle.EVENTS, b"{}")
        forged = out.getvalue()
    elif hostile == "bomb":
        forged = resigned({**files, "attachments/9-zeros.bin": bytes(64 << 20)}, private)
        kwargs["max_bytes"] = 16 << 20
    elif hostile == "no_manifest":
        forged = rezip({n: c for n, c in files.items() if n != bundle.MANIFEST})
    elif hostile == "bad_json":
        forged = resigned({**files, bundle.EVENTS: b'{"events": [1, 2'}, private)
    elif hostile == "extra_file":
        forged = rezip({**files, "documents/extra.pdf": b"%PDF"})
    elif hostile == "missing_file":
        forged = rezip({n: c for n, c in files.items() if not n.startswith(bundle.ATTACHMENTS)})
    elif hostile == "bad_proof":
        events = orjson.loads(files[bundle.EVENTS])
        events["events"][0]["inclusion_proof"] = ["zz", 3]
        forged = resigned({**files, bundle.EVENTS: orjson.dumps(events)}, private)
    else:
        forged = data[: len(data) // 2]
    report = check(forged, private, **kwargs)
    assert not report.ok and report.problem


def _shapes(value, path=()):
    """Every (path, container) place in a JSON value, to put a value of the wrong shape there."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + (key,), value, key
            yield from _shapes(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value[:3]):
            yield path + (i,), value, i
            yield from _shapes(item, path + (i,))


def _checked(member: str, path: tuple) -> bool:
    """Whether verify_export checks the value at `path` of `member` (the rest is information for people: the
    event's row id and global chain, who exported and when, the index's descriptions, covered by the manifest's
    signature alone)."""
    if member == bundle.EVENTS:
        return path[-1] not in ("id", "chain")
    if member == bundle.MANIFEST:
        return path[0] not in ("exported_at", "exported_by")
    if member == bundle.INDEX_JSON:
        return path in (("case",), ("case", "number"), ("documents",), ("attachments",)) or \
            (path[0] in ("documents", "attachments") and (len(path) == 2 or path[-1] in ("file", "sha256")))
    return True


@pytest.mark.parametrize("member", [bundle.EVENTS, bundle.INDEX_JSON, bundle.CONSISTENCY, bundle.MANIFEST])
def test_a_value_of_the_wrong_shape_anywhere_in_the_json_fails_cleanly(exported, member):
    """Signed with the office key (so the shape is what gets checked): never an exception, and never a pass where
    the value is one the check covers."""
    data, private = exported
    files = members(data)
    places = len(list(_shapes(orjson.loads(files[member]))))
    for n in range(0, places, max(1, places // 60)):
        for wrong in (None, [1], {"a": 1}, "x", -1):
            document = orjson.loads(files[member])
            path, container, key = list(_shapes(document))[n]
            if container[key] == wrong:
                continue
            container[key] = wrong
            forged = {**files, member: orjson.dumps(document)}
            if member == bundle.MANIFEST:
                raw = forged[member]
                forged[bundle.SIGNATURE] = base64.b64encode(private.sign(raw))
                report = check(rezip(forged), private)
            else:
                report = check(resigned(forged, private), private)
            assert report.ok or report.problem
            if _checked(member, path):
                assert not report.ok and report.problem, (member, path, wrong)


def test_the_cli_exports_by_number_and_verifies_with_the_office_key(tmp_path, monkeypatch, sqlite_template):
    url = _sqlite_url(sqlite_template, tmp_path)
    key = tmp_path / "audit.pem"
    svc = office(url, FakeClock(), audit_key=str(key))
    store = AttachmentStore(tmp_path / "attachments")
    case_id = licence_case(svc, store)
    with svc.uow(write=False) as uow:
        number = uow.conn.execute(select(models.cases.c.number).where(models.cases.c.id == case_id)).scalar_one()
    svc.db.dispose()
    monkeypatch.setenv("EXPEDIENTE_DATABASE_URL", url)
    monkeypatch.setenv("EXPEDIENTE_AUDIT_KEY", str(key))
    monkeypatch.setenv("EXPEDIENTE_ATTACHMENTS_DIR", str(tmp_path / "attachments"))
    target = tmp_path / "out.zip"
    run = CliRunner().invoke(main, ["audit", "export", number, "-o", str(target)])
    assert run.exit_code == 0, run.output
    assert target.exists() and not Path(f"{target}.part").exists()
    run = CliRunner().invoke(main, ["audit", "verify-export", str(target)])
    assert run.exit_code == 0 and "VERIFICADO" in run.output, run.output
    shutil.copy(target, tmp_path / "bad.zip")
    files = members((tmp_path / "bad.zip").read_bytes())
    (tmp_path / "bad.zip").write_bytes(rezip({**files, bundle.README: b"otra cosa"}))
    run = CliRunner().invoke(main, ["audit", "verify-export", str(tmp_path / "bad.zip")])
    assert run.exit_code == 1 and bundle.README in run.output
