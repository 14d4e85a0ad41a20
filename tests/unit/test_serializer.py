"""The serializer: configured once, stored versions upgraded by explicit steps or refused with a typed error."""
from __future__ import annotations

import json
from uuid import UUID

import pytest
from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry

from api.errors import status_for
from engine.errors import SerializerVersionUnsupported
from engine.language.specs import parse_bundle
from engine.runtime import serializer
from engine.runtime.runner import Runtime, ready_human_tasks
from tests.conftest import bpmn_fixture


@pytest.fixture
def stored():
    """(document text, spec, subprocess specs) of a five_step case waiting at 'register'."""
    proc = parse_bundle({"five_step.bpmn": bpmn_fixture("five_step.bpmn")}).processes["five_step"]
    spec, subs = serializer.load_spec(serializer.dump_spec(proc.spec, proc.subprocess_specs))
    rt = Runtime()
    wf = rt.new_workflow(spec, subs, {"amount": 7})
    assert rt.advance(wf) is None
    return serializer.dump_workflow(wf), spec, subs


def _as_version(text: str, version, **changes) -> str:
    dct = json.loads(text)
    if version is None:
        del dct["serializer_version"]
    else:
        dct["serializer_version"] = version
    dct.update(changes)
    return json.dumps(dct)


def test_a_stored_document_names_the_current_version(stored):
    text, _, _ = stored
    assert json.loads(text)["serializer_version"] == serializer.SERIALIZER_VERSION
    assert serializer.MIGRATIONS == {}  # nothing stored in an older format today


def test_registered_steps_upgrade_an_older_document_in_order(stored, monkeypatch):
    text, spec, subs = stored
    # An invented older format that kept the tasks under another key and the root under another name.
    dct = json.loads(text)
    older = _as_version(text, "spiff-1.3+exp0", old_tasks=dct["tasks"], old_root=dct["root"])
    older = json.dumps({k: v for k, v in json.loads(older).items() if k not in ("tasks", "root")})
    ran = []

    def from_1_3(doc):
        ran.append("1.3")
        doc["tasks"] = doc.pop("old_tasks")
        return "spiff-1.4+exp0"

    def from_1_4(doc):
        ran.append("1.4")
        doc["root"] = doc.pop("old_root")
        return serializer.SERIALIZER_VERSION

    monkeypatch.setitem(serializer.MIGRATIONS, "spiff-1.4+exp0", from_1_4)
    monkeypatch.setitem(serializer.MIGRATIONS, "spiff-1.3+exp0", from_1_3)
    wf = serializer.load_workflow(older, spec, subs)
    assert ran == ["1.3", "1.4"]
    [task] = ready_human_tasks(wf)
    assert task.element_id == "register" and wf.get_task_from_id(UUID(task.id)).data["amount"] == 7


@pytest.mark.parametrize("version", ["spiff-9.9+exp1", "spiff-1.5+exp0", None])
def test_a_version_without_a_step_is_refused_with_a_typed_error(stored, version):
    text, spec, subs = stored
    with pytest.raises(SerializerVersionUnsupported) as caught:
        serializer.load_workflow(_as_version(text, version), spec, subs)
    details = caught.value.details
    assert details["stored_version"] == version and details["reached_version"] == version
    assert details["supported_versions"] == [serializer.SERIALIZER_VERSION]
    assert str(version) in caught.value.message


def test_a_step_that_leads_nowhere_or_in_a_circle_is_refused(stored, monkeypatch):
    text, spec, subs = stored
    monkeypatch.setitem(serializer.MIGRATIONS, "old-a", lambda doc: "old-b")
    monkeypatch.setitem(serializer.MIGRATIONS, "old-b", lambda doc: "old-a")
    monkeypatch.setitem(serializer.MIGRATIONS, "old-c", lambda doc: "unknown")
    with pytest.raises(SerializerVersionUnsupported) as circle:
        serializer.load_workflow(_as_version(text, "old-a"), spec, subs)
    assert circle.value.details["stored_version"] == "old-a"
    with pytest.raises(SerializerVersionUnsupported) as nowhere:
        serializer.load_workflow(_as_version(text, "old-c"), spec, subs)
    assert nowhere.value.details["reached_version"] == "unknown"
    assert "old-c" in nowhere.value.details["supported_versions"]


def test_the_error_is_a_409_for_the_api():
    # The request is fine and the case exists; its stored state is what this build cannot read.
    assert status_for(SerializerVersionUnsupported("x")) == 409


def test_saving_never_changes_a_shared_registry(stored, monkeypatch):
    text, spec, subs = stored
    writes = []
    original = DefaultRegistry.__setattr__

    def spy(self, name, value):
        writes.append(name)
        original(self, name, value)

    monkeypatch.setattr(DefaultRegistry, "__setattr__", spy)
    wf = serializer.load_workflow(text, spec, subs)
    assert serializer.dump_workflow(wf) == text
    serializer.dump_spec(spec, subs)
    assert writes == []
