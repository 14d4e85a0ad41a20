"""The one configured SpiffWorkflow serializer: specs stored once per version, instances by reference.

SpiffWorkflow embeds the whole process spec in every saved instance (about half of a fresh case).
We store the spec once with its process version and save only the instance state; loading
re-attaches the cached spec. The instance JSON records its serializer version; a stored version other
than ours is brought up to date by the steps in MIGRATIONS, or refused with SerializerVersionUnsupported.
Everything here is configured once, at import, and never changed afterwards: web threads and the
scheduler thread share it.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from types import ModuleType
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_SERIALIZER_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.errors import SerializerVersionUnsupported
from engine.messages import msg
from engine.runtime.pruning import DONE_KEY, prune_document
from engine.runtime.walks import DeepEndJoin, DeepSubWorkflow, DeepWorkflow, has_deep_end_joins

# Our format = the installed SpiffWorkflow's serializer version + our own envelope revision. After an
# upgrade of SpiffWorkflow that changes its version, cases stored before load only through a step in
# MIGRATIONS (tests/integration/test_stored_corpus.py fails until one is written).
SERIALIZER_VERSION = f"spiff-{SPIFF_SERIALIZER_VERSION}+exp1"
_VERSION_KEY = "serializer_version"
_ESCAPED_FLAG = "expediente_escaped"
_STDLIB_FLAG = "expediente_stdlib_json"
# A dict key "typename" in user data makes SpiffWorkflow rebuild (or crash on) the dict when
# loading; such keys are stored with one more leading "~" and restored after loading.
_TYPENAME_KEY = re.compile(r"^~*typename$")

# Upgrade steps for stored workflows, by the version they read: each changes the stored document (a dict,
# without its version key) in place and returns the version it now has. `load_workflow` applies them one
# after another until the document is at SERIALIZER_VERSION. Empty: every stored case is at the current version.
Migration = Callable[[dict], str]
MIGRATIONS: dict[str, Migration] = {}


class _InstanceOnlyConverter(BpmnWorkflowConverter):
    """Workflow converter that leaves the spec out; loading takes it from the caller."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        if spec is None:  # a document saved with an embedded spec (SpiffWorkflow's own format)
            return super().from_dict(dct)
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_registry(encoder_mode: bool):
    """A registry of every class a case holds; `encoder_mode` is fixed here, for the registry's whole life.

    SpiffWorkflow's registry converts task data one of two ways, chosen by its `_encoder_mode` attribute:
    on, data values are left for the JSON encoder's default hook (what SpiffWorkflow's own serialize_json
    does, by flipping the flag on its one registry around each call); off, they are converted into dicts
    right away. Flipping it per call on a registry shared by web threads and the scheduler thread is a race
    (one thread's dump switches the mode under another's), so we build one registry per mode, once.
    """
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _InstanceOnlyConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # Ours are written under SpiffWorkflow's names (stored JSON is the library's) and restored as ours,
    # which walk the task tree without SpiffWorkflow's depth cap (engine.runtime.walks).
    _InstanceOnlyConverter(DeepWorkflow, registry, typename="BpmnWorkflow")
    config[BpmnSubWorkflow](DeepSubWorkflow, registry, typename="BpmnSubWorkflow")
    config[_EndJoin](DeepEndJoin, registry, typename="_EndJoin")
    # Values scripts may put in task data that SpiffWorkflow cannot store by itself.
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry.register(time, lambda v: {"value": v.isoformat()}, lambda v: time.fromisoformat(v["value"]))
    registry._encoder_mode = encoder_mode
    return registry


# Workflows: data left as Python values until the JSON encoder (so `check` in dump_workflow sees them).
_registry = _build_registry(encoder_mode=True)
_workflows = BpmnWorkflowSerializer(registry=_registry)
# Specs, and restoring anything (restoring does not read the mode).
_specs = BpmnWorkflowSerializer(registry=_build_registry(encoder_mode=False))


def _default(obj):
    typename = _registry.typenames.get(type(obj))
    if typename is not None:
        return _registry.convert_to_dict[typename](obj)
    if callable(obj) or isinstance(obj, ModuleType):
        return None
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    raise TypeError(f"cannot store a value of type {type(obj).__name__} in a case")


def _dumps(dct) -> str:
    try:
        return orjson.dumps(dct, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()
    except orjson.JSONEncodeError:
        # orjson refuses integers beyond 64 bits (and would read them back as floats); the
        # standard library keeps them exact, and the flag tells `load_workflow` to use it too.
        return json.dumps({**dct, _STDLIB_FLAG: True}, default=_default)


def _escape(value):
    """Return `value` with typename-like keys escaped, copying only what changes (or None)."""
    if isinstance(value, dict):
        changed = None
        for key, item in value.items():
            new_item = _escape(item)
            new_key = "~" + key if isinstance(key, str) and _TYPENAME_KEY.match(key) else key
            if new_item is not None or new_key is not key:
                if changed is None:
                    changed = {}
                changed[key] = (new_key, item if new_item is None else new_item)
        if changed is None:
            return None
        return {changed.get(k, (k, v))[0]: changed.get(k, (k, v))[1] for k, v in value.items()}
    if isinstance(value, list):
        items = [_escape(item) for item in value]
        if all(item is None for item in items):
            return None
        return [orig if new is None else new for orig, new in zip(value, items)]
    return None


def _unescape(value):
    if isinstance(value, dict):
        return {(k[1:] if isinstance(k, str) and k.startswith("~") and _TYPENAME_KEY.match(k) else k):
                _unescape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescape(v) for v in value]
    return value


def _escape_workflow_dict(dct) -> bool:
    escaped = False
    for holder in [dct, *dct.get("subprocesses", {}).values()]:
        for owner in [holder, *holder["tasks"].values()]:
            new = _escape(owner.get("data"))
            if new is not None:
                owner["data"] = new
                escaped = True
            # SpiffWorkflow 3.2 stores a child task's data as a delta against its parent.
            delta = owner.get("delta")
            if delta:
                new = _escape(delta.get("updates"))
                if new is not None:
                    delta = owner["delta"] = {**delta, "updates": new}
                    escaped = True
                deletions = delta.get("deletions") or []
                if any(isinstance(k, str) and _TYPENAME_KEY.match(k) for k in deletions):
                    owner["delta"] = {**delta, "deletions": [
                        "~" + k if isinstance(k, str) and _TYPENAME_KEY.match(k) else k for k in deletions]}
                    escaped = True
    return escaped


def _unescape_workflow(workflow) -> None:
    for wf in [workflow, *workflow.subprocesses.values()]:
        wf.data = _unescape(wf.data)
        for task in wf.tasks.values():
            task.data = _unescape(task.data)


def dump_workflow(workflow, check=None) -> str:
    """Serialize a running workflow without its spec and without the finished part of its task tree
    (engine.runtime.pruning); `check(dct)` sees the values before they become JSON."""
    dct = _workflows.to_dict(workflow)
    if check is not None:
        check(dct)
    done = prune_document(dct) | getattr(workflow, "pruned_done", set())
    if done:
        workflow.pruned_done = done
        dct[DONE_KEY] = sorted(done)
    if _escape_workflow_dict(dct):
        dct[_ESCAPED_FLAG] = True
    dct[_VERSION_KEY] = SERIALIZER_VERSION
    return _dumps(dct)


def load_workflow(text: str, spec, subprocess_specs) -> BpmnWorkflow:
    """Rebuild a workflow saved by `dump_workflow` (or an older version MIGRATIONS upgrades) on the given spec."""
    dct = _parse(text)
    upgrade(dct)
    escaped = dct.pop(_ESCAPED_FLAG, False)
    done = dct.pop(DONE_KEY, None)
    spec, subprocess_specs = runnable_specs(spec, subprocess_specs)
    workflow = _workflows.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.pruned_done = set(done or ())  # task specs completed in the part of the tree left out
    if escaped:
        _unescape_workflow(workflow)
    return workflow


def prune_stored(text: str) -> str | None:
    """A stored case's text without the finished part of its task tree (engine.runtime.pruning), or None when
    there is nothing to leave out or the text is not in our current format (it is pruned at its next step)."""
    try:
        dct = _parse(text)
    except (ValueError, AttributeError):  # not a workflow we wrote: left for its next load to judge
        return None
    if not isinstance(dct, dict) or dct.get(_VERSION_KEY) != SERIALIZER_VERSION or "tasks" not in dct:
        return None
    before = _task_count(dct)
    done = prune_document(dct)
    if _task_count(dct) == before:
        return None
    if done:
        dct[DONE_KEY] = sorted(done | set(dct.get(DONE_KEY) or ()))
    return _dumps(dct)


def read_document(text: str) -> dict:
    """A stored case's document (the serializer's dict, with our flags), brought to SERIALIZER_VERSION, to be
    rewritten against another version's spec (engine/runtime/spec_swap.py) and stored with `write_document`."""
    dct = _parse(text)
    upgrade(dct)
    return dct


def write_document(dct: dict) -> str:
    """The text of a document from `read_document`, as `load_workflow` reads it."""
    return _dumps({**dct, _VERSION_KEY: SERIALIZER_VERSION})


def _parse(text: str) -> dict:
    """The stored document: orjson, or the standard library for what it wrote (integers past 64 bits, NaN)."""
    try:
        dct = orjson.loads(text)
    except orjson.JSONDecodeError:  # written by the standard library before values were checked
        dct = _stdlib_loads(text)
    if dct.pop(_STDLIB_FLAG, False):
        dct = _stdlib_loads(text)
        dct.pop(_STDLIB_FLAG)
    return dct


def _task_count(dct: dict) -> int:
    return len(dct["tasks"]) + sum(len(sub.get("tasks") or ()) for sub in (dct.get("subprocesses") or {}).values())


def upgrade(dct: dict) -> None:
    """Bring a stored workflow document to SERIALIZER_VERSION through MIGRATIONS, else SerializerVersionUnsupported."""
    stored = version = dct.pop(_VERSION_KEY, None)
    seen = set()
    while version != SERIALIZER_VERSION:
        step = MIGRATIONS.get(version)
        if step is None or version in seen:
            raise SerializerVersionUnsupported(
                msg("El expediente se guardó en un formato (%(stored)s) que esta versión del sistema no sabe "
                    "leer; avise al administrador.", stored=str(stored)),
                stored_version=stored, reached_version=version,
                supported_versions=sorted({SERIALIZER_VERSION, *MIGRATIONS}))
        seen.add(version)
        version = step(dct)


def runnable_specs(spec, subprocess_specs):
    """The specs a case runs on: as given when the serializer rebuilt them, else rebuilt (parser output)."""
    if has_deep_end_joins(spec, subprocess_specs):
        return spec, subprocess_specs
    return load_spec(dump_spec(spec, subprocess_specs))


def _stdlib_loads(text: str):
    # Cases stored before values were checked may hold integers longer than Python parses by default
    # (4,300 digits): they load as their digits, a text, rather than not at all.
    return json.loads(text, parse_int=lambda digits: int(digits) if len(digits) <= 4000 else digits)


def dump_spec(spec, subprocess_specs) -> str:
    """Serialize a process spec and the specs of the processes it calls, deterministically."""
    dct = {"spec": _specs.to_dict(spec), "subprocess_specs": {k: _specs.to_dict(v) for k, v in subprocess_specs.items()}}
    return orjson.dumps(dct, default=_default, option=orjson.OPT_SORT_KEYS).decode()


def load_spec(text: str):
    """Return (spec, subprocess_specs) from `dump_spec` output."""
    dct = orjson.loads(text)
    spec = _specs.from_dict(dct["spec"])
    subprocess_specs = {k: _specs.from_dict(v) for k, v in dct["subprocess_specs"].items()}
    return spec, subprocess_specs


__all__ = ["SERIALIZER_VERSION", "MIGRATIONS", "dump_workflow", "load_workflow", "prune_stored", "upgrade",
           "runnable_specs", "read_document", "write_document",
           "dump_spec", "load_spec"]
