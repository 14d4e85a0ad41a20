"""Walk a deployed procedure through the use cases, as the clerks would, one step at a time.

Every step goes through engine.usecases.tasks.complete_task, which loads the case from the database,
runs it and saves it: each walk saves and reloads the case between steps.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from pathlib import Path

from engine.usecases import cases
from engine.usecases import tasks
from engine.usecases import timers
from engine.usecases.cases import OFFICE_TZ
from engine.usecases.deploy import deploy_files, read_paths
from engine.usecases.institution_records import seed_institutions
from engine.usecases.lanes import apply_lane_files
from tests.conftest import SYSTEM, make_services, principal_for
from tests.task_rows import task_rows

ROOT = Path(__file__).resolve().parents[2]
GT = OFFICE_TZ
PROCESSES = ROOT / "processes"


def office(url: str, clock, **settings):
    """Services with the real forms and every procedure in processes/ deployed, lanes mapped, institutions kept."""
    svc = make_services(url, clock, **settings)  # the app's forms: "not in the past" by the fake clock
    deploy_files(svc, read_paths([PROCESSES]), actor="tests")
    apply_lane_files(svc, [PROCESSES])
    seed_institutions(svc)  # the PNC, CONRED, RIC, the property registry: the diagrams ask them by key
    return svc


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """A moment in office time (UTC-6), as the UTC datetime the fake clock runs on."""
    return datetime(y, m, d, hh, mm, tzinfo=OFFICE_TZ).astimezone(timezone.utc)


def closing(y: int, m: int, d: int) -> datetime:
    """16:30 office time: when a working-day deadline falls due."""
    return datetime.combine(date(y, m, d), time(16, 30), tzinfo=OFFICE_TZ).astimezone(timezone.utc)


class Walk:
    """One case, driven step by step; asserts as it goes so a wrong route fails where it happens."""

    def __init__(self, svc, process_key: str, data: dict | None = None, actor: str = "oficial1"):
        self.svc = svc
        self.case = cases.start_case(svc, principal_for(actor), process_key, data or {})
        self.id = self.case.id
        self.route: list[str] = []

    @classmethod
    def of(cls, svc, case_id: int) -> "Walk":
        """A walk of a case that something else started (a message from another case)."""
        walk = cls.__new__(cls)
        walk.svc, walk.id, walk.route = svc, case_id, []
        walk.case = cases.get_case(svc, SYSTEM, case_id)
        return walk

    def ready(self) -> list[str]:
        """Element ids of the ready human tasks, sorted."""
        return sorted(t["element_id"] for t in task_rows(self.svc, self.id))

    def task(self, element_id: str) -> dict:
        rows = [t for t in task_rows(self.svc, self.id) if t["element_id"] == element_id]
        assert rows, f"{element_id} is not ready; ready: {self.ready()} (state {self.state})"
        return rows[0]

    def complete(self, element_id: str, data: dict | None = None, actor: str = "oficial1") -> "Walk":
        """Complete the ready task `element_id` with `data` (validated against its form). A clerk records an
        event after it happens: if `data` dates one (a field "x-fecha": "pasada") later than the fake clock, the
        clock moves to it first (no timer fires: `at` does that)."""
        row = self.task(element_id)
        self._record_after(row["form_key"], data or {})
        result = tasks.complete_task(self.svc, principal_for(actor), row["id"], data or {})
        assert result["case_state"] != "error", f"{element_id}: {result['error_element']}: {result['error_message']}"
        self.route.append(element_id)
        return self

    def _record_after(self, form_key: str | None, data: dict) -> None:
        if form_key is None or self.svc.forms is None:
            return
        latest = max(past_event_moments(self.svc.forms.get(form_key), data), default=None)
        if latest is not None and latest > self.svc.clock.now:
            self.svc.clock.now = latest

    def at(self, moment: datetime) -> "Walk":
        """Move the fake clock and fire whatever timers are due."""
        self.svc.clock.now = moment
        timers.fire_due_timers(self.svc)
        return self

    def later(self, **delta) -> "Walk":
        self.svc.clock.advance(**delta)
        timers.fire_due_timers(self.svc)
        return self

    @property
    def state(self) -> str:
        return cases.get_case(self.svc, SYSTEM, self.id)["state"]

    @property
    def data(self) -> dict:
        return cases.case_data(self.svc, SYSTEM, self.id)

    def timers(self) -> list[tuple]:
        with self.svc.uow(write=False) as uow:
            return uow.conn.exec_driver_sql(
                f"SELECT element_id, due_at, state FROM timers WHERE case_id = {int(self.id)} ORDER BY due_at").all()

    def history(self) -> list[str]:
        return [e["kind"] for e in cases.case_history(self.svc, SYSTEM, self.id)]


def past_event_moments(schema: dict, data: dict):
    """The moments (UTC) of the past events `data` records in the fields `schema` marks "x-fecha": "pasada" (a date
    alone counts from 08:00 office time that day), nested objects and lists of objects included."""
    for key, prop in (schema.get("properties") or {}).items():
        value = data.get(key) if isinstance(data, dict) else None
        if value is None or not isinstance(prop, dict):
            continue
        if prop.get("x-fecha") == "pasada" and isinstance(value, str):
            if len(value) == 10:
                yield datetime.combine(date.fromisoformat(value), time(8), tzinfo=GT).astimezone(timezone.utc)
            else:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                yield (moment if moment.tzinfo else moment.replace(tzinfo=GT)).astimezone(timezone.utc)
        elif isinstance(value, dict):
            yield from past_event_moments(prop, value)
        elif isinstance(value, list) and isinstance(prop.get("items"), dict):
            for item in value:
                if isinstance(item, dict):
                    yield from past_event_moments(prop["items"], item)
