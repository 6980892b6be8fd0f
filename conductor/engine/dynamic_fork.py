"""FORK_JOIN_DYNAMIC: the WorkflowTasks a dynamic fork runs, from its resolved input
(conductor-spec §5.8, all three input styles)."""

from __future__ import annotations

from typing import Any

from conductor.engine.model import JSON, TaskType
from conductor.engine.task_types import is_system_type

NO_TASKS = "No dynamic tasks could be created"


class DynamicForkError(Exception):
    """The input does not describe a valid set of forked tasks; the workflow fails."""


def forked_tasks(fork: JSON, input_data: JSON, other_dynamic_forks: bool) -> list[JSON]:
    """One WorkflowTask per fork branch, with its (unresolved-free) inputParameters."""
    if "forkTaskInputs" in (fork.get("inputParameters") or {}):
        return _simple_style(fork, input_data, other_dynamic_forks)
    if fork.get("dynamicForkTasksParam"):
        return _task_list_style(fork, input_data)
    if fork.get("dynamicForkJoinTasksParam"):
        return _legacy_style(fork, input_data)
    raise DynamicForkError("Dynamic fork has no forkTaskInputs or dynamic task parameters")


def _simple_style(fork: JSON, input_data: JSON, other_dynamic_forks: bool) -> list[JSON]:
    inputs = input_data.get("forkTaskInputs")
    if not isinstance(inputs, list):
        raise DynamicForkError("forkTaskInputs must be a list")
    task_type = str(input_data.get("forkTaskType") or TaskType.SIMPLE)
    sub_workflow = input_data.get("forkTaskWorkflow")
    if sub_workflow:
        task_type = TaskType.SUB_WORKFLOW
    default_name = task_type if is_system_type(task_type) else fork.get("taskReferenceName")
    name = str(input_data.get("forkTaskName") or default_name)
    prefix = f"_{fork.get('taskReferenceName')}_" if other_dynamic_forks else "_"
    tasks = []
    for index, item in enumerate(inputs):
        params: dict[str, Any] = dict(item) if isinstance(item, dict) else {"input": item}
        params["__index"] = index
        task: JSON = {
            "name": name,
            "taskReferenceName": f"{prefix}{name}_{index}",
            "type": task_type,
            "inputParameters": params,
        }
        if fork.get("optional"):
            task["optional"] = True
        if sub_workflow:
            version = input_data.get("forkTaskWorkflowVersion")
            task["subWorkflowParam"] = {
                "name": sub_workflow,
                "version": int(str(version)) if str(version or "").isdigit() else None,
            }
        tasks.append(task)
    return tasks


def _task_list_style(fork: JSON, input_data: JSON) -> list[JSON]:
    param = str(fork.get("dynamicForkTasksParam"))
    raw = input_data.get(param)
    if not isinstance(raw, list) or not all(
        isinstance(t, dict) and t.get("taskReferenceName") for t in raw
    ):
        raise DynamicForkError(
            f"Input '{param}' is invalid. Cannot deserialize a list of Workflow Tasks from '{raw}'"
        )
    inputs_param = fork.get("dynamicForkTasksInputParamName")
    inputs = input_data.get(str(inputs_param)) if inputs_param else {}
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, dict):
        raise DynamicForkError(
            "Input to the dynamically forked tasks is not a map -> expecting a map of K,V  "
            f"but found {inputs}"
        )
    tasks = []
    for task in raw:
        merged = dict(task)
        extra = inputs.get(task["taskReferenceName"])
        params = dict(merged.get("inputParameters") or {})
        if isinstance(extra, dict):
            params.update(extra)
        merged["inputParameters"] = params
        merged.setdefault("type", TaskType.SIMPLE.value)
        merged.setdefault("name", task["taskReferenceName"])
        tasks.append(merged)
    return tasks


def _legacy_style(fork: JSON, input_data: JSON) -> list[JSON]:
    param = str(fork.get("dynamicForkJoinTasksParam"))
    listing = input_data.get(param)
    entries = listing.get("dynamicTasks") if isinstance(listing, dict) else None
    if not isinstance(entries, list):
        raise DynamicForkError(f"Input '{param}' is not a DynamicForkJoinTaskList")
    return [
        {
            "name": entry.get("taskName"),
            "taskReferenceName": entry.get("referenceName"),
            "type": entry.get("type") or TaskType.SIMPLE.value,
            "inputParameters": dict(entry.get("input") or {}),
        }
        for entry in entries
        if isinstance(entry, dict)
    ]


def check_refs(tasks: list[JSON], existing_refs: set[str]) -> None:
    refs = [str(t.get("taskReferenceName")) for t in tasks]
    if len(set(refs)) != len(refs) or set(refs) & existing_refs:
        raise DynamicForkError(f"{NO_TASKS}: duplicate task reference names {refs}")
