"""The service operators a diagram's service task may call: their names, parameters and results, as plain data.

A service task names its operator with `spiffworkflow:serviceTaskOperator id="<name>"`; each
`spiffworkflow:parameter` holds a Python expression the sandbox evaluates in the task's data when the task runs
(as in spiff-arena: `'pnc'` is the text pnc, `solicitante.correo` a field of the data). The operator's answer is
stored under the operator's `resultVariable`.

This module only declares: the lint (engine/language/lint.py) refuses what these declarations do not allow, and
the modeler's panel offers them; what an operator does lives in engine/usecases/operators.py. A parameter's `kind`
tells the modeler how to edit it: "text" is usually a literal text (the panel quotes it), "expression" a value
taken from the data.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from engine.messages import Message, msg

EXPRESSION = "expression"
TEXT = "text"


@dataclass(frozen=True)
class Parameter:
    name: str
    required: bool
    description: Message
    kind: str = EXPRESSION  # EXPRESSION or TEXT


@dataclass(frozen=True)
class Operator:
    name: str
    title: Message
    parameters: tuple[Parameter, ...]
    returns: Message  # what lands in the result variable

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters if p.required)


def _declare(*operators: Operator) -> dict[str, Operator]:
    return {o.name: o for o in operators}


_OPERATORS: dict[str, Operator] = _declare(
    Operator(
        "enviar_correo", msg("Enviar un correo"),
        (Parameter("para", True, msg("Dirección de correo del destinatario, o una lista de direcciones."),
                   EXPRESSION),
         Parameter("asunto", True, msg("Asunto del correo."), TEXT),
         Parameter("cuerpo", True, msg("Texto del correo."), TEXT)),
        msg("{'destinatarios': [direcciones], 'correos': cantidad de correos puestos en cola}")),
    Operator(
        "emitir_documento", msg("Emitir un documento"),
        (Parameter("tipo", True, msg("Clase de documento que se emite (por ejemplo 'oficio')."), TEXT),
         Parameter("cada", False, msg("Opcional: nombre de un campo con una lista; se emite un documento por cada "
                                      "elemento de ella."), TEXT)),
        msg("{'numero', 'codigo', 'documento'} del documento emitido; con «cada», la lista de todos")),
    Operator(
        "solicitar_institucion", msg("Solicitar respuesta a una institución"),
        (Parameter("institucion", True, msg("Clave de la institución a la que se pide (por ejemplo 'pnc')."),
                   TEXT),
         Parameter("mensaje", True, msg("Nombre del mensaje con el que llega la respuesta al expediente; una "
                                        "tarea de recepción lo espera."), TEXT),
         Parameter("plazo_dias", True, msg("Días hábiles que tiene la institución para responder."), EXPRESSION),
         Parameter("recordatorios", False, msg("Opcional: a cuántos días hábiles del vencimiento se le recuerda "
                                               "(una lista, por ejemplo [5, 2]; por omisión, 2)."), EXPRESSION),
         Parameter("grupo", False, msg("Opcional: grupo al que se avisa si vence el plazo sin respuesta."), TEXT),
         Parameter("documento", False, msg("Opcional: clase de documento que se emite con la solicitud (por "
                                           "ejemplo 'oficio')."), TEXT),
         Parameter("asunto", False, msg("Opcional: asunto del correo a la institución."), TEXT)),
        msg("{'solicitud': identificador de la solicitud, 'vence': fecha límite, 'documento': el oficio emitido}")),
)
# Operators declared at run time (tests, an office's own extensions), by name.
_EXTRA: dict[str, Operator] = {}


def operator(name: str | None) -> Operator | None:
    """The operator declared under `name`, or None."""
    if not name:
        return None
    return _EXTRA.get(name) or _OPERATORS.get(name)


def operators() -> Iterator[Operator]:
    """Every declared operator, by name."""
    merged = {**_OPERATORS, **_EXTRA}
    for name in sorted(merged):
        yield merged[name]


def declare(op: Operator) -> None:
    """Declare one more operator (its implementation is registered with the runtime apart)."""
    _EXTRA[op.name] = op


def undeclare(name: str) -> None:
    """Forget an operator declared with `declare` (the built-in ones stay)."""
    _EXTRA.pop(name, None)


def as_data(localize=str) -> list[dict]:
    """The declarations as plain data for the modeler, texts passed through `localize` (the page's language)."""
    return [{"name": o.name, "title": localize(o.title), "returns": localize(o.returns),
             "parameters": [{"name": p.name, "required": p.required, "description": localize(p.description),
                             "kind": p.kind} for p in o.parameters]}
            for o in operators()]
