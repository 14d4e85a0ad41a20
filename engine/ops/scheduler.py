"""APScheduler jobs: fire due timers, deliver queued messages, send deadline alerts and queued mail, refresh closure
days, and every night verify the tamper-evident history and sign a checkpoint of it."""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, fields
from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from engine.usecases import closures, delivery, institutions
from engine.usecases import deadline_alerts, legal_deadlines, monthly_report
from engine.ops import health
from engine.mail import notifications
from engine.usecases import timers
from engine.storage import idempotency, rate_limits
from engine.ops.backup_schedule import add_backup_job
from engine.audit.checkpoints import create_checkpoint
from engine.audit.verify import verify_and_record
from engine.integrity import keys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SchedulerSettings:
    """How often the scheduler looks, and how much one pass takes on (EXPEDIENTE_SCHEDULER_*)."""

    interval_seconds: float = 5.0
    closure_refresh_seconds: float = 60.0  # other processes (the web, an admin's CLI) may add closure days
    timer_batch_size: int | None = None    # by the database: timers.TIMER_BATCH_SIZE, SQLite's smaller
    max_timers_per_pass: int = 2_000       # bounds how long a pass (and a clean stop) can take
    max_mail_per_pass: int = 100
    max_messages_per_pass: int = 500
    audit_checkpoint_hour: int = 23        # office time: verify the history, then sign a checkpoint of it

    @classmethod
    def from_env(cls, environ=None) -> "SchedulerSettings":
        """Read EXPEDIENTE_SCHEDULER_<FIELD> for each field (e.g. EXPEDIENTE_SCHEDULER_INTERVAL_SECONDS)."""
        env = os.environ if environ is None else environ
        kwargs = {}
        for f in fields(cls):
            name = f"EXPEDIENTE_SCHEDULER_{f.name.upper()}"
            if env.get(name):
                kwargs[f.name] = (float if f.type == "float" else int)(env[name])
        return cls(**kwargs)


@dataclass(frozen=True)
class PassResult:
    timers_fired: int = 0
    timers_skipped: int = 0
    alerts_sent: int = 0
    mail_sent: int = 0
    mail_retried: int = 0
    mail_failed: int = 0
    messages_delivered: int = 0

    def __add__(self, other: "PassResult") -> "PassResult":
        return PassResult(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def busy(self) -> bool:
        """True if the pass changed anything (so another might find more to do)."""
        return bool(self.timers_fired or self.alerts_sent or self.mail_sent or self.messages_delivered)


def run_pass(svc, settings: SchedulerSettings | None = None, stop: threading.Event | None = None) -> PassResult:
    """Fire due timers, then send due deadline alerts and queued mail; a failing job does not stop the next.

    A set `stop` ends the pass after the batch in hand (a clean shutdown); what is left waits for the next run.
    """
    settings = settings or SchedulerSettings()
    stopping = stop.is_set if stop is not None else (lambda: False)
    fired = alerts = mail = None
    delivered = 0
    try:
        fired = timers.fire_due_timers(svc, settings.max_timers_per_pass, settings.timer_batch_size, stopping)
    except Exception:  # noqa: BLE001 - logged; the next pass tries again
        log.exception("firing timers failed")
    try:  # what steps queued and did not deliver at once, early messages a case now waits for, expired ones
        delivered = 0 if stopping() else delivery.deliver_queued(svc, settings.max_messages_per_pass, sweep=True)
    except Exception:  # noqa: BLE001
        log.exception("delivering messages failed")
    try:  # institutions' reply links: reminders before their due date, escalation after it, expiry
        if not stopping():
            institutions.remind_and_escalate(svc)
    except Exception:  # noqa: BLE001
        log.exception("institution reminders failed")
    try:
        alerts = None if stopping() else deadline_alerts.send_due_alerts(svc)
    except Exception:  # noqa: BLE001
        log.exception("deadline alerts failed")
    try:
        if not stopping():
            legal_deadlines.send_due_alerts(svc)
    except Exception:  # noqa: BLE001
        log.exception("legal deadline alerts failed")
    try:  # the monthly summary for the Governor's office, once a month (before sending, so it goes in this pass)
        if not stopping():
            monthly_report.mail_monthly_summary(svc)
    except Exception:  # noqa: BLE001
        log.exception("mailing the monthly summary failed")
    try:
        mail = None if stopping() else notifications.send_pending(svc, settings.max_mail_per_pass)
    except Exception:  # noqa: BLE001
        log.exception("sending mail failed")
    try:  # keys older than the retention setting: no client retries that late
        idempotency.purge_expired(svc)
    except Exception:  # noqa: BLE001
        log.exception("purging idempotency keys failed")
    try:  # rate-limit windows of the public pages older than a day
        with svc.uow() as uow:
            rate_limits.purge(uow.conn, svc.clock())
            uow.commit()
    except Exception:  # noqa: BLE001
        log.exception("purging rate-limit windows failed")
    result = PassResult(fired.fired if fired else 0, fired.skipped if fired else 0, alerts or 0,
                        *((mail.sent, mail.retried, mail.failed) if mail else (0, 0, 0)), delivered)
    if result.busy or result.mail_retried or result.mail_failed:
        log.info("pass: %s", result)
    return result


def audit_checkpoint(svc) -> dict | None:
    """The nightly job: verify the whole history with the office key's public half, record the run, and sign a
    checkpoint only over a history that holds (a checkpoint over a broken one would vouch for the tampering)."""
    report = verify_and_record(svc, keys.office_key(svc.settings).public_key(), None)
    if not report.ok:
        log.error("AUDIT: the history does not verify (%d problems); no checkpoint signed. First: %s",
                  report.problem_count, report.first_problem)
        return None
    checkpoint = create_checkpoint(svc, None)
    log.info("audit: %s; checkpoint #%s of %s events", report.summary(), checkpoint["id"], checkpoint["tree_size"])
    return checkpoint


def log_to_stderr() -> None:
    """Show what passes do (and every library's warnings and errors) on stderr."""
    # Not INFO for all: SpiffWorkflow logs every task state change at INFO (a dozen lines per timer).
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("engine").setLevel(logging.INFO)


def run_until_idle(svc, settings: SchedulerSettings | None = None, max_passes: int = 10_000) -> PassResult:
    """Run passes back to back until one finds nothing to do."""
    total = PassResult()
    for _ in range(max_passes):
        result = run_pass(svc, settings)
        total += result
        if not result.busy:
            break
    return total


class _PassJob:
    """The pass of one scheduler process, followed by its heartbeat (what /health reads)."""

    def __init__(self, svc, settings: SchedulerSettings, stop: threading.Event):
        self.svc, self.settings, self.stop = svc, settings, stop
        self.name = health.scheduler_name()
        self.started_at = svc.clock()

    def __call__(self) -> PassResult:
        total = PassResult()
        while True:
            result = run_pass(self.svc, self.settings, self.stop)
            total += result
            try:
                health.beat(self.svc, self.name, self.started_at)
            except Exception:  # noqa: BLE001 - a busy database delays the beat, /health says so if it lasts
                log.exception("heartbeat failed")
            if self.stop.is_set() or not more_timers_due(result, self.settings):
                return total


def more_timers_due(result: PassResult, settings: SchedulerSettings) -> bool:
    """A pass that stopped at its timer limit having fired some: a burst is on, so the next pass starts at once
    rather than an interval later (10,000 timers due at once would otherwise take a few intervals)."""
    return result.timers_fired > 0 and result.timers_fired + result.timers_skipped >= settings.max_timers_per_pass


def build_scheduler(svc, settings: SchedulerSettings | None = None, *, blocking: bool = False,
                    backups=None):
    """An APScheduler with the pass job (first run at once: timers due while stopped fire now)."""
    settings = settings or SchedulerSettings()
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=timezone.utc, daemon=True)
    now = datetime.now(timezone.utc)
    job = _PassJob(svc, settings, threading.Event())
    scheduler.expediente_pass = job
    # One pass at a time per process; a pass that overruns the interval delays the next instead of stacking.
    scheduler.add_job(job, IntervalTrigger(seconds=settings.interval_seconds, timezone=timezone.utc),
                      id="pass", next_run_time=now, max_instances=1, coalesce=True, misfire_grace_time=None)
    scheduler.add_job(closures.refresh_calendar, IntervalTrigger(seconds=settings.closure_refresh_seconds,
                                                                 timezone=timezone.utc),
                      args=(svc,), id="closures", max_instances=1, coalesce=True, misfire_grace_time=None)
    scheduler.add_job(audit_checkpoint, CronTrigger(hour=settings.audit_checkpoint_hour, minute=0,
                                                    timezone=svc.calendar.tz),
                      args=(svc,), id="audit", max_instances=1, coalesce=True, misfire_grace_time=None)
    add_backup_job(scheduler, svc, backups)  # an engine.ops.backup.BackupSettings; None: no automatic backups
    return scheduler


def stop_cleanly(scheduler) -> None:
    """Let the running pass finish its batch, stop, and take this process's heartbeat away."""
    job = scheduler.expediente_pass
    job.stop.set()
    if scheduler.running:
        scheduler.shutdown(wait=True)
    try:
        health.forget(job.svc, job.name)
    except Exception:  # noqa: BLE001 - the row ages out; /health then reports the scheduler missing
        log.exception("could not remove the heartbeat")


def start_in_process(svc, settings: SchedulerSettings | None = None) -> BackgroundScheduler:
    """Start the jobs on a background thread of this process; stop with `stop_cleanly()`."""
    scheduler = build_scheduler(svc, settings)
    scheduler.start()
    return scheduler
