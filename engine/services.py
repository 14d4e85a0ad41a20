"""Concrete choices wired in one place: database, clock, script runtime, spec cache."""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from threading import Lock
from typing import Callable

from sqlalchemy import Engine, select

from engine.storage import models
from engine.runtime import serializer
from engine.timekeeping.calendar import WorkingCalendar
from engine.config import Settings
from engine.storage.db import make_engine
from engine.timekeeping.deadlines import DeadlinePlanner
from engine.errors import ProcessNotFound
from engine.runtime.runner import Runtime
from engine.sandbox.helpers import OfficeHelpers
from engine.storage.unit_of_work import UnitOfWork
from engine.usecases import delivery

SPEC_CACHE_ENTRIES = 128
log = logging.getLogger(__name__)
_delivering = threading.local()  # this thread is delivering messages (Services._deliver_messages)
_versions = models.process_versions


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


class SpecCache:
    """Parsed specs, and the forms gates (engine.forms_gate.FormsGate.for_version), by process version id;
    versions are immutable so entries never go stale."""

    def __init__(self, capacity: int = SPEC_CACHE_ENTRIES):
        self._items: OrderedDict[tuple, object] = OrderedDict()
        self._capacity = capacity
        self._lock = Lock()

    def get(self, conn, version_id: int) -> tuple:
        def load():
            text = conn.execute(select(_versions.c.spec_json).where(_versions.c.id == version_id)).scalar()
            if text is None:
                raise ProcessNotFound(f"process version {version_id} does not exist")
            return serializer.load_spec(text)
        return self._cached(("spec", version_id), load)

    def forms(self, conn, version_id: int, gate):
        """`gate.for_version` of the version's stored forms, read from the database once per version."""
        return self._cached(("forms", version_id), lambda: gate.for_version(
            conn.execute(select(_versions.c.forms_json).where(_versions.c.id == version_id)).scalar()))

    def _cached(self, key: tuple, load: Callable[[], object]):
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        loaded = load()
        with self._lock:
            self._items[key] = loaded
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return loaded


@dataclass
class Services:
    """Everything a use case needs; tests pass fakes (clock, helpers) through here."""

    settings: Settings
    db: Engine
    clock: Callable[[], datetime] = system_clock
    script_helpers: dict = field(default_factory=dict)
    specs: SpecCache = field(default_factory=SpecCache)
    runtime: Runtime = None
    # Validates submissions by form key (engine.forms_gate.FormsGate); None accepts any object and any form key.
    forms: object = None
    # Working days; closure days from the database are added by whoever loads them.
    calendar: WorkingCalendar = None
    # Sends the outbox (engine.mail.notifications.SmtpMailer); None leaves mail waiting in the outbox.
    mailer: object = None
    # When task deadline alerts go out (engine.timekeeping.deadlines.AlertPolicy); None uses its defaults.
    alert_policy: object = None
    # Signs issued documents with the office's certificate (engine.documents.signing.OfficeSigner); None: unsigned.
    signer: object = None

    def __post_init__(self):
        if self.calendar is None:
            self.calendar = WorkingCalendar()
        if not self.script_helpers:  # rebuilt inside the script workers from the calendar, plazos and clock
            self.script_helpers = OfficeHelpers(lambda: self.calendar, self.settings.plazos, self.clock)
        if self.runtime is None:
            from engine.usecases.operators import Registry  # service tasks' operators, by name (tests add fakes)
            self.runtime = Runtime(self.script_helpers, self.settings.script_time_limit_seconds,
                                   self.settings.max_task_depth, self.settings.max_engine_steps,
                                   self.settings.max_join_rounds, clock=self.clock,
                                   script_workers=self.settings.script_workers,
                                   script_memory_bytes=self.settings.script_memory_limit_mb * 2**20,
                                   service_handler=Registry.default())

    def uow(self, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self.db, write=write, on_messages=self._deliver_messages if write else None)

    def _deliver_messages(self) -> None:
        """After a commit that queued messages: deliver them now, in this thread (the scheduler is the safety
        net: a failure here leaves them queued). Nested commits inside a delivery only ask the running one to go on."""
        if not self.settings.deliver_messages_at_once:
            return
        if getattr(_delivering, "active", False):
            _delivering.again = True
            return
        _delivering.active = True
        try:
            while True:
                _delivering.again = False
                delivery.deliver_queued(self)
                if not _delivering.again:
                    break
        except Exception:  # noqa: BLE001 - the step that queued them is committed; the scheduler retries
            log.exception("delivering queued messages failed; the scheduler will try again")
        finally:
            _delivering.active = False

    @property
    def deadlines(self):
        """Task deadline planner on the current calendar (closure days included)."""
        return DeadlinePlanner(self.calendar, self.alert_policy, self.settings.plazos)


def build_services(settings: Settings | None = None, **overrides) -> Services:
    """Wire the production services (or tests' variants through `overrides`)."""
    from engine.usecases.closures import refresh_calendar
    from engine.timekeeping.deadlines import AlertPolicy
    from engine.mail.notifications import SmtpMailer, SmtpSettings
    settings = settings or Settings.from_env()
    from engine.documents.kinds import check_overrides
    check_overrides(settings.document_numbers)  # a bad number pattern stops the start, not the first issue
    if "signer" not in overrides:  # an unreadable certificate or key stops the start, not the first signature
        from engine.documents.signing import load_signer
        overrides["signer"] = load_signer(settings.signing_cert, settings.signing_key, settings.signing_chain,
                                          settings.signing_key_password)
    if "mailer" not in overrides:
        smtp = SmtpSettings.from_env()
        overrides["mailer"] = SmtpMailer(smtp) if smtp else None
    overrides.setdefault("alert_policy", AlertPolicy.from_env())
    wants_forms = "forms" not in overrides
    svc = Services(settings=settings, db=overrides.pop("db", None) or make_engine(settings), **overrides)
    if wants_forms:  # importing the forms (jsonschema's format checkers) takes about a second
        from engine.forms_gate import office_forms
        svc.forms = office_forms(lambda: svc.clock())  # "not in the past" by the services' clock
    refresh_calendar(svc)  # closure days declared by the office
    return svc
