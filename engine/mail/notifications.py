"""Mail: an outbox written in the caller's transaction, Spanish templates, and an SMTP sender with retries."""
from __future__ import annotations

import logging
import os
import smtplib
import ssl
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from sqlalchemy import bindparam, insert, select, update

from engine.storage import models
from engine.timekeeping.calendar import MONTHS_ES, OFFICE_TZ, WEEKDAYS_ES

log = logging.getLogger(__name__)
TEMPLATES_DIR = Path(__file__).parent / "templates"
SECURITY_MODES = ("starttls", "tls", "none")
# A message taken by a sender that then died is offered again after this long (at-least-once).
SEND_LEASE_SECONDS = 300
MAX_RETRY_DELAY_SECONDS = 6 * 3600
_outbox = models.outbox
_documents = models.documents


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how mail leaves, and how failures are retried (EXPEDIENTE_SMTP_*, EXPEDIENTE_MAIL_*)."""

    host: str
    port: int = 587
    security: str = "starttls"  # starttls | tls (implicit, usually port 465) | none (loopback relays only)
    username: str | None = None
    password: str | None = None
    sender: str = "Gobernación de Chimaltenango <no-responder@localhost>"
    timeout_seconds: float = 10.0
    max_attempts: int = 8
    retry_base_seconds: float = 60.0  # doubled after every failed attempt, up to 6 hours

    def __post_init__(self):
        if self.security not in SECURITY_MODES:
            raise ValueError(f"EXPEDIENTE_SMTP_SECURITY must be one of {SECURITY_MODES}, not {self.security!r}")

    @classmethod
    def from_env(cls, environ=None) -> "SmtpSettings | None":
        """Read EXPEDIENTE_SMTP_* / EXPEDIENTE_MAIL_*; None when no SMTP host is configured."""
        env = os.environ if environ is None else environ
        if not env.get("EXPEDIENTE_SMTP_HOST"):
            return None
        kwargs = {"host": env["EXPEDIENTE_SMTP_HOST"]}
        for key, name, kind in (("port", "SMTP_PORT", int), ("security", "SMTP_SECURITY", str.lower),
                                ("username", "SMTP_USERNAME", str), ("password", "SMTP_PASSWORD", str),
                                ("sender", "SMTP_FROM", str), ("timeout_seconds", "SMTP_TIMEOUT_SECONDS", float),
                                ("max_attempts", "MAIL_MAX_ATTEMPTS", int),
                                ("retry_base_seconds", "MAIL_RETRY_BASE_SECONDS", float)):
            if env.get(f"EXPEDIENTE_{name}"):
                kwargs[key] = kind(env[f"EXPEDIENTE_{name}"])
        return cls(**kwargs)


class SmtpMailer:
    """Sends messages over one SMTP connection per batch."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings

    @contextmanager
    def connection(self):
        """Yield a `send(to, subject, body, now)` function bound to an open, authenticated connection."""
        s = self.settings
        context = ssl.create_default_context()
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        with smtp:
            if s.security == "starttls":
                smtp.starttls(context=context)
            if s.username:
                smtp.login(s.username, s.password or "")
            domain = s.sender.rsplit("@", 1)[-1].strip(">") or "localhost"

            def send(to: str, subject: str, body: str, now: datetime,
                     attachments: tuple[tuple[str, bytes], ...] = ()) -> None:
                mail = EmailMessage()  # not `msg`: that name is the engine's translatable-text keyword
                mail["From"], mail["To"], mail["Subject"] = s.sender, to, subject
                mail["Date"] = format_datetime(now)
                mail["Message-ID"] = make_msgid(domain=domain)  # avoids a slow FQDN lookup per message
                mail.set_content(body)
                for filename, content in attachments:
                    mail.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
                smtp.send_message(mail)

            yield send


# -- writing ----------------------------------------------------------------------------------------
_INSERT = insert(_outbox)


def enqueue_mail(conn, *, to: str, subject: str, body: str, now: datetime, case_id: int | None = None,
                 kind: str = "mail", document_id: int | None = None) -> int:
    """Queue one message in the caller's transaction (with an issued document's PDF attached, by its id); the
    scheduler sends it."""
    return conn.execute(_INSERT, {
        "case_id": case_id, "kind": kind[:40], "to_address": to.strip()[:254], "subject": subject[:300],
        "body": body, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
        "document_id": document_id,
    }).inserted_primary_key[0]


def render(template: str, **values) -> tuple[str, str]:
    """Fill a template of engine/mail/templates; return (subject, body)."""
    text = (TEMPLATES_DIR / f"{template}.txt").read_text(encoding="utf-8")
    first, _, body = text.partition("\n")
    if not first.startswith("Asunto:"):
        raise ValueError(f"mail template {template} must start with an 'Asunto:' line")
    return first[len("Asunto:"):].strip().format_map(values), body.lstrip("\n").format_map(values)


def enqueue_template(conn, template: str, *, to: str, now: datetime, case_id: int | None = None,
                     document_id: int | None = None, **values) -> int:
    """Render a template and queue it."""
    subject, body = render(template, **values)
    return enqueue_mail(conn, to=to, subject=subject, body=body, now=now, case_id=case_id, kind=template,
                        document_id=document_id)


def greeting(name: str | None) -> str:
    return f"Estimado(a) {name.strip()}:" if isinstance(name, str) and name.strip() else "Estimado(a) solicitante:"


def long_date(d) -> str:
    """'lunes 2 de marzo de 2026'."""
    return f"{WEEKDAYS_ES[d.weekday()]} {d.day} de {MONTHS_ES[d.month - 1]} de {d.year}"


def date_and_hour(moment: datetime, calendar) -> str:
    """'lunes 2 de marzo de 2026, 16:30 h' in office time."""
    local = calendar.to_local(moment)
    return f"{long_date(local)}, {local:%H:%M} h"


def enqueue_document(conn, *, to: str, applicant_name: str | None, case_id: int, number: str, tracking_code: str,
                     title: str, document_number: str | None, code: str, verify_url: str, document_id: int,
                     now: datetime) -> int:
    """Queue an issued document (previo, resolución, licencia) to the citizen, its PDF attached."""
    return enqueue_template(conn, "documento", to=to, now=now, case_id=case_id, document_id=document_id,
                            saludo=greeting(applicant_name), numero=number, codigo_seguimiento=tracking_code,
                            titulo=title, numero_documento=document_number or number, codigo=code,
                            url_verificacion=verify_url, fecha=long_date(now.astimezone(OFFICE_TZ)))


def enqueue_receipt(conn, *, to: str | None, applicant_name: str | None, case_id: int, number: str,
                    tracking_code: str, process_name: str, filed_at: datetime, calendar,
                    document_id: int | None = None) -> int | None:
    """Queue the receipt (constancia de recepción) to `to`, the citizen's address; nothing when there is none.

    The caller reads the address from the field the procedure's intake form marks "x-correo-ciudadano"
    (svc.forms.citizen_email) and the name from its "x-resumen" applicant_name."""
    if to is None:
        return None
    local = calendar.to_local(filed_at)
    effective = calendar.effective_filing_date(filed_at)
    note = "" if effective == local.date() else (
        f"\n  Presentada fuera del horario de recepción: se tiene por presentada el {long_date(effective)}.\n")
    return enqueue_template(conn, "recepcion", to=to, now=filed_at, case_id=case_id, document_id=document_id,
                            saludo=greeting(applicant_name),
                            numero=number, codigo_seguimiento=tracking_code, tramite=process_name,
                            fecha_presentacion=long_date(local), hora_presentacion=f"{local:%H:%M} h",
                            nota_horario=note)


# -- sending ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SendResult:
    sent: int
    retried: int  # failed now, tried again later
    failed: int   # gave up after the last attempt


_DUE = (select(_outbox.c.id, _outbox.c.to_address, _outbox.c.subject, _outbox.c.body, _outbox.c.attempts,
               _outbox.c.document_id)
        .where(_outbox.c.status == "pending", _outbox.c.next_attempt_at <= bindparam("b_now"))
        .order_by(_outbox.c.next_attempt_at, _outbox.c.id).limit(bindparam("b_limit")))
_LEASE = (update(_outbox).where(_outbox.c.id.in_(bindparam("b_ids", expanding=True)))
          .values(attempts=_outbox.c.attempts + 1, next_attempt_at=bindparam("b_until")))
_DONE = (update(_outbox).where(_outbox.c.id == bindparam("b_id"))
         .values(status=bindparam("b_status"), sent_at=bindparam("b_sent"), last_error=bindparam("b_error"),
                 next_attempt_at=bindparam("b_next")))


def send_pending(svc, limit: int = 50) -> SendResult:
    """Send queued mail that is due; failures are retried with exponential backoff."""
    if svc.mailer is None:
        return SendResult(0, 0, 0)  # no SMTP configured: mail waits in the outbox
    batch = _lease(svc, limit)
    if not batch:
        return SendResult(0, 0, 0)
    settings = svc.mailer.settings
    counts = {"sent": 0, "pending": 0, "failed": 0}
    try:
        with svc.mailer.connection() as send:
            for row in list(batch):
                try:
                    send(row.to_address, row.subject, row.body, svc.clock(), _attachments(svc, row))
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                    counts[_record(svc, row, settings, exc)] += 1  # this message only; the connection lives on
                else:
                    counts[_record(svc, row, settings, None)] += 1
                batch.remove(row)
    except (OSError, smtplib.SMTPException) as exc:  # the server is down or refused us: retry the rest later
        log.warning("SMTP %s:%s failed: %s", settings.host, settings.port, exc)
        for row in batch:
            counts[_record(svc, row, settings, exc)] += 1
    return SendResult(counts["sent"], counts["pending"], counts["failed"])


def _attachments(svc, row) -> tuple[tuple[str, bytes], ...]:
    """The message's attached document, as its stored PDF bytes and a file name."""
    if row.document_id is None:
        return ()
    with svc.uow(write=False) as uow:
        doc = uow.conn.execute(select(_documents.c.number, _documents.c.verification_code, _documents.c.content)
                               .where(_documents.c.id == row.document_id)).first()
    if doc is None:
        return ()
    return ((f"{doc.number or doc.verification_code}.pdf", bytes(doc.content)),)


def _lease(svc, limit: int) -> list:
    """Take due messages for a while, so another scheduler does not send them too."""
    with svc.uow() as uow:
        now = svc.clock()
        query = _DUE
        if uow.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = uow.conn.execute(query, {"b_now": now, "b_limit": limit}).all()
        if rows:
            uow.conn.execute(_LEASE, {"b_ids": [r.id for r in rows],
                                      "b_until": now + timedelta(seconds=SEND_LEASE_SECONDS)})
        uow.commit()
    return rows


def _record(svc, row, settings: SmtpSettings, error: Exception | None) -> str:
    """Store one message's outcome in its own transaction (a crash later does not resend it)."""
    now = svc.clock()
    attempts = row.attempts + 1
    if error is None:
        values = {"b_status": "sent", "b_sent": now, "b_error": None, "b_next": now}
    else:
        status = "failed" if attempts >= settings.max_attempts else "pending"
        delay = min(settings.retry_base_seconds * 2 ** (attempts - 1), MAX_RETRY_DELAY_SECONDS)
        values = {"b_status": status, "b_sent": None, "b_error": f"{type(error).__name__}: {error}"[:2000],
                  "b_next": now + timedelta(seconds=delay)}
    with svc.uow() as uow:
        uow.conn.execute(_DONE, {"b_id": row.id, **values})
        uow.commit()
    return values["b_status"]


def outbox_rows(svc, case_id: int | None = None) -> list[dict]:
    """Outbox messages (of one case, or all), oldest first."""
    query = select(_outbox).order_by(_outbox.c.id)
    if case_id is not None:
        query = query.where(_outbox.c.case_id == case_id)
    with svc.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(query).mappings()]
