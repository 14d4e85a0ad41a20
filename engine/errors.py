"""Typed domain errors: the API maps each class to one HTTP status in a single table."""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.messages import msg


class ExpedienteError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "error"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, **self.details}


class NotFound(ExpedienteError):
    code = "not_found"


class ProcessNotFound(NotFound):
    code = "process_not_found"


class CaseNotFound(NotFound):
    code = "case_not_found"


class TaskNotFound(NotFound):
    code = "task_not_found"


class Conflict(ExpedienteError):
    """Someone else changed the case first; the caller must reload and retry."""

    code = "conflict"


class TaskNotReady(Conflict):
    """The task was completed, cancelled or taken by someone else."""

    code = "task_not_ready"


class Forbidden(ExpedienteError):
    code = "forbidden"


class RateLimited(ExpedienteError):
    """Too many attempts from one client or on one key in a window (public pages); `retry_after_seconds` says
    when the window ends."""

    code = "rate_limited"


class InvalidInput(ExpedienteError):
    """Input that can never succeed as sent; `errors` lists field-level problems."""

    code = "invalid_input"

    def __init__(self, message: str, errors: list[dict] | None = None, **details):
        super().__init__(message, errors=errors or [], **details)
        self.errors = errors or []


class FormInvalid(InvalidInput):
    code = "form_invalid"


@dataclass(frozen=True)
class Problem:
    """One problem in a BPMN/DMN document, precise enough for a supervisor to act on."""

    file: str
    message: str  # an engine.messages.Message (Spanish, translatable) wherever the engine wrote the text
    element_id: str | None = None
    line: int | None = None
    severity: str = field(default="error")

    def __str__(self) -> str:
        return str(self.summary())

    def summary(self) -> str:
        """'file:line [element]: message', translatable like the message (a Message when it is one)."""
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element_id:
            where += f" [{self.element_id}]"
        return msg("%(where)s: %(message)s", where=where, message=self.message)

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "element_id": self.element_id,
                "message": self.message, "severity": self.severity}


class SpecInvalid(InvalidInput):
    """A BPMN/DMN document was refused; `problems` says where and why."""

    code = "spec_invalid"

    def __init__(self, problems: list[Problem]):
        first = problems[0] if problems else None
        super().__init__(first.summary() if first else msg("El documento no es válido."),
                         errors=[p.to_dict() for p in problems])
        self.problems = problems


class ScriptError(ExpedienteError):
    """A BPMN script or condition failed, was refused by the sandbox, or ran out of time."""

    code = "script_error"


class ScriptTimeout(ScriptError):
    code = "script_timeout"


class LoopLimitExceeded(ExpedienteError):
    """A cycle in a diagram ran more often than the engine can track safely."""

    code = "loop_limit_exceeded"


class SerializerVersionUnsupported(ExpedienteError):
    """A case was stored in a format this build cannot read (and no upgrade step leads from it)."""

    code = "serializer_version_unsupported"
