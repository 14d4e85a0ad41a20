"""Tables of messages between cases, of what cases wait for, of their links, and of institutions and the replies
asked of them (engine/usecases/messaging.py, delivery.py, institutions.py; docs/messages.md). On the metadata of
engine/storage/models.py, which re-exports them."""
from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from engine.storage.models import Id, UtcDateTime, metadata

# Messages between cases, from institutions and from the API (engine/usecases/messaging.py): an inbox and an outbox
# in one table. queued: to be matched and delivered; pending: arrived before a case waits for it (kept until one
# does, or until expires_at); delivered; undeliverable (reason says why; a supervisor retries or discards it);
# discarded. kind "signal" is a broadcast to every waiting catch of its name (of process_key, when given).
messages = Table(
    "messages", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(10), nullable=False),          # message | signal
    Column("name", String(200), nullable=False),
    Column("correlation_json", Text, nullable=False),    # {"caso": 12} / {"expediente": "GD-…"} / {"solicitud": "…"}
    Column("payload_json", Text, nullable=False),
    Column("process_key", String(100)),                  # a signal's procedure; a message that may start a case
    Column("state", String(20), nullable=False),
    Column("reason", Text),                              # why it is pending or undeliverable, in words
    Column("source", String(20), nullable=False),        # api | case | institution
    Column("source_case_id", Id, ForeignKey("cases.id")),
    Column("source_element", String(200)),
    Column("target_case_id", Id, ForeignKey("cases.id")),  # the case it was delivered to (or started)
    Column("created_by", String(64)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Column("expires_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Index("ix_messages_state_name", "state", "name"),
    Index("ix_messages_target_case_id", "target_case_id"),
    Index("ix_messages_source_case_id", "source_case_id"),
)

# What each case waits for (the projection of its waiting message and signal catch events, like timers): the
# delivery query reads this, never the workflows. keys_json: the correlation keys its catch declares (property
# `correlacion`), besides the case's own id ("caso") and number ("expediente").
message_waits = Table(
    "message_waits", metadata,
    Column("id", String(36), primary_key=True),          # the waiting task's id
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("element_id", String(200), nullable=False),
    Column("kind", String(10), nullable=False),          # message | signal
    Column("name", String(200), nullable=False),
    Column("keys_json", Text, nullable=False),
    Column("state", String(20), nullable=False),         # waiting | delivered | cancelled
    Column("created_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime),
    Column("message_id", Id),                            # the message that was delivered to it
    Index("ix_message_waits_name_state", "name", "state"),
    Index("ix_message_waits_case_id_state", "case_id", "state"),
)

# Cases that spoke to each other: a message of one started or continued the other. Both pages show the link.
case_links = Table(
    "case_links", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("from_case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("to_case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("kind", String(20), nullable=False),          # started | continued
    Column("message_name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("from_case_id", "to_case_id", "kind", "message_name", name="uq_case_links_pair"),
    Index("ix_case_links_to_case_id", "to_case_id"),
)

# -- institutions answer by link (engine/usecases/institutions.py) ------------------------------------------------
# Other institutions (PNC, CONRED, RIC, the property registry, ...) are records, not accounts: they answer a request
# through a signed, expiring link mailed to them.
institutions = Table(
    "institutions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(40), nullable=False, unique=True),  # slug the diagrams name: "pnc", "conred", "ric"
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),            # where requests and reminders go
    Column("contact", String(200), nullable=False, default=""),  # the person or post letters are addressed to
    Column("phone", String(40), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# One request to an institution from a case's step; the institution answers through the link, which carries a
# secret whose SHA-256 is token_hash (the secret itself is never stored). public_id is what the case's data and the
# answer's message correlation hold ("solicitud"). state: open | answered | expired | cancelled.
institution_requests = Table(
    "institution_requests", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("public_id", String(40), nullable=False, unique=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("institution_id", ForeignKey("institutions.id"), nullable=False),
    Column("element_id", String(200)),                       # the service task that asked
    Column("message_name", String(200), nullable=False),     # the message the answer is delivered as
    Column("subject", String(300), nullable=False),
    Column("state", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),           # closing time of the last working day to answer
    Column("expires_at", UtcDateTime, nullable=False),       # the link works until then (due + grace)
    Column("reminder_days_json", Text, nullable=False, default="[]"),  # working days before due_at: [3, 1]
    Column("reminders_sent", Integer, nullable=False, default=0),
    Column("next_reminder_at", UtcDateTime),                 # None: no reminder left (escalation is by due_at)
    Column("escalation_group", String(64)),
    Column("escalated_at", UtcDateTime),
    Column("answered_at", UtcDateTime),
    Column("answer_json", Text),                             # {"respuesta", "documentos", ...} as delivered
    Column("document_id", ForeignKey("documents.id")),       # the oficio issued with the request, if any
    Column("created_by", String(64)),
    Index("ix_institution_requests_case_id", "case_id"),
    Index("ix_institution_requests_state_next_reminder", "state", "next_reminder_at"),
    Index("ix_institution_requests_state_due", "state", "due_at"),
)
