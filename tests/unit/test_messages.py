"""engine.messages: Spanish text that remembers its template, so the web side can translate it."""
from __future__ import annotations

import copy
import json
import pickle

import orjson

from engine.errors import Problem, SpecInvalid
from engine.messages import Message, msg, one_line
from engine.language.specs import parse_bundle


def test_message_renders_spanish_and_keeps_its_template_and_parameters():
    m = msg("La tarea de usuario «%(task)s» no está en ningún carril.", task="Revisar")
    assert isinstance(m, str) and isinstance(m, Message)
    assert m == "La tarea de usuario «Revisar» no está en ningún carril."
    assert m.msgid == "La tarea de usuario «%(task)s» no está en ningún carril."
    assert m.params == {"task": "Revisar"}


def test_a_message_without_parameters_is_its_template_as_is():
    m = msg("El archivo está vacío.")
    assert m == m.msgid == "El archivo está vacío." and m.params == {}


def test_message_behaves_like_its_text():
    m = msg("Límite: %(limit)s caracteres", limit=100)
    assert m == "Límite: 100 caracteres" and hash(m) == hash("Límite: 100 caracteres")
    assert {m: 1}["Límite: 100 caracteres"] == 1
    assert json.dumps(m) == json.dumps("Límite: 100 caracteres")
    assert orjson.loads(orjson.dumps({"m": m})) == {"m": "Límite: 100 caracteres"}
    assert m.upper() == "LÍMITE: 100 CARACTERES" and f"{m}" == "Límite: 100 caracteres"


def test_pickling_and_copying_keep_the_template():
    m = msg("%(what)s está en blanco.", what=msg("La condición"))
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(m, protocol))
        assert type(back) is Message and back == m and back.msgid == m.msgid
        assert back.params["what"].msgid == "La condición"
    assert copy.deepcopy(m).msgid == m.msgid and copy.copy(m).params == m.params


def test_one_line_keeps_a_message_translatable():
    m = one_line(msg("La tarea «%(task)s» no tiene formulario.", task="Revisar\n  la solicitud"))
    assert m == "La tarea «Revisar la solicitud» no tiene formulario."
    assert m.msgid == "La tarea «%(task)s» no tiene formulario." and m.params == {"task": "Revisar la solicitud"}
    assert one_line(" a\n b ") == "a b"


def test_engine_problems_carry_messages():
    try:
        parse_bundle({"vacio.bpmn": b""})
    except SpecInvalid as exc:
        [problem] = exc.problems
        refused = exc
    assert problem.message == "El archivo está vacío." and problem.message.msgid == "El archivo está vacío."
    # The error's own message says where, and stays translatable.
    assert refused.message == "vacio.bpmn:1: El archivo está vacío."
    assert refused.message.params["message"].msgid == "El archivo está vacío."
    assert str(Problem("a.bpmn", msg("Hola"), "x", 3)) == "a.bpmn:3 [x]: Hola"
