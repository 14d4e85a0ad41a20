"""Filing online (`/tramites`): public use cases, no principal. The case exists only once the citizen confirms.

Which procedures may be filed online is a setting (`Settings.online_procedures`); each is filed with its latest
version's intake form, validated exactly as at the desk, and needs the citizen's e-mail (the field the form marks
`x-correo-ciudadano`). `submit_filing` keeps the data and the uploaded files (PDF, PNG, JPEG by content, the
attachment store's size limit) as a `pending_filings` row, which stores only the SHA-256 of a random token, and
queues the confirmation e-mail with the link `{public_base_url}/tramites/confirmar/<token>`, valid 48 hours.
Filings are rate-limited per client address and per e-mail address (engine/storage/rate_limits.py).

`confirm_filing` (a POST: mail scanners follow GET links) files the case through cases.start_case as the system
user ONLINE_ACTOR, so the filing date and hour are the confirmation's (the LAIP 16:30 cut-off applies through the
calendar as at the desk); the files become the case's attachments and the receipt is issued and mailed, all in
the case's transaction. Confirming again shows the same case; an unknown token is NotFound, an expired one
FilingExpired.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import insert, select, update

from engine import values
from engine.accounts.permissions import ADMIN, Principal
from engine.documents.kinds import RECEIPT
from engine.errors import ExpedienteError, FormInvalid, NotFound, ProcessNotFound, RateLimited
from engine.forms_gate import FORM_INVALID_MESSAGE
from engine.mail.notifications import date_and_hour, enqueue_template, greeting
from engine.messages import msg
from engine.storage import models, rate_limits
from engine.usecases import cases
from engine.usecases.deploy import forms_of_version
from engine.usecases.attachments import AttachmentStore, discard_upload, record_attachment, store_upload
from engine.usecases.intake import latest_intake
from forms.registry import CITIZEN_EMAIL

if TYPE_CHECKING:  # the composition root sits above the use cases; they only receive it
    from engine.services import Services

# Who files a confirmed online case (its `created_by`, the receipt's issuer): no account has this name.
ONLINE_ACTOR = "en_linea"
ONLINE_PRINCIPAL = Principal(user_id=0, username=ONLINE_ACTOR, role=ADMIN)
# The form's channel field (marked "x-canal") says the case came online.
CHANNEL_MARK, ONLINE_CHANNEL = "x-canal", "en_linea"
TOKEN_BYTES = 32           # 256 random bits; only their SHA-256 is stored
CONFIRM_WITHIN = timedelta(hours=48)
MAX_FILES = 10
# (scope, window in seconds, filings allowed in it): per client address and per e-mail address.
CLIENT_LIMIT = ("filing_client", 3600, 5)
EMAIL_LIMIT = ("filing_email", 24 * 3600, 3)
CONFIRM_PATH = "/tramites/confirmar/"
FILES_FIELD = "archivos"  # how problems with the uploaded files are named (the page's file input)
log = logging.getLogger(__name__)
_p = models.pending_filings
_c = models.cases
_d = models.documents


class FilingExpired(ExpedienteError):
    """The confirmation link is older than CONFIRM_WITHIN and was never used: the citizen files again."""

    code = "filing_expired"


def online_procedures(svc: Services) -> list[dict]:
    """The procedures citizens may file online, deployed and with an intake form that asks for an e-mail: key,
    name, the form's description and the titles of the fields it always requires (the e-mail aside: every online
    filing needs one)."""
    out = []
    with svc.uow(write=False) as uow:
        for key in svc.settings.online_procedures:
            try:
                form = latest_intake(svc, uow.conn, key)
            except ProcessNotFound:
                continue
            schema = form["schema"]
            email_field = _email_field(schema) if schema is not None else None
            if email_field is None:
                continue
            props = schema.get("properties", {})
            out.append({"process_key": key, "name": form["name"], "description": schema.get("description"),
                        "needs": [props[f].get("title") or f for f in schema.get("required", [])
                                  if f in props and f != email_field and not props[f].get(CHANNEL_MARK)]})
    return out


def filing_form(svc: Services, process_key: str) -> dict:
    """The intake form of an online procedure's latest version, as the citizen fills it: name, form_key, schema
    (the channel field read-only: it is set to "en línea"), email_field. Not online: ProcessNotFound."""
    with svc.uow(write=False) as uow:
        return _online_form(svc, uow.conn, process_key)


def _online_form(svc: Services, conn, process_key: str) -> dict:
    if process_key not in svc.settings.online_procedures:
        raise ProcessNotFound(f"'{process_key}' cannot be filed online", process_key=process_key)
    form = latest_intake(svc, conn, process_key)
    schema = form["schema"]
    email_field = _email_field(schema) if schema else None
    if email_field is None:
        raise ProcessNotFound(f"'{process_key}' asks for no e-mail: it cannot be filed online",
                              process_key=process_key)
    props = {name: {**prop, "readOnly": True} if prop.get(CHANNEL_MARK) else prop
             for name, prop in schema.get("properties", {}).items()}
    return {**form, "schema": {**schema, "properties": props}, "real_schema": schema, "email_field": email_field}


def _email_field(schema: dict) -> str | None:
    return next((name for name, prop in schema.get("properties", {}).items()
                 if isinstance(prop, dict) and prop.get(CITIZEN_EMAIL) is True), None)


def _online_data(schema: dict, data: dict) -> dict:
    """The citizen's data with the channel field (if the form has one offering it) set to online."""
    channel = {name: ONLINE_CHANNEL for name, prop in schema.get("properties", {}).items()
               if prop.get(CHANNEL_MARK) and ONLINE_CHANNEL in prop.get("enum", [])}
    return {**data, **channel}


def submit_filing(svc: Services, store: AttachmentStore, process_key: str, data: dict, files, client: str) -> dict:
    """Check an online filing as the desk would (FormInvalid listing every field; the e-mail is required), keep
    its files and data until the citizen confirms, and queue the confirmation e-mail. `files` are
    (filename, stream) pairs; `client` is the requester's address. Too many filings: RateLimited. Returns
    {"email", "expires_at"}; nothing is kept when refused."""
    values.check_data(data)
    with svc.uow(write=False) as uow:
        form = _online_form(svc, uow.conn, process_key)
        forms = forms_of_version(svc, uow.conn, form["version_id"])
    data = _online_data(form["real_schema"], data)
    problems = []
    try:
        if forms is not None:
            forms.validate(form["form_key"], data)  # every field's problem at once, as at the desk
    except FormInvalid as exc:
        problems = list(exc.errors)
    email = data.get(form["email_field"])
    if not (isinstance(email, str) and email.strip()) and not any(p["field"] == form["email_field"]
                                                                  for p in problems):
        problems.append({"field": form["email_field"], "keyword": "required", "message": msg(
            "Escriba su correo electrónico: allí recibirá el enlace para confirmar la solicitud.")})
    files = [(name, stream) for name, stream in files if name]
    if len(files) > MAX_FILES:
        problems.append({"field": FILES_FIELD, "keyword": "maxItems",
                         "message": msg("Adjunte como máximo %(n)s archivos.", n=MAX_FILES)})
    if problems:
        problems.sort(key=lambda p: p["field"])
        raise FormInvalid(FORM_INVALID_MESSAGE, errors=problems, form=form["form_key"])
    email = email.strip()
    stored = []
    try:
        for name, stream in files:
            stored.append(store_upload(store, name, stream))
        with svc.uow() as uow:
            now = svc.clock()
            _count(uow.conn, CLIENT_LIMIT, client, now)
            _count(uow.conn, EMAIL_LIMIT, email, now)
            token = secrets.token_urlsafe(TOKEN_BYTES)
            expires = now + CONFIRM_WITHIN
            uow.conn.execute(insert(_p).values(
                token_hash=_token_hash(token), process_key=process_key, data_json=orjson.dumps(data).decode(),
                email=email[:254], attachments_json=orjson.dumps(stored).decode(), created_at=now,
                expires_at=expires))
            enqueue_template(uow.conn, "confirmar_solicitud", to=email, now=now,
                             saludo=greeting(_applicant(form, data)), tramite=form["name"],
                             archivos=_file_list(stored),
                             enlace=f"{svc.settings.public_base_url}{CONFIRM_PATH}{token}",
                             vence=date_and_hour(expires, svc.calendar))
            uow.commit()
    except BaseException:
        for kept in stored:
            discard_upload(store, kept)
        raise
    try:  # filings never confirmed are forgotten a day after their link expired, with their files
        purge_expired_filings(svc, store, now)
    except Exception:  # noqa: BLE001  (the filing is kept and its mail queued: a failed clean-up waits for the next)
        log.exception("purging expired online filings failed")
    return {"email": email, "expires_at": expires}


def _applicant(form: dict, data: dict) -> str | None:
    path = form["real_schema"].get("x-resumen", {}).get("applicant_name")
    value = data.get(path) if path else None
    return value if isinstance(value, str) else None


def _file_list(stored: list[dict]) -> str:
    if not stored:
        return "  (ninguno)"
    return "\n".join(f"  - {s['filename']} ({s['size_bytes']} bytes)" for s in stored)


def _count(conn, limit: tuple[str, int, int], key: str, now) -> None:
    scope, window, allowed = limit
    if not rate_limits.hit(conn, scope, key, now, window_seconds=window, limit=allowed):
        raise RateLimited(msg("Se recibieron demasiadas solicitudes; intente de nuevo más tarde."),
                          retry_after_seconds=window - int(now.timestamp()) % window, scope=scope)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def filing_status(svc: Services, token: str) -> dict:
    """What the confirmation link stands for, read only: {"state": "pending"} with the procedure's name, or
    {"state": "confirmed", ...the case}; unknown: NotFound; expired: FilingExpired."""
    with svc.uow(write=False) as uow:
        row = _pending(uow.conn, token, svc.clock())
        if row["case_id"] is not None:
            return {"state": "confirmed", **_filed(uow.conn, row["case_id"])}
        return {"state": "pending", "process_key": row["process_key"],
                "name": latest_intake(svc, uow.conn, row["process_key"])["name"]}


def _pending(conn, token: str, now) -> dict:
    row = conn.execute(select(_p).where(_p.c.token_hash == _token_hash(token or ""))).mappings().first()
    if row is None:
        raise NotFound("no online filing has this confirmation link")
    if row["case_id"] is None and row["expires_at"] <= now:
        raise FilingExpired("the confirmation link expired", expired_at=row["expires_at"].isoformat())
    return dict(row)


class _AlreadyConfirmed(Exception):
    """Another confirmation of the same link filed the case first: this one's case is rolled back."""


def confirm_filing(svc: Services, token: str) -> dict:
    """File the case of a pending online filing (once: again, the same case). Returns the case's number,
    tracking_code, receipt_code (the receipt's verification code) and `new` (False when it was confirmed
    before)."""
    with svc.uow(write=False) as uow:
        row = _pending(uow.conn, token, svc.clock())
    if row["case_id"] is None:
        stored = orjson.loads(row["attachments_json"])

        def claim_and_attach(conn, case_id: int, now) -> None:
            claimed = conn.execute(update(_p).where(_p.c.id == row["id"], _p.c.case_id.is_(None))
                                   .values(case_id=case_id, confirmed_at=now)).rowcount
            if claimed != 1:
                raise _AlreadyConfirmed()
            for kept in stored:
                record_attachment(conn, case_id, kept, ONLINE_ACTOR, now)

        try:
            started = cases.start_case(svc, ONLINE_PRINCIPAL, row["process_key"], orjson.loads(row["data_json"]),
                                       on_filed=claim_and_attach)
        except _AlreadyConfirmed:
            pass
        else:
            with svc.uow(write=False) as uow:
                return {**_filed(uow.conn, started.id), "new": True}
    with svc.uow(write=False) as uow:
        case_id = uow.conn.execute(select(_p.c.case_id).where(_p.c.id == row["id"])).scalar_one()
        return {**_filed(uow.conn, case_id), "new": False}


def _filed(conn, case_id: int) -> dict:
    case = conn.execute(select(_c.c.number, _c.c.tracking_code, _c.c.created_at).where(_c.c.id == case_id)).one()
    receipt = conn.execute(select(_d.c.verification_code).where(_d.c.case_id == case_id, _d.c.kind == RECEIPT)
                           .order_by(_d.c.id).limit(1)).scalar()
    return {"number": case.number, "tracking_code": case.tracking_code, "filed_at": case.created_at,
            "receipt_code": receipt}


def purge_expired_filings(svc: Services, store: AttachmentStore, now) -> int:
    """Forget filings never confirmed whose link expired more than a day ago, and their files; returns how many.
    Each new filing runs it (the scheduler could instead, given the attachment store)."""
    with svc.uow() as uow:
        rows = uow.conn.execute(select(_p.c.id, _p.c.attachments_json).where(
            _p.c.case_id.is_(None), _p.c.expires_at < now - timedelta(days=1))).all()
        if rows:
            uow.conn.execute(_p.delete().where(_p.c.id.in_([r.id for r in rows])))
        uow.commit()
    for r in rows:
        for kept in orjson.loads(r.attachments_json):
            discard_upload(store, kept)
    return len(rows)
