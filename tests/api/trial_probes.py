"""Targets for the authorization matrix's rows of trial runs and import fixes: drafts that run without forms, and
trials owned by the caller (a trial is its owner's alone)."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from engine.usecases import drafts, trial
from tests.api.probes import unique
from tests.bpmn import linear, user
from tests.conftest import principal_for

# The trials these rows start stay out of the machine's shared temporary folder, and go when the run ends
# (each is a migrated database of about 1 MB).
if "EXPEDIENTE_TRIAL_DIR" not in os.environ:
    os.environ["EXPEDIENTE_TRIAL_DIR"] = tempfile.mkdtemp(prefix="expediente-trials-")
    atexit.register(shutil.rmtree, os.environ["EXPEDIENTE_TRIAL_DIR"], ignore_errors=True)
FOREIGN = Path(__file__).resolve().parents[1] / "fixtures" / "foreign" / "a10_carriles_juel.bpmn"
TIMER = ('<bpmn:intermediateCatchEvent id="{id}" name="Esperar un día"><bpmn:timerEventDefinition>'
         '<bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')


def trial_draft(svc, timer: bool = False) -> str:
    """A new procedure's draft: a user task (after a one-day timer with `timer`), no form."""
    key = unique("prueba_")
    steps = [TIMER, user("Revisar")] if timer else [user("Revisar")]
    drafts.save_draft(svc, principal_for("supervisor1", "supervisor"), key, linear(*steps, process_id=key).decode())
    return key


def trial_state(svc, username: str | None, timer: bool = False) -> dict:
    """A trial of a fresh draft owned by `username` (by a supervisor for callers refused anyway)."""
    who = username if username in ("supervisor1", "admin") else "supervisor1"
    owner = principal_for(who, "admin" if who == "admin" else "supervisor")
    return trial.start_trial(svc, owner, trial_draft(svc, timer), {}, {})


def trial_path(svc, username: str | None, tail: str = "", timer: bool = False) -> str:
    return f"/api/trials/{trial_state(svc, username, timer)['token']}{tail}"


def trial_task_path(svc, username: str | None) -> str:
    state = trial_state(svc, username)
    return f"/api/trials/{state['token']}/tasks/{state['ready_tasks'][0]['id']}"


def foreign_fix() -> dict:
    """A diagram from another tool and one fix it needs (its process takes the procedure's key)."""
    return {"xml": FOREIGN.read_text(encoding="utf-8"), "fixes": [{"id": "process_id:WFP-6-"}]}


def trial_task_page(svc, username: str | None) -> str:
    """The page of a trial's ready task (its form as the clerk sees it), in a trial owned by `username`."""
    state = trial_state(svc, username)
    return f"/modelador/{state['process_key']}/prueba/{state['token']}/tarea/{state['ready_tasks'][0]['id']}"
