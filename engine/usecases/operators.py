"""What service tasks' operators do: send a mail, issue a document, ask an institution for its reply.

A service task names an operator declared in engine/language/operators.py (the lint checks the parameters against
that declaration). When the task runs, SpiffWorkflow evaluates the parameters in the sandbox and the script engine
(engine/sandbox/restricted.py, call_service) hands them to the Registry the runtime was built with
(engine/services.py); the Registry finds the operator by name and runs it inside the step being run
(engine/runtime/steps.py: its transaction, case and moment), so what it writes is committed or rolled back with
the step. An operator answers with plain values (the task's result variable); raising an ExpedienteError stops the
task in error, said in words to the supervisor, and a retry runs the operator again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from sqlalchemy import bindparam, select

from engine.errors import ExpedienteError, InvalidInput
from engine.language import operators as declarations
from engine.messages import msg
from engine.runtime.steps import StepContext, current_step
from engine.storage import models

# Who issues a document when nobody made the step happen (a timer, a message): the office itself.
OFFICE_ACTOR = "sistema"
MAX_RECIPIENTS = 20
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_CITIZEN_EMAIL = select(models.cases.c.citizen_email).where(models.cases.c.id == bindparam("b_case"))


@dataclass(frozen=True)
class Call:
    """One run of an operator: its evaluated parameters, the step it runs in (None outside a case's step), the
    element and the task's data (an operator may add to it, as a step that issues a document does)."""

    operator: str
    params: dict
    step: StepContext | None
    element_id: str | None = None
    task_id: str | None = None
    data: dict = field(default_factory=dict)


Operation = Callable[[Call], Any]


class Registry:
    """Operators by name: what the runtime calls for a service task. Tests register fakes on a service's own."""

    def __init__(self, functions: Mapping[str, Operation] | None = None):
        self._functions: dict[str, Operation] = dict(functions or {})

    @classmethod
    def default(cls) -> "Registry":
        return cls(BUILT_IN)

    def register(self, name: str, function: Operation) -> None:
        self._functions[name] = function

    def unregister(self, name: str) -> None:
        self._functions.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._functions)

    def __call__(self, name: str, params: dict, *, element_id: str | None = None, task_id: str | None = None,
                 data: dict | None = None) -> Any:
        function = self._functions.get(name)
        if function is None:
            raise InvalidInput(msg("la operación «%(operator)s» no existe en este servidor (operaciones: "
                                   "%(available)s)", operator=name, available=", ".join(self.names())),
                               errors=[{"field": "operator", "message": msg("operación desconocida")}])
        _check_declared(name, params)
        step = current_step()
        call = Call(name, dict(params), step, element_id, task_id, data if data is not None else {})
        if step is None:
            return function(call)
        with step.conn.begin_nested():  # an operator that fails leaves nothing behind in the step's transaction
            return function(call)


def _check_declared(name: str, params: dict) -> None:
    """The parameters its declaration requires and allows (the lint said so at deploy; a version deployed before a
    declaration changed may still differ)."""
    declared = declarations.operator(name)
    if declared is None:
        return
    unknown = sorted(set(params) - {p.name for p in declared.parameters})
    missing = [p for p in declared.required if p not in params]
    if unknown or missing:
        errors = [{"field": p, "message": msg("parámetro desconocido")} for p in unknown] + \
                 [{"field": p, "message": msg("parámetro obligatorio")} for p in missing]
        raise InvalidInput(msg("parámetros que la operación no admite: %(unknown)s; parámetros que le faltan: "
                               "%(missing)s", unknown=", ".join(unknown) or "-", missing=", ".join(missing) or "-"),
                           errors=errors)


# -- reading parameters ---------------------------------------------------------------------------------------------

def _bad(name: str, problem: str) -> InvalidInput:
    return InvalidInput(msg("el parámetro «%(parameter)s» %(problem)s", parameter=name, problem=problem),
                        errors=[{"field": name, "message": problem}])


def _text(call: Call, name: str, required: bool = True) -> str | None:
    value = call.params.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _bad(name, msg("debe ser un texto no vacío (vale %(value)s)", value=repr(value)[:80]))
    return value.strip()


def _whole(call: Call, name: str, minimum: int = 1) -> int:
    value = call.params.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _bad(name, msg("debe ser un número entero mayor o igual a %(minimum)s (vale %(value)s)",
                             minimum=minimum, value=repr(value)[:80]))
    return value


def _wholes(call: Call, name: str) -> list[int]:
    value = call.params.get(name)
    if value is None:
        return []
    items = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(items, (list, tuple)) or any(isinstance(i, bool) or not isinstance(i, int) or i < 1
                                                   for i in items):
        raise _bad(name, msg("debe ser una lista de números enteros positivos (vale %(value)s)",
                             value=repr(value)[:80]))
    return sorted(set(items))


def _step(call: Call) -> StepContext:
    if call.step is None:
        raise ExpedienteError(msg("la operación «%(operator)s» solo se ejecuta dentro de un paso de un expediente",
                                  operator=call.operator))
    return call.step


# -- the operators ----------------------------------------------------------------------------------------------------

def send_mail(call: Call) -> dict:
    """enviar_correo: queue a mail (one per address) for the case, in the step's transaction."""
    from engine.mail.notifications import enqueue_mail
    step = _step(call)
    to = call.params.get("para")
    addresses = [to] if isinstance(to, str) else to
    if not isinstance(addresses, (list, tuple)) or not addresses or len(addresses) > MAX_RECIPIENTS or \
            not all(isinstance(a, str) and _EMAIL.match(a.strip()) for a in addresses):
        raise _bad("para", msg("debe ser una dirección de correo, o una lista de hasta %(limit)s (vale %(value)s)",
                               limit=MAX_RECIPIENTS, value=repr(to)[:120]))
    subject, body = _text(call, "asunto"), _text(call, "cuerpo")
    recipients = list(dict.fromkeys(a.strip() for a in addresses))
    for address in recipients:
        enqueue_mail(step.conn, to=address, subject=subject, body=body, now=step.now, case_id=step.case_id,
                     kind="enviar_correo")
    return {"destinatarios": recipients, "correos": len(recipients)}


def issue_document(call: Call) -> dict | list[dict]:
    """emitir_documento: issue a document of that kind for the case, as a task with the `document` property does
    (number, code, PDF, signature, history), with the task's data; `documento_<tipo>` lands in that data too."""
    from engine.documents import kinds
    from engine.usecases import issuing
    step = _step(call)
    kind, each = _text(call, "tipo"), _text(call, "cada", required=False)
    if kind not in kinds.KINDS or kind == kinds.RECEIPT:
        raise _bad("tipo", msg("no es una clase de documento que se emita en un paso (vale %(value)s)",
                               value=repr(kind)))
    svc, conn = step.svc, step.conn
    pending = issuing.allocate(svc, conn, kind, each, call.data, step.now)
    citizen_email = conn.execute(_CITIZEN_EMAIL, {"b_case": step.case_id}).scalar()
    # A failure rolls back to the Registry's savepoint: the numbers are given back with it (no gap).
    issued = issuing.issue(svc, conn, case_id=step.case_id, task_id=call.task_id, pending=pending,
                           data=dict(call.data), actor=step.actor or OFFICE_ACTOR, now=step.now,
                           citizen_email=citizen_email)
    refs = [{"numero": d["number"], "codigo": d["verification_code"], "documento": d["id"]} for d in issued]
    if each is not None:
        return refs
    return refs[0] if refs else {}


def request_institution(call: Call) -> dict:
    """solicitar_institucion: ask an institution for its reply by link (engine/usecases/institutions.py); the reply
    arrives as the message `mensaje`, correlated by the request's id (the result's `solicitud`)."""
    from engine.usecases.institutions import request_reply  # its own module, below nothing of ours
    step = _step(call)
    answer = request_reply(
        step.svc, step.conn, case_id=step.case_id, institution_key=_text(call, "institucion"),
        message_name=_text(call, "mensaje"), due_days=_whole(call, "plazo_dias"),
        reminder_days=_wholes(call, "recordatorios"), escalation_group=_text(call, "grupo", required=False),
        subject=_text(call, "asunto", required=False), document_kind=_text(call, "documento", required=False),
        element_id=call.element_id, actor=step.actor, now=step.now, data=dict(call.data))
    due = answer.get("due_at")
    # Not the link: it is the institution's secret (who holds it answers into the case), and the case's data is
    # read by staff and kept in its history; the mail carries it (institutions.link_for signs it again).
    return {"solicitud": answer.get("id"), "vence": due.isoformat() if hasattr(due, "isoformat") else due,
            "documento": answer.get("document")}


BUILT_IN: dict[str, Operation] = {
    "enviar_correo": send_mail,
    "emitir_documento": issue_document,
    "solicitar_institucion": request_institution,
}
