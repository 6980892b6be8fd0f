"""Conductor's wire shapes as pydantic models: the source of the OpenAPI document's schemas.

They describe what clients send and receive (field names and types as Conductor's own models
have them). The checks made with them are about types only: every field may be absent (the
handlers and the definition checks say, in Conductor's words, what a request lacks) and unknown
fields are kept, so the server accepts what Conductor accepts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from conductor.engine.model import RetryLogic, TimeoutPolicy

Int32 = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Json = dict[str, Any]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)


class WorkflowTimeoutPolicy(StrEnum):
    TIME_OUT_WF = "TIME_OUT_WF"
    ALERT_ONLY = "ALERT_ONLY"


class IdempotencyStrategy(StrEnum):
    FAIL = "FAIL"
    RETURN_EXISTING = "RETURN_EXISTING"
    FAIL_ON_RUNNING = "FAIL_ON_RUNNING"


class TaskResultStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    FAILED = "FAILED"
    FAILED_WITH_TERMINAL_ERROR = "FAILED_WITH_TERMINAL_ERROR"
    COMPLETED = "COMPLETED"


class TaskDef(_Wire):
    name: str | None = None
    description: str | None = None
    retryCount: Int32 | None = None
    timeoutSeconds: Int64 | None = None
    inputKeys: list[str] | None = None
    outputKeys: list[str] | None = None
    timeoutPolicy: TimeoutPolicy | None = None
    retryLogic: RetryLogic | None = None
    retryDelaySeconds: Int32 | None = None
    responseTimeoutSeconds: Int64 | None = None
    concurrentExecLimit: Int32 | None = None
    inputTemplate: Json | None = None
    rateLimitPerFrequency: Int32 | None = None
    rateLimitFrequencyInSeconds: Int32 | None = None
    isolationGroupId: str | None = None
    executionNameSpace: str | None = None
    ownerEmail: str | None = None
    pollTimeoutSeconds: Int32 | None = None
    backoffScaleFactor: Int32 | None = None
    totalTimeoutSeconds: Int64 | None = None


class WorkflowTask(_Wire):
    name: str | None = None
    taskReferenceName: str | None = None
    type: str | None = None
    description: str | None = None
    inputParameters: Json | None = None
    dynamicTaskNameParam: str | None = None
    caseValueParam: str | None = None
    caseExpression: str | None = None
    scriptExpression: str | None = None
    evaluatorType: str | None = None
    expression: str | None = None
    decisionCases: dict[str, list[WorkflowTask]] | None = None
    defaultCase: list[WorkflowTask] | None = None
    forkTasks: list[list[WorkflowTask]] | None = None
    dynamicForkTasksParam: str | None = None
    dynamicForkTasksInputParamName: str | None = None
    joinOn: list[str] | None = None
    loopCondition: str | None = None
    loopOver: list[WorkflowTask] | None = None
    subWorkflowParam: Json | None = None
    sink: str | None = None
    startDelay: Int32 | None = None
    optional: bool | None = None
    asyncComplete: bool | None = None
    retryCount: Int32 | None = None
    taskDefinition: TaskDef | None = None
    defaultExclusiveJoinTask: list[str] | None = None


class WorkflowDef(_Wire):
    name: str | None = None
    tasks: list[WorkflowTask] | None = None
    description: str | None = None
    version: Int32 | None = None
    inputParameters: list[str] | None = None
    outputParameters: Json | None = None
    failureWorkflow: str | None = None
    schemaVersion: Int32 | None = None
    restartable: bool | None = None
    workflowStatusListenerEnabled: bool | None = None
    workflowStatusListenerSink: str | None = None
    ownerEmail: str | None = None
    timeoutPolicy: WorkflowTimeoutPolicy | None = None
    timeoutSeconds: Int64 | None = None
    variables: Json | None = None
    inputTemplate: Json | None = None


class StartWorkflowRequest(_Wire):
    name: str | None = None
    version: Int32 | None = None
    correlationId: str | None = None
    input: Json | None = None
    taskToDomain: dict[str, str] | None = None
    workflowDef: WorkflowDef | None = None
    priority: Annotated[int, Field(ge=0, le=99)] | None = None
    idempotencyKey: str | None = None
    idempotencyStrategy: IdempotencyStrategy | None = None
    createdBy: str | None = None


class TaskExecLog(_Wire):
    log: str | None = None
    taskId: str | None = None
    createdTime: Int64 | None = None


class TaskResult(_Wire):
    workflowInstanceId: str | None = None
    taskId: str | None = None
    status: TaskResultStatus | None = None
    outputData: Json | None = None
    reasonForIncompletion: str | None = None
    callbackAfterSeconds: Int64 | None = None
    workerId: str | None = None
    logs: list[TaskExecLog | str] | None = None
    extendLease: bool | None = None


class Task(_Wire):
    """A task of a run, as the API returns it."""

    taskId: str | None = None
    taskType: str | None = None
    status: str | None = None
    referenceTaskName: str | None = None
    workflowInstanceId: str | None = None
    workflowType: str | None = None
    retryCount: int | None = None
    seq: int | None = None
    pollCount: int | None = None
    scheduledTime: int | None = None
    startTime: int | None = None
    endTime: int | None = None
    updateTime: int | None = None
    inputData: Json | None = None
    outputData: Json | None = None
    reasonForIncompletion: str | None = None
    workerId: str | None = None
    domain: str | None = None


class Workflow(_Wire):
    """A run with its tasks, as the API returns it."""

    workflowId: str | None = None
    workflowName: str | None = None
    workflowVersion: int | None = None
    status: str | None = None
    correlationId: str | None = None
    createTime: int | None = None
    startTime: int | None = None
    endTime: int | None = None
    updateTime: int | None = None
    input: Json | None = None
    output: Json | None = None
    variables: Json | None = None
    reasonForIncompletion: str | None = None
    tasks: list[Task] | None = None


class SearchResult(_Wire):
    """A page of hits: workflow or task summaries (or whole runs and tasks for the -v2 routes)."""

    totalHits: int
    results: list[Any]


class WorkflowSchedule(_Wire):
    name: str | None = None
    cronExpression: str | None = None
    startWorkflowRequest: StartWorkflowRequest | None = None
    zoneId: str | None = None
    paused: bool | None = None
    runCatchupScheduleInstances: bool | None = None
    scheduleStartTime: Int64 | None = None
    scheduleEndTime: Int64 | None = None


class EventHandler(_Wire):
    name: str | None = None
    event: str | None = None
    actions: list[Json] | None = None
    condition: str | None = None
    active: bool | None = None
    evaluatorType: str | None = None


class FieldErrorBody(_Wire):
    path: str | None = None
    message: str | None = None
    invalidValue: Any = None


class ErrorBody(_Wire):
    """Conductor's error shape, on every 4xx and 5xx."""

    status: int
    message: str
    instance: str | None = None
    retryable: bool
    error: str | None = None
    validationErrors: list[FieldErrorBody] | None = None
