"""The buttons pages offer: each one call of the public REST API, made by static/app.js with the
session's CSRF token. Which actions a run or one of its tasks offers depends on their status,
as Conductor's UI decides it; the server refuses anything else anyway."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from conductor.ui.formatting import pretty_json


@dataclass(frozen=True)
class Action:
    """A button on a page: one call of the REST API, made by the page's script. `confirm` is the
    question asked first (for bulk actions, its verb: the count is added by the script)."""

    label: str
    method: str
    path: str
    confirm: str
    reason: bool = False  # asks for a reason (terminate)
    body: str | None = None  # JSON sent as the request's body
    # Shown in a textarea to edit before it is sent (the script checks that it parses).
    editable: bool = False
    body_label: str = "Body (JSON)"
    then: str | None = None  # where to go on success (default: reload; a deleted thing's list)


_TERMINAL_RUN = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"})
_UNSUCCESSFUL_RUN = frozenset({"FAILED", "TIMED_OUT", "TERMINATED"})
_UNSUCCESSFUL_TASK = frozenset({"FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT", "CANCELED"})
# Tasks that wait for someone outside the server to say they are done.
_SIGNALLED = frozenset({"HUMAN", "WAIT"})


def _part(value: object) -> str:
    return quote(str(value), safe="")


def task_actions(run: Mapping[str, Any], task: Mapping[str, Any]) -> list[Action]:
    """What may be done to one task attempt of a run, in their statuses."""
    workflow_id, ref = run["workflowId"], str(task.get("referenceTaskName") or "")
    base = f"/api/workflow/{_part(workflow_id)}"
    actions = []
    signalled = task.get("taskType") in _SIGNALLED and task.get("status") == "IN_PROGRESS"
    if run.get("status") == "RUNNING" and signalled:
        by_ref = f"/api/tasks/{_part(workflow_id)}/{_part(ref)}"
        for status, verb in (("COMPLETED", "Complete"), ("FAILED", "Fail")):
            actions.append(
                Action(
                    f"{verb} {ref}",
                    "POST",
                    f"{by_ref}/{status}",
                    f"{verb} {ref} with this output?",
                    body="{}",
                    editable=True,
                    body_label="Output (JSON)",
                )
            )
    if run.get("status") in _TERMINAL_RUN and task.get("taskId"):
        rerun = {
            "reRunFromWorkflowId": workflow_id,
            "reRunFromTaskId": task["taskId"],
            "taskInput": task.get("inputData") or {},
            "workflowInput": run.get("input") or {},
        }
        actions.append(
            Action(
                "Rerun from this task",
                "POST",
                f"{base}/rerun",
                f"Rerun the workflow from {ref}, with this input?",
                body=pretty_json(rerun),
                editable=True,
                body_label="Rerun request (JSON): taskInput replaces this task's input",
            )
        )
    if (
        run.get("status") in _UNSUCCESSFUL_RUN
        and task.get("taskType") == "SUB_WORKFLOW"
        and task.get("status") in _UNSUCCESSFUL_TASK
    ):
        actions.append(
            Action(
                "Retry inside the sub-workflow",
                "POST",
                f"{base}/retry?resumeSubworkflowTasks=true",
                "Retry the failed sub-workflow from its own failed task?",
            )
        )
    return actions


def unreached_task_actions(run: Mapping[str, Any], ref: str) -> list[Action]:
    """A task of the definition the run has not reached: a running run may skip it (Conductor
    refuses to skip a task that already has an attempt)."""
    if run.get("status") != "RUNNING":
        return []
    path = f"/api/workflow/{_part(run['workflowId'])}/skiptask/{_part(ref)}"
    return [Action(f"Skip {ref}", "PUT", path, f"Skip {ref}? The run will pass it by.")]
