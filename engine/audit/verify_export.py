"""Check a case export (engine.audit.bundle) offline, with the office's public key alone and no database.

In order, stopping at the first failure, which the report names (file, event seq / case_seq, what):
1. the ZIP itself: readable, no encrypted member, no name that could escape a folder, no name twice, and at most
   `max_bytes` uncompressed in all (a zip bomb is refused before and while anything is inflated);
2. manifest.sig is the office key's signature of manifest.json's bytes, and every other member is listed there
   with its SHA-256 and size (and nothing listed is missing);
3. every checkpoint note's signature, their sizes in order, and the consistency proof between each pair;
4. each event: its canonical entry rebuilt from its fields gives its leaf hash, the case chain runs from GENESIS
   in case_seq order without gaps, and its inclusion proof leads to the latest checkpoint's root;
5. each document and attachment: its bytes' SHA-256 is the index's and the one its event recorded.
Anything malformed is a failure with a message, never an exception.
"""
from __future__ import annotations

import base64
import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import orjson

from engine.audit import bundle
from engine.audit.checkpoints import NoteError, verify_note
from engine.integrity import canonical, keys, merkle
from engine.messages import msg

MAX_TOTAL_BYTES = 4 << 30      # all members inflated
MAX_JSON_BYTES = 256 << 20     # one JSON member or checkpoint note read into memory
MAX_MEMBERS = 200_000
CHUNK_BYTES = 1 << 20


@dataclass
class Report:
    ok: bool = False
    problem: str | None = None
    file: str | None = None
    seq: int | None = None
    case_seq: int | None = None
    case_number: str | None = None
    key_id: str | None = None
    tree_size: int | None = None
    events: int = 0
    checkpoints: int = 0
    documents: int = 0
    attachments: int = 0
    files: int = 0
    # Documents or attachments no event of the history records (the filing receipt): checked against the signed
    # manifest and the index only.
    unrecorded: list[str] = field(default_factory=list)


class _Failure(Exception):
    def __init__(self, what: str, file: str | None = None, seq: int | None = None, case_seq: int | None = None):
        super().__init__(what)
        self.what, self.file, self.seq, self.case_seq = what, file, seq, case_seq


def verify_export(path_or_file, public_key, *, max_bytes: int = MAX_TOTAL_BYTES) -> Report:
    """Check the export at `path_or_file` (a path or a seekable binary file) with `public_key` (an
    Ed25519PublicKey, or its text: "ed25519 <base64>" or a PEM); a Report, ok only when everything holds."""
    report = Report()
    try:
        public = public_key if not isinstance(public_key, (str, bytes)) else keys.load_public(public_key)
        report.key_id = keys.key_id(public)
        with zipfile.ZipFile(path_or_file) as archive:
            _Check(archive, public, report, max_bytes).run()
        report.ok = True
    except _Failure as failure:
        report.problem, report.file = failure.what, failure.file
        report.seq, report.case_seq = failure.seq, failure.case_seq
    except keys.AuditKeyError as exc:
        report.problem = msg("La llave pública no se puede leer: %(error)s", error=str(exc))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        report.problem = msg("El archivo no es un ZIP legible: %(error)s", error=str(exc))
    except (KeyError, TypeError, AttributeError, IndexError, ValueError):  # a shape no check above foresaw
        report.problem = msg("El JSON no tiene la forma esperada")
    return report


def _safe_member_name(name: str) -> bool:
    path = PurePosixPath(name)
    return (bool(name) and "\\" not in name and "\x00" not in name and not path.is_absolute()
            and ":" not in path.parts[0] and all(part not in ("", ".", "..") for part in name.split("/")))


def _hex_list(values, what: str, file: str, **where) -> list[bytes]:
    try:
        hashes = [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError):
        raise _Failure(msg("%(what)s no es una lista de hashes hexadecimales", what=what), file, **where) from None
    if any(len(h) != 32 for h in hashes):
        raise _Failure(msg("%(what)s tiene un hash de longitud incorrecta", what=what), file, **where)
    return hashes


class _Check:
    """One verification run over an open archive (the steps of the module docstring)."""

    def __init__(self, archive: zipfile.ZipFile, public, report: Report, max_bytes: int):
        self.archive, self.public, self.report, self.budget = archive, public, report, max_bytes
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.hashes: dict[str, tuple[str, int]] = {}

    def run(self) -> None:
        self._members()
        manifest = self._manifest()
        self._hash_members(manifest)
        notes = self._checkpoints()
        recorded = self._events(notes[-1], manifest)
        self._files(recorded, manifest)

    # -- 1. the archive -----------------------------------------------------------------------------------------
    def _members(self) -> None:
        infos = self.archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise _Failure(msg("El ZIP tiene demasiados archivos (%(count)s)", count=len(infos)))
        declared = 0
        for info in infos:
            name = info.filename
            if not _safe_member_name(name):
                raise _Failure(msg("Nombre de archivo no permitido en el ZIP"), name)
            if name in self.members:
                raise _Failure(msg("El ZIP contiene dos archivos con el mismo nombre"), name)
            if info.flag_bits & 0x1:
                raise _Failure(msg("El ZIP contiene un archivo cifrado"), name)
            declared += info.file_size
            self.members[name] = info
        if declared > self.budget:
            raise _Failure(msg("El ZIP descomprimido ocuparía %(bytes)s bytes, más que el límite de %(limit)s",
                               bytes=declared, limit=self.budget))

    def _chunks(self, name: str):
        """The member's inflated bytes in chunks, charged to the budget (a size the header understates too)."""
        info = self.members.get(name)
        if info is None:
            raise _Failure(msg("Falta el archivo en el ZIP"), name)
        try:
            with self.archive.open(info) as member:
                while chunk := member.read(CHUNK_BYTES):
                    self.budget -= len(chunk)
                    if self.budget < 0:
                        raise _Failure(msg("El ZIP descomprimido excede el límite de tamaño"), name)
                    yield chunk
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise _Failure(msg("El archivo no se puede leer del ZIP: %(error)s", error=str(exc)), name) from None

    def _read(self, name: str) -> bytes:
        info = self.members.get(name)
        if info is not None and info.file_size > MAX_JSON_BYTES:
            raise _Failure(msg("El archivo es demasiado grande"), name)
        data = bytearray()
        for chunk in self._chunks(name):
            data += chunk
            if len(data) > MAX_JSON_BYTES:
                raise _Failure(msg("El archivo es demasiado grande"), name)
        data = bytes(data)
        self.hashes[name] = (hashlib.sha256(data).hexdigest(), len(data))
        return data

    def _json(self, name: str, shape: type = dict):
        try:
            value = orjson.loads(self._read(name))
        except orjson.JSONDecodeError as exc:
            raise _Failure(msg("JSON mal formado: %(error)s", error=str(exc)), name) from None
        if not isinstance(value, shape):
            raise _Failure(msg("El JSON no tiene la forma esperada"), name)
        return value

    # -- 2. the signed manifest ---------------------------------------------------------------------------------
    def _manifest(self) -> dict:
        raw = self._read(bundle.MANIFEST)
        try:
            signature = base64.b64decode(self._read(bundle.SIGNATURE).strip(), validate=True)
        except ValueError:
            raise _Failure(msg("La firma del manifiesto no es base64"), bundle.SIGNATURE) from None
        if not keys.verify(self.public, signature, raw):
            raise _Failure(msg("La firma del manifiesto no corresponde a la llave pública %(key)s",
                               key=self.report.key_id), bundle.SIGNATURE)
        manifest = self._json(bundle.MANIFEST)
        files = manifest.get("files")
        if manifest.get("format") != bundle.FORMAT or not isinstance(files, dict) \
                or manifest.get("key_id") != self.report.key_id:
            raise _Failure(msg("El manifiesto no es de un formato conocido"), bundle.MANIFEST)
        self.report.case_number = manifest.get("case_number")
        return manifest

    def _hash_members(self, manifest: dict) -> None:
        listed = manifest["files"]
        for name in self.members:
            if name not in listed and name not in (bundle.MANIFEST, bundle.SIGNATURE):
                raise _Failure(msg("El archivo no figura en el manifiesto"), name)
        for name, expected in sorted(listed.items()):
            if name not in self.hashes:
                digest, size = hashlib.sha256(), 0
                for chunk in self._chunks(name):
                    digest.update(chunk)
                    size += len(chunk)
                self.hashes[name] = (digest.hexdigest(), size)
            if not isinstance(expected, dict) or [expected.get("sha256"), expected.get("bytes")] != \
                    list(self.hashes[name]):
                raise _Failure(msg("El contenido del archivo no coincide con su SHA-256 en el manifiesto"), name)
        self.report.files = len(listed)

    # -- 3. checkpoints -----------------------------------------------------------------------------------------
    def _checkpoints(self):
        data = self._json(bundle.CONSISTENCY)
        names, proofs = data.get("checkpoints"), data.get("proofs")
        if not isinstance(names, list) or not names or not isinstance(proofs, list) \
                or len(proofs) != len(names) - 1:
            raise _Failure(msg("La lista de puntos de control o de pruebas de consistencia está incompleta"),
                           bundle.CONSISTENCY)
        notes = []
        for name in names:
            if not isinstance(name, str) or not name.startswith(bundle.CHECKPOINTS):
                raise _Failure(msg("Nombre de punto de control no válido"), bundle.CONSISTENCY)
            try:
                notes.append(verify_note(self._read(name).decode("utf-8"), self.public))
            except (NoteError, UnicodeDecodeError) as exc:
                raise _Failure(msg("Punto de control no válido: %(error)s", error=str(exc)), name) from None
        for old, new, proof, name in zip(notes, notes[1:], proofs, names[1:]):
            if not isinstance(proof, dict) or (proof.get("old_size"), proof.get("new_size")) != \
                    (old.tree_size, new.tree_size):
                raise _Failure(msg("La prueba de consistencia no corresponde a los puntos de control"),
                               bundle.CONSISTENCY)
            path = _hex_list(proof.get("proof"), msg("La prueba de consistencia"), bundle.CONSISTENCY)
            try:
                merkle.verify_consistency(old.tree_size, new.tree_size, old.root, new.root, path)
            except merkle.ProofError as exc:
                raise _Failure(msg("El punto de control no es continuación del anterior: %(error)s",
                                   error=str(exc)), name) from None
        self.report.checkpoints = len(notes)
        self.report.tree_size = notes[-1].tree_size
        self.latest_name = names[-1]
        return notes

    # -- 4. events ----------------------------------------------------------------------------------------------
    def _events(self, latest, manifest: dict) -> dict[tuple[str, int], str]:
        """Check every event; the SHA-256 the history recorded for each document / attachment id."""
        data = self._json(bundle.EVENTS)
        events, head = data.get("events"), data.get("checkpoint")
        if not isinstance(events, list) or not events or not isinstance(head, dict):
            raise _Failure(msg("El archivo no trae eventos"), bundle.EVENTS)
        if (head.get("file"), head.get("tree_size"), head.get("root_hash")) != \
                (self.latest_name, latest.tree_size, latest.root.hex()):
            raise _Failure(msg("Los eventos no se prueban contra el último punto de control"), bundle.EVENTS)
        case_id = manifest.get("case_id")
        if (data.get("format"), data.get("case_id"), data.get("case_number")) != \
                (bundle.FORMAT, case_id, manifest.get("case_number")):
            raise _Failure(msg("Los eventos son de otro expediente"), bundle.EVENTS)
        chain, recorded = canonical.GENESIS, {}
        for position, event in enumerate(events, start=1):
            chain = self._event(event, position, case_id, chain, latest)
            recorded.update(_recorded_hashes(event))
        self.report.events = len(events)
        return recorded

    def _event(self, event, position: int, case_id, chain: bytes, latest) -> bytes:
        if not isinstance(event, dict):
            raise _Failure(msg("Evento mal formado"), bundle.EVENTS, case_seq=position)
        seq, case_seq = event.get("seq"), event.get("case_seq")
        where = {"seq": seq if isinstance(seq, int) else None, "case_seq": position}
        if case_seq != position:
            raise _Failure(msg("Falta un evento: se esperaba el número %(expected)s del expediente",
                               expected=position), bundle.EVENTS, **where)
        if event.get("case_id") != case_id or not isinstance(seq, int) or not 0 < seq <= latest.tree_size:
            raise _Failure(msg("El evento no es de este expediente o está fuera del punto de control"),
                           bundle.EVENTS, **where)
        try:
            entry = canonical.entry(*(event[name] for name in canonical.FIELDS))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise _Failure(msg("Evento mal formado"), bundle.EVENTS, **where) from None
        leaf = canonical.leaf_hash(entry)
        if event.get("leaf_hash") != leaf.hex():
            raise _Failure(msg("El contenido del evento no corresponde a su hash"), bundle.EVENTS, **where)
        chain = canonical.case_link(chain, leaf)
        if event.get("case_chain") != chain.hex():
            raise _Failure(msg("La cadena del expediente se rompe en este evento"), bundle.EVENTS, **where)
        proof = _hex_list(event.get("inclusion_proof"), msg("La prueba de inclusión"), bundle.EVENTS, **where)
        try:
            merkle.verify_inclusion(leaf, seq - 1, latest.tree_size, proof, latest.root)
        except merkle.ProofError as exc:
            raise _Failure(msg("La prueba de inclusión del evento no conduce al punto de control firmado: "
                               "%(error)s", error=str(exc)), bundle.EVENTS, **where) from None
        return chain

    # -- 5. documents and attachments ---------------------------------------------------------------------------
    def _files(self, recorded: dict[tuple[str, int], str], manifest: dict) -> None:
        index = self._json(bundle.INDEX_JSON)
        case = index.get("case")
        if not isinstance(case, dict) or case.get("number") != manifest.get("case_number"):
            raise _Failure(msg("El índice es de otro expediente"), bundle.INDEX_JSON)
        for section, folder, counter in (("documents", bundle.DOCUMENTS, "documents"),
                                         ("attachments", bundle.ATTACHMENTS, "attachments")):
            rows = index.get(section)
            if not isinstance(rows, list):
                raise _Failure(msg("El índice no tiene la forma esperada"), bundle.INDEX_JSON)
            listed = set()
            for row in rows:
                listed.add(self._file(row, section, folder, recorded))
            for name in self.members:
                if name.startswith(folder) and name not in listed:
                    raise _Failure(msg("El archivo no figura en el índice"), name)
            missing = [i for (kind, i) in recorded if kind == section
                       and i not in {r.get("id") for r in rows}]
            if missing:
                raise _Failure(msg("Falta un archivo que el historial registra (id %(id)s)", id=missing[0]),
                               bundle.INDEX_JSON)
            setattr(self.report, counter, len(rows))

    def _file(self, row, section: str, folder: str, recorded) -> str:
        if not isinstance(row, dict) or not isinstance(row.get("id"), int) or not isinstance(row.get("file"), str) \
                or not row["file"].startswith(folder):
            raise _Failure(msg("El índice no tiene la forma esperada"), bundle.INDEX_JSON)
        name = row["file"]
        if name not in self.hashes:
            raise _Failure(msg("Falta el archivo en el ZIP"), name)
        digest = self.hashes[name][0]
        if row.get("sha256") != digest:
            raise _Failure(msg("El SHA-256 del archivo no es el que dice el índice"), name)
        in_history = recorded.get((section, row.get("id")))
        if in_history is None:
            self.report.unrecorded.append(name)
        elif in_history != digest:
            raise _Failure(msg("El archivo no es el que registró el historial"), name)
        return name


_RECORDING = {"document_issued": ("documents", "document_id"), "attachment_added": ("attachments", "attachment_id")}


def _recorded_hashes(event: dict) -> dict[tuple[str, int], str]:
    """{(section, id): sha256} an event records (a document issued, an attachment added)."""
    kind = _RECORDING.get(event.get("kind"))
    if kind is None or not event.get("data_json"):
        return {}
    try:
        data = orjson.loads(event["data_json"])
    except (orjson.JSONDecodeError, TypeError):
        return {}
    if not isinstance(data, dict) or "sha256" not in data or not isinstance(data.get(kind[1]), int):
        return {}
    return {(kind[0], data.get(kind[1])): data["sha256"]}
