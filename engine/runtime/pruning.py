"""Keep only what a case needs to go on: the finished part of its task tree is left out when the case is saved.

SpiffWorkflow never drops a finished task, so a case's stored state (and every load, walk and save of it) grows
with its history: a mediation with many sessions, a loop past a thousand rounds. The history itself is in the
events table; the engine needs only the tasks that can still run and what they hang from. So, on the
serializer's dict (no spec needed, which lets the migration of stored cases use it too):

- the *anchor* is the deepest completed task that is an ancestor of (or is) every task not yet finished or in
  error; with none, the workflow's last task (a completed task's data is whole and final, a predicted one's is not
  yet there);
- the tree keeps the anchor's subtree and a *spine* from the root down to the anchor, as short as the diagram
  (see _spine); every other task is left out, with the subprocesses their tasks started (a finished case keeps
  only its root and last task);
- each spine task's data is rewritten as changes against the spine task above it (SpiffWorkflow stores a task's
  data as changes against its parent's), so every kept task loads with exactly the data it had.

Joins that look back for their split (boundary events) find it: a split whose branches are unfinished is an
ancestor of them all, so it is at or below the anchor; gateways that look further up find the spine. What a pruned
task did is remembered by its element's name in DONE_KEY (the case page's "done" marks).
"""
from __future__ import annotations

from SpiffWorkflow.util.task import TaskState

DONE_KEY = "expediente_done"
_OPEN = int(TaskState.NOT_FINISHED_MASK | TaskState.ERROR)
_COMPLETED = int(TaskState.COMPLETED)


def prune_document(dct: dict) -> set[str]:
    """Leave the finished part of the tree out of a workflow's serializer dict, in place; return the task spec
    names of the completed tasks left out of the top-level process (subprocesses' are not marked)."""
    done: set[str] = set()
    removed = _prune_holder(dct, done)
    subprocesses = dct.get("subprocesses") or {}
    for sub in subprocesses.values():
        removed |= _prune_holder(sub, None, only_while_running=True)
    if removed and subprocesses:
        _drop_orphan_subprocesses(dct, subprocesses)
    return done


def _prune_holder(holder: dict, done: set[str] | None, only_while_running: bool = False) -> set[str]:
    tasks: dict = holder.get("tasks") or {}
    root_id = holder.get("root")
    root = tasks.get(root_id)
    if root is None or len(tasks) < 3:
        return set()
    open_ids = [tid for tid, task in tasks.items() if task["state"] & _OPEN]
    if open_ids:
        anchor = _common_ancestor(tasks, open_ids)
        while anchor is not None and tasks[anchor]["state"] != _COMPLETED:
            anchor = tasks[anchor]["parent"]
    elif only_while_running:  # a finished subprocess: its caller reads its end task when it resumes
        return set()
    else:
        anchor = holder.get("last_task")
    path = _path_from_root(tasks, anchor, root_id) if anchor in tasks else None
    if path is None or len(path) < 2 or (len(path) == 2 and root["children"] == [anchor]):
        return set()
    # A finished process never runs again (nothing looks up its tree): its root and last task are enough.
    spine = _spine(tasks, path) if open_ids else [root_id, anchor]
    keep = subtree(tasks, anchor) | set(spine)
    removed = {tid for tid in tasks if tid not in keep}
    if not removed:
        return set()
    if done is not None:
        done.update(tasks[tid]["task_spec"] for tid in removed if tasks[tid]["state"] == _COMPLETED)
    kept = {tid: task for tid, task in tasks.items() if tid in keep}
    # The spine, linked in order, each task's data as changes against the one above it (whole at each point).
    data = _data_along(tasks, path)
    for above, tid in zip(spine, spine[1:]):
        kept[above] = {**kept[above], "children": [tid]}
        kept[tid] = {**kept[tid], "parent": above, "data": {}, "delta": _delta(data[above], data[tid])}
    holder["tasks"] = kept
    if holder.get("last_task") not in kept:
        holder["last_task"] = anchor
    return removed


def _common_ancestor(tasks: dict, ids: list[str]) -> str | None:
    """The deepest task whose subtree holds every task of `ids`."""
    first = _ancestry(tasks, ids[0])
    position = {tid: i for i, tid in enumerate(first)}
    depth = len(first) - 1  # index in `first` of the deepest common ancestor so far
    for tid in ids[1:]:
        while tid is not None and tid not in position:
            tid = tasks[tid]["parent"] if tid in tasks else None
        if tid is None:
            return None  # not in one tree: leave it as it is
        depth = min(depth, position[tid])
    return first[depth]


def _ancestry(tasks: dict, tid: str) -> list[str]:
    """Ids from the root down to `tid`."""
    chain = []
    while tid is not None and tid in tasks:
        chain.append(tid)
        tid = tasks[tid]["parent"]
    chain.reverse()
    return chain


def _path_from_root(tasks: dict, anchor: str, root_id: str) -> list[str] | None:
    chain = _ancestry(tasks, anchor)
    return chain if chain and chain[0] == root_id else None


def subtree(tasks: dict, top: str) -> set[str]:
    """The ids of a serialized task and every task below it (tasks: the serialized workflow's {id: task})."""
    seen, stack = set(), [top]
    while stack:
        tid = stack.pop()
        if tid in seen or tid not in tasks:
            continue
        seen.add(tid)
        stack.extend(tasks[tid]["children"])
    return seen


def _spine(tasks: dict, path: list[str]) -> list[str]:
    """What of the path from the root to the anchor is kept, in order: the root, the anchor, and for each task spec
    on the way its first task (with the task above it) and its last.

    SpiffWorkflow looks up the tree in two ways: up from a task to the nearest one of some specs (a parallel
    gateway in a loop walks up to the task before its first pass; find_ancestor), and down from the root to the
    first task of a spec (an inclusive gateway's walk ends there, and reads the task above it). Both find the
    same tasks on the spine as on the whole path, so the spine's length is bounded by the diagram, not the history.
    """
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for i, tid in enumerate(path[1:], start=1):
        name = tasks[tid]["task_spec"]
        first.setdefault(name, i)
        last[name] = i
    chosen = {0, len(path) - 1, *first.values(), *(i - 1 for i in first.values()), *last.values()}
    return [path[i] for i in sorted(chosen)]


def _data_along(tasks: dict, path: list[str]) -> dict[str, dict]:
    """Each path task's whole data, as SpiffWorkflow's loader builds it: the root's, then each task's changes."""
    whole: dict[str, dict] = {}
    data = dict(tasks[path[0]].get("data") or {})
    whole[path[0]] = data
    for tid in path[1:]:
        delta = tasks[tid].get("delta") or {}
        if not delta:  # stored whole (SpiffWorkflow does so only for a task without a parent)
            data = dict(tasks[tid].get("data") or {})
        else:
            data = {**data, **(delta.get("updates") or {})}
            for key in delta.get("deletions") or ():
                data.pop(key, None)
        whole[tid] = data
    return whole


def _delta(before: dict, after: dict) -> dict:
    """SpiffWorkflow's stored form of `after` against `before` (never empty: an empty one reads as "no data")."""
    updates = {}
    for key, value in after.items():
        if key not in before or before[key] is not value and not _same(before[key], value):
            updates[key] = value
    return {"updates": updates, "deletions": [key for key in before if key not in after]}


def _same(a, b) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 - values that refuse comparison are written again
        return False


def _drop_orphan_subprocesses(dct: dict, subprocesses: dict) -> None:
    """Subprocesses started by a task that was left out go with it (and those they started in turn)."""
    while True:
        present = set(dct["tasks"])
        for sub in subprocesses.values():
            present.update(sub["tasks"])
        orphans = [sid for sid in subprocesses if sid not in present]
        if not orphans:
            return
        for sid in orphans:
            del subprocesses[sid]


__all__ = ["DONE_KEY", "prune_document"]
