"""What the route table cannot say about an operation: its query parameters, its body and its
answer. Keyed by method and route template; a route missing here is still documented, with a
body and answer of any JSON (spec.py), and a test checks that every route is in the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from conductor.api.openapi import models as m

# Bodies and answers: a model, [model] for a list of it, or a schema given as a dict.
Shape = type[BaseModel] | list[type[BaseModel]] | dict[str, Any]

ANY: dict[str, Any] = {}
OBJECT: dict[str, Any] = {"type": "object"}
STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
TEXT: dict[str, Any] = {"type": "string"}
BOOL, INT, STR = "boolean", "integer", "string"


@dataclass(frozen=True)
class Query:
    name: str
    kind: str = STR
    description: str = ""
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class Operation:
    body: Shape | None = None
    answer: Shape = field(default_factory=lambda: ANY)
    answer_is_text: bool = False  # text/plain, as Conductor answers with bare ids
    may_be_empty: bool = False  # 204 when there is nothing to give (a poll finding no task)
    query: tuple[Query, ...] = ()
    summary: str = ""


_SEARCH = (
    Query("start", INT, "first hit to return", minimum=0),
    Query("size", INT, "hits per page", minimum=0, maximum=10_000),
    Query("sort", STR, "field:ASC or field:DESC"),
    Query("freeText", STR, "a substring of input or output; * for any"),
    Query("query", STR, "e.g. status IN (FAILED) AND workflowType = billing"),
)
# One handler or a list of them; their handler checks them with Conductor's messages.
_HANDLERS: dict[str, Any] = {
    "anyOf": [
        {"$ref": "#/components/schemas/EventHandler"},
        {"type": "array", "items": {"$ref": "#/components/schemas/EventHandler"}},
    ]
}
_REASON = Query("reason", STR, "recorded as the workflow's reasonForIncompletion")
_INCLUDE_TASKS = Query("includeTasks", BOOL)

OPERATIONS: dict[tuple[str, str], Operation] = {
    # metadata
    ("POST", "/api/metadata/taskdefs"): Operation(
        body=[m.TaskDef], summary="Register task definitions"
    ),
    ("PUT", "/api/metadata/taskdefs"): Operation(
        body=m.TaskDef, summary="Update a task definition"
    ),
    ("GET", "/api/metadata/taskdefs"): Operation(
        answer=[m.TaskDef], summary="All task definitions"
    ),
    ("GET", "/api/metadata/taskdefs/{name}"): Operation(
        answer=m.TaskDef, summary="A task definition"
    ),
    ("POST", "/api/metadata/workflow"): Operation(
        body=m.WorkflowDef,
        query=(Query("overwrite", BOOL),),
        summary="Create a workflow definition",
    ),
    ("PUT", "/api/metadata/workflow"): Operation(
        body=[m.WorkflowDef], summary="Create or update workflow definitions"
    ),
    ("POST", "/api/metadata/workflow/validate"): Operation(
        body=m.WorkflowDef, summary="Check a workflow definition without saving it"
    ),
    ("GET", "/api/metadata/workflow"): Operation(
        answer=[m.WorkflowDef], summary="All workflow definitions"
    ),
    ("GET", "/api/metadata/workflow/{name}"): Operation(
        answer=m.WorkflowDef, query=(Query("version", INT),), summary="A workflow definition"
    ),
    # workflows
    ("POST", "/api/workflow"): Operation(
        body=m.StartWorkflowRequest, answer=TEXT, answer_is_text=True, summary="Start a workflow"
    ),
    ("POST", "/api/workflow/{name}"): Operation(
        body=OBJECT,
        answer=TEXT,
        answer_is_text=True,
        query=(
            Query("version", INT),
            Query("correlationId", STR),
            Query("priority", INT, minimum=0, maximum=99),
        ),
        summary="Start a workflow with this input",
    ),
    ("GET", "/api/workflow/{workflow_id}"): Operation(
        answer=m.Workflow, query=(_INCLUDE_TASKS,), summary="A workflow run"
    ),
    ("DELETE", "/api/workflow/{workflow_id}"): Operation(
        query=(_REASON, Query("triggerFailureWorkflow", BOOL)), summary="Terminate a run"
    ),
    ("GET", "/api/workflow/{workflow_id}/status"): Operation(
        query=(Query("includeOutput", BOOL), Query("includeVariables", BOOL))
    ),
    ("GET", "/api/workflow/{workflow_id}/tasks"): Operation(
        query=(Query("start", INT, minimum=0), Query("count", INT, minimum=0, maximum=10_000))
    ),
    ("POST", "/api/workflow/{workflow_id}/restart"): Operation(
        query=(Query("useLatestDefinitions", BOOL),), summary="Restart a finished run"
    ),
    ("POST", "/api/workflow/{workflow_id}/retry"): Operation(
        query=(Query("resumeSubworkflowTasks", BOOL),), summary="Retry a failed run"
    ),
    ("POST", "/api/workflow/{workflow_id}/rerun"): Operation(
        body=OBJECT, summary="Rerun from a task"
    ),
    ("PUT", "/api/workflow/{workflow_id}/skiptask/{task_reference_name}"): Operation(body=OBJECT),
    ("DELETE", "/api/workflow/{workflow_id}/terminate-remove"): Operation(query=(_REASON,)),
    ("GET", "/api/workflow/running/{name}"): Operation(
        answer=STRINGS,
        query=(Query("version", INT), Query("startTime", INT), Query("endTime", INT)),
    ),
    ("GET", "/api/workflow/{name}/correlated/{correlation_id}"): Operation(
        answer=[m.Workflow], query=(Query("includeClosed", BOOL), _INCLUDE_TASKS)
    ),
    ("POST", "/api/workflow/{name}/correlated"): Operation(
        body=STRINGS, query=(Query("includeClosed", BOOL), _INCLUDE_TASKS)
    ),
    ("POST", "/api/workflow/execute/{name}/{version}"): Operation(
        body=m.StartWorkflowRequest,
        query=(
            Query("requestId", STR),
            Query("waitUntilTaskRef", STR),
            Query("waitForSeconds", INT, minimum=0, maximum=10),
        ),
    ),
    ("POST", "/api/workflow/test"): Operation(
        body=OBJECT, query=(Query("waitSeconds", INT, minimum=1, maximum=10),)
    ),
    ("GET", "/api/workflow/search"): Operation(answer=m.SearchResult, query=_SEARCH),
    ("GET", "/api/workflow/search-v2"): Operation(answer=m.SearchResult, query=_SEARCH),
    ("GET", "/api/workflow/search-by-tasks"): Operation(answer=m.SearchResult, query=_SEARCH),
    ("GET", "/api/workflow/search-by-tasks-v2"): Operation(answer=m.SearchResult, query=_SEARCH),
    ("GET", "/api/tasks/search"): Operation(answer=m.SearchResult, query=_SEARCH),
    ("GET", "/api/tasks/search-v2"): Operation(answer=m.SearchResult, query=_SEARCH),
    ("PUT", "/api/workflow/bulk/pause"): Operation(body=STRINGS),
    ("PUT", "/api/workflow/bulk/resume"): Operation(body=STRINGS),
    ("POST", "/api/workflow/bulk/restart"): Operation(
        body=STRINGS, query=(Query("useLatestDefinitions", BOOL),)
    ),
    ("POST", "/api/workflow/bulk/retry"): Operation(body=STRINGS),
    ("POST", "/api/workflow/bulk/terminate"): Operation(
        body=STRINGS, query=(_REASON, Query("triggerFailureWorkflow", BOOL))
    ),
    ("DELETE", "/api/workflow/bulk/remove"): Operation(body=STRINGS),
    ("DELETE", "/api/workflow/bulk/terminate-remove"): Operation(body=STRINGS, query=(_REASON,)),
    ("POST", "/api/workflow/bulk/search"): Operation(body=STRINGS, query=(_INCLUDE_TASKS,)),
    # tasks
    ("GET", "/api/tasks/poll/{task_type}"): Operation(
        answer=m.Task,
        may_be_empty=True,
        query=(Query("workerid", STR), Query("domain", STR)),
        summary="Poll one task",
    ),
    ("GET", "/api/tasks/poll/batch/{task_type}"): Operation(
        answer=[m.Task],
        query=(
            Query("workerid", STR),
            Query("domain", STR),
            Query("count", INT, minimum=1, maximum=1000),
            Query("timeout", INT, "long-poll wait in ms", minimum=0, maximum=1000),
        ),
        summary="Poll up to count tasks, waiting up to timeout ms",
    ),
    ("POST", "/api/tasks"): Operation(
        body=m.TaskResult, answer=TEXT, answer_is_text=True, summary="Report a task's result"
    ),
    ("POST", "/api/tasks/update-v2"): Operation(
        body=m.TaskResult, summary="Report a result, get the next task"
    ),
    ("GET", "/api/tasks/{task_id}"): Operation(answer=m.Task, summary="A task"),
    ("POST", "/api/tasks/{task_id}/log"): Operation(body=TEXT),
    ("GET", "/api/tasks/queue/size"): Operation(
        query=(Query("taskType", STR), Query("domain", STR))
    ),
    ("GET", "/api/tasks/queue/polldata"): Operation(query=(Query("taskType", STR),)),
    ("POST", "/api/tasks/{workflow_id}/{status}/signal"): Operation(body=OBJECT),
    ("POST", "/api/tasks/{workflow_id}/{status}/signal/sync"): Operation(
        body=OBJECT, query=(Query("timeoutMillis", INT, minimum=0, maximum=5000),)
    ),
    ("POST", "/api/tasks/{workflow_id}/{ref}/{status}"): Operation(body=OBJECT),
    ("POST", "/api/tasks/{workflow_id}/{ref}/{status}/sync"): Operation(body=OBJECT),
    ("GET", "/api/admin/task/{task_type}"): Operation(
        query=(Query("start", INT, minimum=0), Query("count", INT, minimum=0, maximum=1000))
    ),
    # scheduler
    ("POST", "/api/scheduler/schedules"): Operation(
        body=m.WorkflowSchedule, summary="Create or update a schedule"
    ),
    ("GET", "/api/scheduler/schedules"): Operation(
        answer=[m.WorkflowSchedule], query=(Query("workflowName", STR),)
    ),
    ("GET", "/api/scheduler/schedules/{name}"): Operation(answer=m.WorkflowSchedule),
    ("GET", "/api/scheduler/schedules/search"): Operation(
        query=(
            Query("workflowName", STR),
            Query("scheduleName", STR),
            Query("paused", BOOL),
            Query("start", INT, minimum=0),
            Query("size", INT, minimum=0, maximum=1000),
        )
    ),
    ("GET", "/api/scheduler/nextFewSchedules"): Operation(
        query=(
            Query("cronExpression", STR, required=True),
            Query("zoneId", STR),
            Query("scheduleStartTime", INT, minimum=0),
            Query("scheduleEndTime", INT, minimum=0),
            Query("limit", INT, minimum=1, maximum=100),
        )
    ),
    ("GET", "/api/scheduler/search/executions"): Operation(
        query=(
            Query("scheduleName", STR),
            Query("start", INT, minimum=0),
            Query("size", INT, minimum=0, maximum=1000),
        )
    ),
    ("PUT", "/api/scheduler/bulk/pause"): Operation(body=STRINGS),
    ("PUT", "/api/scheduler/bulk/resume"): Operation(body=STRINGS),
    # events and queues
    ("POST", "/api/event"): Operation(body=_HANDLERS, summary="Add event handlers"),
    ("PUT", "/api/event"): Operation(body=_HANDLERS, summary="Update event handlers"),
    ("GET", "/api/event"): Operation(answer=[m.EventHandler], summary="All event handlers"),
    ("GET", "/api/event/{event}"): Operation(
        answer=[m.EventHandler], query=(Query("activeOnly", BOOL),)
    ),
    ("POST", "/api/queue/update/{workflow_id}/{task_ref_name}/{status}"): Operation(body=OBJECT),
    ("POST", "/api/queue/update/{workflow_id}/task/{task_id}/{status}"): Operation(body=OBJECT),
    # keys and audit
    ("POST", "/api/token"): Operation(body=OBJECT, summary="Exchange an API key for a token"),
    ("POST", "/api/admin/keys"): Operation(body=OBJECT),
    ("GET", "/api/admin/audit"): Operation(
        query=(
            Query("workflowId", STR),
            Query("before", INT, minimum=0),
            Query("limit", INT, minimum=1, maximum=1000),
        )
    ),
}
