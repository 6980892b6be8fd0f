"""The expression runtimes: INLINE scripts, SWITCH/DECISION script cases, DO_WHILE loop
conditions (JavaScript in the V8 sandbox) and JSON_JQ_TRANSFORM (jq in its own process).

Each takes a task and gives the decider input that reports its result. Scripts and queries are
pure functions of their input, so running one twice after a crash is harmless.
"""

from __future__ import annotations

from typing import Any

from conductor.engine import loops
from conductor.engine.inputs import Input, LoopConditionEvaluated, TaskResultReceived
from conductor.engine.model import JSON, TaskState, TaskStatus, TaskType
from conductor.engine.templates import java_string
from conductor.services.jq_runner import JqError, JqRunner
from conductor.services.scripts import ScriptError, ScriptSandbox
from conductor.store.workflows import WorkflowStore


def _result(
    task: TaskState, status: TaskStatus, output: JSON, reason: str | None = None
) -> TaskResultReceived:
    return TaskResultReceived(task.task_id, status, output=output, reason=reason)


class ScriptRuntimes:
    def __init__(self, sandbox: ScriptSandbox, jq: JqRunner, workflows: WorkflowStore) -> None:
        self.sandbox = sandbox
        self.jq = jq
        self.workflows = workflows

    async def inline(self, task: TaskState) -> Input:
        params = task.input_data
        evaluator = params.get("evaluatorType", "javascript")
        expression = params.get("expression")
        failed = TaskStatus.FAILED_WITH_TERMINAL_ERROR
        if not isinstance(expression, str) or not expression.strip():
            reason = (
                "Empty 'expression' in Inline task's input parameters. A non-empty String "
                "value must be provided."
            )
            return _result(task, failed, {"error": reason}, reason)
        if evaluator == "value-param":
            return _result(task, TaskStatus.COMPLETED, {"result": params.get(expression)})
        if evaluator not in ("javascript", "graaljs"):
            reason = f"Unknown evaluator '{evaluator}' in INLINE task."
            return _result(task, failed, {"error": reason}, reason)
        try:
            value: Any = await self.sandbox.evaluate(expression, params)
        except ScriptError as exc:
            return _result(task, failed, {"error": str(exc)}, str(exc))
        return _result(task, TaskStatus.COMPLETED, {"result": value})

    async def case(self, task: TaskState) -> Input:
        """A SWITCH's `expression` or a DECISION's `caseExpression`, evaluated to its case."""
        switch = task.workflow_task.get("type") == TaskType.SWITCH
        script = task.workflow_task.get("expression" if switch else "caseExpression")
        try:
            value = await self.sandbox.evaluate(str(script), task.input_data)
        except ScriptError as exc:
            return _result(task, TaskStatus.FAILED, {}, str(exc))
        case = java_string(value)
        if switch:
            output: JSON = {"evaluationResult": [case], "selectedCase": case}
        else:
            output = {"caseOutput": [case]}
        return _result(task, TaskStatus.COMPLETED, output)

    async def loop_condition(self, loop_task: TaskState) -> Input | None:
        """Whether a DO_WHILE runs another iteration; None when its workflow is gone."""
        state = await self.workflows.read(loop_task.workflow_id)
        if state is None:
            return None
        loaded = state.task(loop_task.task_id) or loop_task
        script = str(loaded.workflow_task.get("loopCondition") or "")
        error: str | None = None
        proceed = False
        try:
            value = await self.sandbox.evaluate(script, loops.condition_bindings(state, loaded))
            # Conductor's evalBool: true, or a number above zero.
            proceed = value is True or (
                isinstance(value, int | float) and not isinstance(value, bool) and value > 0
            )
        except ScriptError as exc:
            error = str(exc)
        return LoopConditionEvaluated(
            loaded.task_id, loaded.awaiting_iteration, proceed=proceed, error=error
        )

    async def jq_transform(self, task: TaskState) -> Input:
        query = task.input_data.get("queryExpression")
        if not isinstance(query, str) or not query.strip():
            reason = "Missing 'queryExpression' in input parameters"
            return _result(task, TaskStatus.FAILED, {"error": reason}, reason)
        try:
            values = await self.jq.transform(query, task.input_data)
        except JqError as exc:
            return _result(task, TaskStatus.FAILED, {"error": str(exc)}, str(exc))
        output = {"result": values[0] if values else None, "resultList": values}
        return _result(task, TaskStatus.COMPLETED, output)
