"""The engine's one gate to the forms package: its errors become the engine's typed errors here, and only here."""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import orjson

from engine.errors import FormInvalid, NotFound
from engine.timekeeping.calendar import OFFICE_TZ
from forms.errors import FormProblems, UnknownForm
from forms.registry import FORMS_DIR, FormRegistry, SnapshotRegistry, legacy_schemas

FORM_INVALID_MESSAGE = "El formulario tiene errores; corríjalos y envíelo de nuevo."


class FormsGate:
    """Forms by key for the use cases: a refused submission raises FormInvalid, an unknown form NotFound."""

    def __init__(self, registry: FormRegistry):
        self._registry = registry
        self._versions: dict[str | None, FormsGate] = {}
        self._lock = threading.Lock()

    def snapshot(self, form_keys) -> dict[str, dict]:
        """The named forms' JSON Schemas as they are now, to keep with a process version (UnknownForm: NotFound)."""
        with _translated():
            return self._registry.snapshot(form_keys)

    def for_version(self, forms_json: str | None) -> "FormsGate":
        """The forms a process version was deployed with (its stored snapshot, `process_versions.forms_json`), so a
        running case is validated and shown with the forms it started with; a version stored before versions kept
        forms (None) has the forms of that time (forms/snapshots). Gates are kept by snapshot: validators are
        built once."""
        key = hashlib.sha256(forms_json.encode()).hexdigest() if forms_json is not None else None
        with self._lock:
            gate = self._versions.get(key)
        if gate is None:
            schemas = orjson.loads(forms_json) if forms_json is not None else legacy_schemas()
            gate = FormsGate(SnapshotRegistry(schemas, self._registry))
            with self._lock:
                if len(self._versions) > 256:  # a long-lived server with many deploys: start over
                    self._versions.clear()
                self._versions[key] = gate
        return gate

    def keys(self) -> list[str]:
        return self._registry.keys()

    def get(self, form_key: str) -> dict:
        """The form's JSON Schema."""
        with _translated():
            return self._registry.get(form_key)

    def validate(self, form_key: str | None, data: dict) -> dict:
        """Return `data` if it satisfies the form; raise FormInvalid listing every field's problem."""
        with _translated():
            return self._registry.validate(form_key, data)

    def summary(self, form_key: str | None, data: dict) -> dict:
        """Indexed case columns named by the form's "x-resumen"."""
        with _translated():
            return self._registry.summary(form_key, data)

    def citizen_email(self, form_key: str | None, data: dict) -> str | None:
        """The citizen's e-mail address in `data`, from the field the form marks "x-correo-ciudadano"."""
        with _translated():
            return self._registry.citizen_email(form_key, data)


def office_forms(clock: Callable[[], datetime], directory: Path = FORMS_DIR) -> FormsGate:
    """The forms in `directory`; "not in the past" means before the office's date by `clock`, "x-fecha": "pasada"
    after it (a moment's day read in office time)."""
    return FormsGate(FormRegistry(directory, today=lambda: office_date(clock()), office_tz=OFFICE_TZ))


def office_date(moment: datetime) -> date:
    """The office's calendar date at `moment`."""
    return moment.astimezone(OFFICE_TZ).date()


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except FormProblems as exc:
        raise FormInvalid(FORM_INVALID_MESSAGE, errors=exc.problems, form=exc.form_key) from exc
    except UnknownForm as exc:
        raise NotFound(exc.message, form=exc.form_key) from exc
