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

import orjson
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


def follow_url(base_url: str) -> str:
    """Where a citizen follows a case with its tracking code: the public page /consulta."""
    return f"{base_url.rstrip('/')}/consulta"


# What a citizen's message says of a cédula de notificación: what it notified (the notifier's own words, else the
# case's latest document of these kinds issued before it, as the cédula itself says).
_NOTIFIED_KINDS = ("resolucion", "previo", "licencia", "oficio")
_CEDULA = "cedula_notificacion"


def notifies_extension(data: dict) -> bool:
    """Whether a cédula notifies the LAIP extension (Decreto 57-2008 art. 43): the case's data says the extension
    was applied (`laip_prorroga_aplicada`, set by solicitud_ciudadana's laip_ampliar_plazo just before it calls
    the notification) and no resolution was issued yet (`documento_resolucion`, which the resolving step adds)."""
    return data.get("laip_prorroga_aplicada") is True and "documento_resolucion" not in data


def _long_date_of(value) -> str | None:
    """An ISO date or moment of the case's data in words ('jueves 14 de mayo de 2026', office time)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    day = moment.astimezone(OFFICE_TZ).date() if moment.tzinfo else moment.date()
    return long_date(day)


def _notified_act(conn, case_id: int, document_id: int, data: dict) -> str:
    """What a cédula notified, in words: the notifier's `notificacion_acto`, else the latest resolution, previo,
    licence or oficio issued in the case before the cédula (by its number, which names its kind)."""
    typed = data.get("notificacion_acto")
    if isinstance(typed, str) and typed.strip():
        return typed.strip()
    row = conn.execute(select(_documents.c.number, _documents.c.issued_at)
                       .where(_documents.c.case_id == case_id, _documents.c.id < document_id,
                              _documents.c.kind.in_(_NOTIFIED_KINDS))
                       .order_by(_documents.c.id.desc()).limit(1)).first()
    if row is None:
        return "la actuación que consta en el expediente"
    return f"el documento {row.number}, de fecha {long_date(row.issued_at.astimezone(OFFICE_TZ))}"


def _moment_in_words(value) -> str | None:
    """An ISO moment of the case's data as 'lunes 2 de marzo de 2026, 10:00 h' in office time."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    local = moment.astimezone(OFFICE_TZ) if moment.tzinfo else moment
    return f"{long_date(local)}, {local:%H:%M} h"


def enqueue_document(conn, *, to: str, applicant_name: str | None, case_id: int, number: str, tracking_code: str,
                     title: str, document_number: str | None, code: str, verify_url: str, document_id: int,
                     now: datetime) -> int:
    """Queue an issued document (previo, resolución, licencia, cédula de notificación) to the citizen, its PDF
    attached. A cédula's message says what it notified (template `notificacion`), and the LAIP extension's the new
    deadline (`prorroga`); a correction, and every other kind, goes as `documento`."""
    doc = conn.execute(select(_documents.c.kind, _documents.c.corrects_id, _documents.c.data_json)
                       .where(_documents.c.id == document_id)).one()
    # The caller builds verify_url as {public base URL}/verificar/<code>: the same base serves /consulta.
    base_url = verify_url.removesuffix(f"/verificar/{code}")
    values = dict(saludo=greeting(applicant_name), numero=number, codigo_seguimiento=tracking_code, titulo=title,
                  numero_documento=document_number or number, codigo=code, url_verificacion=verify_url,
                  url_consulta=follow_url(base_url), fecha=long_date(now.astimezone(OFFICE_TZ)))
    template = "documento"
    if doc.kind == _CEDULA and doc.corrects_id is None:
        data = orjson.loads(doc.data_json) if doc.data_json else {}
        deadline = _long_date_of(data.get("laip_fecha_limite")) if notifies_extension(data) else None
        if deadline is not None:
            template, values["fecha_limite"] = "prorroga", deadline
        else:
            template, values["acto"] = "notificacion", _notified_act(conn, case_id, document_id, data)
            values["fecha_notificacion"] = _moment_in_words(data.get("notificacion_fecha_hora")) or values["fecha"]
    return enqueue_template(conn, template, to=to, now=now, case_id=case_id, document_id=document_id, **values)


def enqueue_closure(conn, *, to: str | None, applicant_name: str | None, case_id: int, number: str,
                    tracking_code: str, process_name: str, base_url: str, now: datetime) -> int | None:
    """Queue the closure notice (the case reached its end) to `to`, the case's citizen_email; nothing without one.
    Called in the transaction of the step that completed the case (engine.usecases.outcomes.outcome_events)."""
    if not to:
        return None
    return enqueue_template(conn, "cierre", to=to, now=now, case_id=case_id, saludo=greeting(applicant_name),
                            numero=number, codigo_seguimiento=tracking_code, tramite=process_name,
                            fecha=long_date(now.astimezone(OFFICE_TZ)), url_consulta=follow_url(base_url))


def enqueue_receipt(conn, *, to: str | None, applicant_name: str | None, case_id: int, number: str,
                    tracking_code: str, process_name: str, filed_at: datetime, calendar, base_url: str,
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
                            nota_horario=note, url_consulta=follow_url(base_url))


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


def permanent(error: Exception) -> bool:
    """Whether the server refused this message for good (a 5xx reply to its recipient or its content): trying
    again would get the same answer, so it fails at once. A refused sender or a connection problem is the
    office's or the network's, and is retried."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    return isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500


# Why a message failed, from the exception class _record stores at the head of last_error; anything else is a
# connection problem (refused, timed out, dropped, TLS, name lookup: OSError and SMTPServerDisconnected).
FAILURE_CAUSES = {"SMTPRecipientsRefused": "recipient_refused", "SMTPDataError": "message_refused",
                  "SMTPSenderRefused": "sender_refused", "SMTPAuthenticationError": "authentication",
                  "SMTPHeloError": "server", "SMTPNotSupportedError": "server", "SMTPResponseException": "server"}


def failure_cause(last_error: str | None) -> str | None:
    """The cause (a key of FAILURE_CAUSES' values, or "connection") of a stored last_error; None without one."""
    if not last_error:
        return None
    return FAILURE_CAUSES.get(last_error.split(":", 1)[0].strip(), "connection")


def _record(svc, row, settings: SmtpSettings, error: Exception | None) -> str:
    """Store one message's outcome in its own transaction (a crash later does not resend it)."""
    now = svc.clock()
    attempts = row.attempts + 1
    if error is None:
        values = {"b_status": "sent", "b_sent": now, "b_error": None, "b_next": now}
    else:
        status = "failed" if attempts >= settings.max_attempts or permanent(error) else "pending"
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


# The templates of staff mail about a case (deadline alerts, engine/usecases/deadline_alerts.py); every other
# message of a case goes to its citizen.
STAFF_TEMPLATES = frozenset({"alerta_plazo", "plazo_vencido"})
_OF_CASE = (select(_outbox.c.id, _outbox.c.created_at, _outbox.c.kind, _outbox.c.to_address, _outbox.c.subject,
                   _outbox.c.status, _outbox.c.attempts, _outbox.c.sent_at, _outbox.c.last_error,
                   _outbox.c.next_attempt_at, _outbox.c.document_id)
            .where(_outbox.c.case_id == bindparam("b_case"), _outbox.c.kind.not_in(STAFF_TEMPLATES))
            .order_by(_outbox.c.id))


def mail_of_case(conn, case_id: int) -> list[dict]:
    """The case's messages to its citizen, oldest first, each with its delivery state: status (pending | sent |
    failed), attempts, sent_at, and the cause of the last failure (failure_cause) with its text (last_error)."""
    return [{**r, "cause": failure_cause(r["last_error"])}
            for r in conn.execute(_OF_CASE, {"b_case": case_id}).mappings()]
