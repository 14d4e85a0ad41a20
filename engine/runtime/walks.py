"""SpiffWorkflow's workflow and end join, walking the task tree without the library's depth cap.

SpiffWorkflow's tree walks stop at depth 1000 by default: a loop then stalls (no ready task is found
below that depth) and the workflow reports "completed" without reaching an end event, or an end join
fires while a branch deeper than 1000 is still open. Every walk a BPMN case takes goes through the
workflow (`get_tasks_iterator` and four methods that build their own iterator) or the process's end
join, so these subclasses lift the cap there; the runtime bounds depth itself (Runtime.check_depth).
Nothing of SpiffWorkflow is changed: only workflows and specs built by engine.runtime use them (the
runner creates DeepWorkflow; the serializer restores "BpmnWorkflow", "BpmnSubWorkflow" and "_EndJoin"
as these classes and writes them under the same names, so stored JSON is unchanged).
A walk from a single task (`for t in task`, when a catching event is cancelled) keeps the cap: it
covers what the diagram predicts after that task, never the loop history above it.
"""
from __future__ import annotations

import logging

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import _EndJoin
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.util.task import TaskIterator, TaskState

UNBOUNDED_DEPTH = 10**9
_spiff_log = logging.getLogger("spiff.workflow")  # where SpiffWorkflow's own Workflow.cancel logs


def _walk(task, **kwargs) -> TaskIterator:
    return TaskIterator(task, max_depth=UNBOUNDED_DEPTH, **kwargs)


class _DeepWalks:
    """The walks of SpiffWorkflow's Workflow, with the depth cap lifted (same bodies otherwise)."""

    def get_tasks_iterator(self, first_task=None, **kwargs):
        kwargs.setdefault("max_depth", UNBOUNDED_DEPTH)
        return super().get_tasks_iterator(first_task, **kwargs)

    def is_completed(self) -> bool:
        if not self.completed and next(_walk(self.task_tree, state=TaskState.NOT_FINISHED_MASK), None) is None:
            self.completed = True
        return self.completed

    def manual_input_required(self) -> bool:
        return next(_walk(self.task_tree, state=TaskState.READY, manual=False), None) is None

    def update_waiting_tasks(self) -> None:
        for task in _walk(self.task_tree, state=TaskState.WAITING):
            task.task_spec._update(task)

    def cancel(self, success: bool = False):
        self.success = success
        self.completed = True
        _spiff_log.info("Workflow cancelled", extra=self.collect_log_extras())
        cancelled = list(_walk(self.task_tree, state=TaskState.NOT_FINISHED_MASK))
        for task in cancelled:
            task.cancel()
        return cancelled


class DeepSubWorkflow(_DeepWalks, BpmnSubWorkflow):
    """A called process or subprocess of a DeepWorkflow."""


class DeepWorkflow(_DeepWalks, BpmnWorkflow):
    """The workflow every case runs as."""

    def create_subprocess(self, my_task, spec_name):
        subprocess = DeepSubWorkflow(self.subprocess_specs[spec_name], parent_task_id=my_task.id, top_workflow=self)
        self.subprocesses[my_task.id] = subprocess
        return subprocess


class DeepEndJoin(_EndJoin):
    """A process's end join: waits for every open task of the process, however deep."""

    def _check_threshold_unstructured(self, my_task):
        open_tasks = _walk(my_task.workflow.task_tree, state=TaskState.NOT_FINISHED_MASK, end_at_spec=self.name)
        return all(task == my_task for task in open_tasks)


def has_deep_end_joins(spec, subprocess_specs) -> bool:
    """True when `spec` and the specs it calls end in DeepEndJoin (rebuilt by the serializer, not the parser)."""
    return all(isinstance(s.task_specs.get(f"{s.name}.EndJoin"), DeepEndJoin)
               for s in [spec, *subprocess_specs.values()])
