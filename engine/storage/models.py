"""Tables. Everything that is queried is a plain indexed column; workflow state is opaque text."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger, Boolean, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text,
    TypeDecorator, UniqueConstraint,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


# BigInteger autoincrement keys fall back to INTEGER on SQLite (needed for its rowid alias).
Id = BigInteger().with_variant(Integer, "sqlite")

users = Table(
    "users", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("email", String(254)),
    Column("password_hash", String(255)),
    Column("role", String(20), nullable=False),  # clerk | supervisor | auditor | admin
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime, nullable=False),
    # +1 on logout, a password change and a deactivation: browser sessions carry the number they began with
    # (inside their tag, engine.accounts.auth.session_tag), so every older session of the account ends at once.
    Column("session_generation", Integer, nullable=False, default=0, server_default="0"),
)

# Failed logins per typed username, whether or not such an account exists, so the slow-down and the lock
# answer alike for every name (engine.accounts.login_throttle). Keyed by a hash: a password typed into the name field
# is not kept in clear. Rows are deleted on a successful login and forgotten a day after their last failure.
login_failures = Table(
    "login_failures", metadata,
    Column("name_key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", UtcDateTime),
    Column("last_failure_at", UtcDateTime, nullable=False),
    Index("ix_login_failures_last_failure_at", "last_failure_at"),
)

groups = Table(
    "groups", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("description", String(200), nullable=False, default=""),
)

user_groups = Table(
    "user_groups", metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)

# Which group works a BPMN lane. process_key "*" applies to every process without its own row.
lane_groups = Table(
    "lane_groups", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("process_key", String(100), nullable=False, default="*"),
    Column("lane", String(100), nullable=False),
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("process_key", "lane", name="uq_lane_groups_process_lane"),
)

process_versions = Table(
    "process_versions", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("process_key", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("spec_json", Text, nullable=False),
    Column("files_json", Text, nullable=False),  # {file name: XML text} as deployed
    # {form key: JSON Schema} of the forms its tasks name, as deployed: its running cases keep them. None for
    # versions stored before versions kept their forms (engine.forms_gate.FormsGate.for_version).
    Column("forms_json", Text),
    Column("serializer_version", String(40), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64)),
    Column("comment", String(500), nullable=False, default=""),
    UniqueConstraint("process_key", "version", name="uq_process_versions_key_version"),
    Index("ix_process_versions_key_hash", "process_key", "content_hash"),
)

# One row per sequence (e.g. the year) so numbers are gapless: the increment commits or rolls
# back with the case that used it.
case_counters = Table(
    "case_counters", metadata,
    Column("name", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

cases = Table(
    "cases", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("number", String(60), nullable=False, unique=True),
    Column("tracking_code", String(20), nullable=False, unique=True),
    Column("process_key", String(100), nullable=False),
    Column("process_version_id", ForeignKey("process_versions.id"), nullable=False),
    Column("state", String(20), nullable=False),  # running | completed | error | suspended | cancelled
    Column("version", Integer, nullable=False),   # optimistic lock: bumped by every change
    Column("workflow_json", Text, nullable=False),
    Column("serializer_version", String(40), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime),
    Column("created_by", String(64)),
    Column("error_element", String(200)),
    Column("error_message", Text),
    Column("title", String(300)),
    Column("applicant_name", String(200)),
    Column("applicant_dpi", String(20)),
    Column("municipality", String(100)),
    # The citizen's e-mail address as the intake gave it (the field its form marks x-correo-ciudadano): a second
    # factor to follow the case with its tracking code, and where the citizen's mail goes.
    Column("citizen_email", String(254)),
    Index("ix_cases_process_state", "process_key", "state"),
    Index("ix_cases_state_created", "state", "created_at"),
    Index("ix_cases_municipality", "municipality"),
    Index("ix_cases_applicant_dpi", "applicant_dpi"),
    Index("ix_cases_state_completed", "state", "completed_at"),  # the reports: resolved in a period (0024)
)

# Human tasks projected from the workflow in the same transaction; rows stay after completion
# so "who did it" and "who took it first" are answerable without loading workflows.
tasks = Table(
    "tasks", metadata,
    Column("id", String(36), primary_key=True),  # SpiffWorkflow task UUID
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("element_id", String(200), nullable=False),
    Column("title", String(300), nullable=False),
    Column("lane", String(100)),
    Column("candidate_group", String(64)),
    Column("form_key", String(100)),
    Column("document_kind", String(40)),  # the kind of document completing the task issues (task property)
    Column("assignee", String(64)),
    Column("state", String(20), nullable=False),  # ready | completed | cancelled
    Column("created_at", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime),
    Column("due_at", UtcDateTime),
    Column("completed_at", UtcDateTime),
    Column("completed_by", String(64)),
    # Read by id or by case only: the lists read inbox_items (engine/storage/models_lists.py).
    Index("ix_tasks_case", "case_id"),
    # The reports (0024): completed in a period, falling due in a period.
    Index("ix_tasks_state_completed", "state", "completed_at"),
    Index("ix_tasks_due", "due_at"),
)

# Append-only: triggers installed by the migration refuse UPDATE and DELETE.
events = Table(
    "events", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("element_id", String(200)),
    Column("task_id", String(36)),
    Column("actor", String(64)),
    Column("data_json", Text),
    # Tamper evidence (engine/audit): the event's place in the global sequence and in its case, the hash of its
    # canonical entry (a Merkle leaf) and the two chains through it. Written by engine.storage.chain.seal.
    Column("seq", BigInteger, unique=True),
    Column("case_seq", Integer),
    Column("leaf_hash", String(64)),
    Column("case_chain", String(64)),
    Column("chain", String(64)),
    # What the step changed in the case data: {field: [before, after]} (task_completed), else None.
    Column("changes_json", Text),
    Index("ix_events_case", "case_id", "id"),
    UniqueConstraint("case_id", "case_seq", name="uq_events_case_seq"),
    Index("ix_events_at", "at"),
    Index("ix_events_actor_at", "actor", "at"),
    Index("ix_events_kind_at", "kind", "at"),
)


# Waiting timer events projected from the workflows, so the scheduler never loads a case to
# find out whether something is due.
timers = Table(
    "timers", metadata,
    Column("id", String(36), primary_key=True),  # SpiffWorkflow task UUID of the waiting event
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("element_id", String(200), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("state", String(20), nullable=False),  # waiting | fired | cancelled
    Column("created_at", UtcDateTime, nullable=False),
    Column("fired_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Index("ix_timers_state_due", "state", "due_at"),
    Index("ix_timers_case", "case_id"),
)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# Personal API tokens: only the SHA-256 of the token is kept; the token itself is shown once.
api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),  # first characters, so the owner can tell tokens apart
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),
    Index("ix_api_tokens_user", "user_id"),
)

# Files belong to a case; the bytes live on disk under a generated name, never the uploaded one.
attachments = Table(
    "attachments", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False),
    Column("filename", String(200), nullable=False),      # cleaned original name, for display only
    Column("stored_name", String(64), nullable=False, unique=True),
    Column("content_type", String(100), nullable=False),  # detected from the content
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", String(64)),
    Column("uploaded_at", UtcDateTime, nullable=False),
    Column("pages", Integer),  # a PDF's pages, an image's 1; None where not counted (other types, older rows)
    Index("ix_attachments_case", "case_id", "id"),
)

# Work in progress on a task's form; one row per task, replaced by every save.
task_drafts = Table(
    "task_drafts", metadata,
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("data_json", Text, nullable=False),
    Column("saved_by", String(64), nullable=False),
    Column("saved_at", UtcDateTime, nullable=False),
)

# -- operations: outbox mail, office closure days, task deadline alerts --------------------------
from sqlalchemy import Date  # noqa: E402  (kept with the tables that use it: this file is appended to)

# Mail is written in the same transaction as whatever caused it and sent later by the scheduler,
# so a slow or failing SMTP server never loses a notice nor holds up a step.
outbox = Table(
    "outbox", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE")),
    Column("kind", String(40), nullable=False),  # template name, or "mail"
    Column("to_address", String(254), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(10), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    # An issued document sent as the message's PDF attachment (its stored bytes), if any.
    Column("document_id", ForeignKey("documents.id")),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
    Index("ix_outbox_case", "case_id"),
)

# Days the office was closed (declared emergencies, ...): not working days for deadlines computed after.
closure_days = Table(
    "closure_days", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False, unique=True),
    Column("description", String(200), nullable=False),
    Column("created_by", String(64)),
    Column("created_at", UtcDateTime, nullable=False),
)

# Alert moments of a task deadline, planned when the task row is written; each is sent at most once.
deadline_alerts = Table(
    "deadline_alerts", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("task_id", ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("point", String(20), nullable=False),  # "dia-20" (alert on working day 20) | "vencido" (escalation)
    Column("working_days", Integer, nullable=False),  # the task's whole deadline, for the message
    Column("due_at", UtcDateTime, nullable=False),
    Column("state", String(10), nullable=False),  # pending | sent | cancelled
    Column("sent_at", UtcDateTime),
    UniqueConstraint("task_id", "point", name="uq_deadline_alerts_task_point"),
    Index("ix_deadline_alerts_state_due", "state", "due_at"),
)

# A supervisor's work in progress on one process: saved any number of times, published as a version.
process_drafts = Table(
    "process_drafts", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("process_key", String(100), nullable=False, unique=True),
    Column("xml", Text, nullable=False),
    Column("updated_by", String(64)),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("base_version", Integer),  # the version the draft started from (None: a new process)
    Column("revision", Integer, nullable=False, server_default="1"),  # +1 on every save: lost updates are refused
)

# One row per running scheduler process (host:pid), stamped after every pass: /health reads the newest.
scheduler_heartbeats = Table(
    "scheduler_heartbeats", metadata,
    Column("name", String(200), primary_key=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("beat_at", UtcDateTime, nullable=False),
)

# Idempotency-Key of a write request (API header or a page form's one-time token), per user: written in the same
# transaction as the request's changes; the answer is kept so a retry gets it back. Purged after a day.
idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", Id, nullable=False),
    Column("key", String(255), nullable=False),
    Column("fingerprint", String(64), nullable=False),  # sha256 of method, path and body: same key, same request
    Column("created_at", UtcDateTime, nullable=False),
    Column("response_status", Integer),  # NULL until the first request's answer is stored
    Column("response_body", Text),
    Column("response_content_type", String(100)),
    Column("response_location", String(2000)),
    UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
    Index("ix_idempotency_keys_created_at", "created_at"),
)

# -- documents the office issues (engine/documents, engine/storage/documents.py) -----------------------------
from sqlalchemy import LargeBinary  # noqa: E402  (kept with the table that uses it: this file is appended to)

# One row per issued document: its PDF bytes never change (a correction is a new row naming the one it corrects).
# `number` is the document's own (per kind and year, gapless: document_counters); None for kinds numbered by
# the case (the receipt). `citizen_facing`: /verificar may hand out the PDF itself to whoever holds the code.
documents = Table(
    "documents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id"), nullable=False, index=True),
    Column("task_id", String(36)),
    Column("kind", String(40), nullable=False),
    Column("number", String(40), unique=True),
    Column("year", Integer),
    Column("verification_code", String(19), nullable=False, unique=True),  # XXXX-XXXX-XXXX-XXXX
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("size_bytes", Integer),
    Column("pages", Integer),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("issued_by", String(80)),
    Column("corrects_id", ForeignKey("documents.id")),
    Column("citizen_facing", Boolean, nullable=False),
    # What the template was filled with (JSON: the form's and the case's data), so a correction starts from it.
    Column("data_json", Text),
    # Who signed ([{"username", "name", "role"}]: signer, co-signer) and how: "pades" when the PDF carries the
    # office's electronic signature (pyHanko), None when it carries the verification code alone.
    Column("signers_json", Text),
    Column("signature", String(20)),
    Column("correction_reason", Text),
)

# Hits per scope and key (a hashed client address, a tracking code, an e-mail address) in fixed windows: what the
# public pages count to slow guessing and abuse (engine/storage/rate_limits.py). Old windows are purged.
rate_limits = Table(
    "rate_limits", metadata,
    Column("scope", String(40), primary_key=True),
    Column("key_hash", String(64), primary_key=True),
    Column("window_start", UtcDateTime, primary_key=True),
    Column("hits", Integer, nullable=False),
    Index("ix_rate_limits_window_start", "window_start"),
)

# A filing made online, waiting for the citizen to confirm it from the e-mail sent to the address given: the case
# exists only once confirmed (its filing time is the confirmation's). Only the token's hash is kept.
pending_filings = Table(
    "pending_filings", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("process_key", String(100), nullable=False),
    Column("data_json", Text, nullable=False),
    Column("email", String(254), nullable=False),
    Column("attachments_json", Text, nullable=False, default="[]"),  # files uploaded with it, not yet a case's
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("confirmed_at", UtcDateTime),
    Column("case_id", ForeignKey("cases.id")),
    Index("ix_pending_filings_expires_at", "expires_at"),
)

# The last number issued per document kind and year; incremented in the issuing step's transaction (gapless).
document_counters = Table(
    "document_counters", metadata,
    Column("kind", String(40), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last", Integer, nullable=False),
)

# -- tamper evidence (engine/audit) -----------------------------------------------------------------------------------

# The head of each chain: "events" (the case history's global sequence) and "access" (access_log). Read FOR UPDATE by
# whoever appends, so the sequence is gapless and in commit order; `audit verify` compares it with the recomputed one.
audit_heads = Table(
    "audit_heads", metadata,
    Column("name", String(20), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("chain", String(64), nullable=False),
)

# Signed checkpoints of the events' Merkle tree (RFC 6962): the root over events 1..tree_size, in a signed note
# (engine.audit.checkpoints) an outside party can keep. Append-only (triggers).
audit_checkpoints = Table(
    "audit_checkpoints", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(64)),       # None: the scheduler's daily checkpoint
    Column("key_id", String(16), nullable=False),
    Column("note", Text, nullable=False),   # the signed note, as exported
    Index("ix_audit_checkpoints_tree_size", "tree_size"),
)

# Each run of `audit verify` (command line, scheduler, auditor's page): what it found. Append-only (triggers).
audit_verifications = Table(
    "audit_verifications", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("checkpoints", Integer, nullable=False),
    Column("problem", Text),        # the first disagreement, in words; None when all holds
    Column("run_by", String(64)),
)

# What users viewed and exported of the record (data protection under the LAIP: who watched the watchers), chained
# like the events (head "access"). Append-only (triggers).
access_log = Table(
    "access_log", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(64)),
    Column("action", String(40), nullable=False),   # e.g. audit.search, audit.case, audit.export
    Column("target", String(200)),                   # a case number, a search's filters in short
    Column("detail_json", Text),
    Column("chain", String(64), nullable=False),
    Index("ix_access_log_at", "at"),
    Index("ix_access_log_actor_at", "actor", "at"),
)


# The tables of messages between cases and institutions' replies live in models_messaging.py (same metadata); they
# are imported here so every table is reachable as engine.storage.models.<name>.
from engine.storage.models_messaging import (  # noqa: E402, F401 - after metadata, Id and UtcDateTime, which it uses
    case_links, institution_requests, institutions, message_waits, messages,
)
from engine.storage.models_lists import case_access, inbox_items  # noqa: E402, F401 - the lists' tables (0016)
from engine.storage.models_admin import admin_log  # noqa: E402, F401 - the administration log (0019)
from engine.storage.models_deadlines import legal_deadline_alerts, legal_deadlines  # noqa: E402, F401 - (0020)
from engine.storage.models_forms import draft_forms  # noqa: E402, F401 - forms edited within a draft (0022)
from engine.storage.models_visits import case_facts, element_visits, report_mailings  # noqa: E402, F401 - (0025)
from engine.storage.models_migrations import case_migration_items, case_migrations  # noqa: E402, F401 - (0021)
from engine.storage.models_decisions import draft_decisions  # noqa: E402, F401 - tables edited within a draft (0023)
