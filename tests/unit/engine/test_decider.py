from __future__ import annotations

import pytest

from conductor.engine.decision import TimerKind
from conductor.engine.inputs import TerminateWorkflow, TimerFired
from conductor.engine.model import TaskStatus, WorkflowStatus
from conductor.errors import Conflict
from tests.unit.engine.helpers import T0, Run, simple

FAST_RETRY = {"work": {"name": "work", "retryCount": 2, "retryDelaySeconds": 5}}


def test_sequence_runs_in_order_and_completes_with_output_parameters() -> None:
    run = Run(
        [
            simple("a", inputParameters={"x": "${workflow.input.x}"}),
            simple("b", inputParameters={"prev": "${a.output.v}"}),
        ],
        outputParameters={"result": "${b.output.v}", "first": "${a.output.v}"},
    )
    decision = run.start()
    [a] = decision.new_tasks
    assert (a.ref_name, a.status, a.input_data) == ("a", TaskStatus.SCHEDULED, {"x": 1})
    assert [p.queue_name for p in decision.pushes] == ["work"]
    run.claim(a)
    decision = run.result(a, TaskStatus.COMPLETED, output={"v": 10})
    [b] = decision.new_tasks
    assert b.input_data == {"prev": 10}
    run.claim(b)
    decision = run.result(b, TaskStatus.COMPLETED, output={"v": 20})
    assert decision.finished
    assert run.state.status is WorkflowStatus.COMPLETED
    assert run.state.output == {"result": 20, "first": 10}
    assert run.state.end_time == T0


def test_output_defaults_to_last_task_output() -> None:
    run = Run([simple("a")])
    [a] = run.start().new_tasks
    run.claim(a)
    run.result(a, TaskStatus.COMPLETED, output={"z": 1})
    assert run.state.output == {"z": 1}


def test_failed_task_is_retried_after_the_delay_with_a_new_id() -> None:
    run = Run([simple("a")], FAST_RETRY)
    [a] = run.start().new_tasks
    run.claim(a)
    decision = run.result(a, TaskStatus.FAILED, reason="boom")
    [retry] = decision.new_tasks
    assert retry.task_id != a.task_id
    assert (retry.retry_count, retry.retried_task_id) == (1, a.task_id)
    assert retry.reason_for_incompletion == "boom"
    assert retry.start_delay_seconds == 5
    [push] = decision.pushes
    assert push.visible_at == run.now + 5000
    assert any(t.kind is TimerKind.QUEUE_VISIBLE for t in decision.timers)
    assert a.retried and run.state.status is WorkflowStatus.RUNNING
    assert run.state.failed_reference_task_names == ["a"]


def test_exhausted_retries_fail_the_workflow_with_conductors_reason() -> None:
    run = Run([simple("a")], {"work": {"name": "work", "retryCount": 1, "retryDelaySeconds": 0}})
    [a] = run.start().new_tasks
    run.claim(a)
    [retry] = run.result(a, TaskStatus.FAILED, reason="first").new_tasks
    run.claim(retry)
    decision = run.result(retry, TaskStatus.FAILED, reason="second")
    assert decision.finished and not decision.new_tasks
    assert run.state.status is WorkflowStatus.FAILED
    assert run.state.reason_for_incompletion == (
        f"Task {retry.task_id} failed with status: FAILED and reason: 'second'"
    )


def test_terminal_error_is_never_retried() -> None:
    run = Run([simple("a")], FAST_RETRY)
    [a] = run.start().new_tasks
    run.claim(a)
    decision = run.result(a, TaskStatus.FAILED_WITH_TERMINAL_ERROR, reason="fatal")
    assert not decision.new_tasks
    assert run.state.status is WorkflowStatus.FAILED


def test_optional_task_ends_completed_with_errors_and_the_workflow_continues() -> None:
    run = Run(
        [simple("a", optional=True), simple("b")], {"work": {"name": "work", "retryCount": 0}}
    )
    [a] = run.start().new_tasks
    run.claim(a)
    [b] = run.result(a, TaskStatus.FAILED).new_tasks
    assert a.status is TaskStatus.COMPLETED_WITH_ERRORS
    run.claim(b)
    run.result(b, TaskStatus.COMPLETED)
    assert run.state.status is WorkflowStatus.COMPLETED


def test_workflow_task_retry_count_overrides_the_task_def() -> None:
    run = Run([simple("a", retryCount=0)], FAST_RETRY)
    [a] = run.start().new_tasks
    run.claim(a)
    assert not run.result(a, TaskStatus.FAILED).new_tasks
    assert run.state.status is WorkflowStatus.FAILED


def test_unregistered_task_gets_conductors_ad_hoc_defaults() -> None:
    run = Run([simple("a", name="unregistered")])
    [a] = run.start().new_tasks
    task_def = a.workflow_task["taskDefinition"]
    assert (task_def["retryCount"], task_def["retryDelaySeconds"]) == (3, 60)
    assert a.response_timeout_seconds == 3600


def test_duplicate_and_late_results_are_ignored() -> None:
    run = Run([simple("a"), simple("b")])
    [a] = run.start().new_tasks
    run.claim(a)
    first = run.result(a, TaskStatus.COMPLETED, output={"v": 1})
    assert len(first.new_tasks) == 1
    again = run.result(a, TaskStatus.COMPLETED, output={"v": 2})
    assert again.ignored and not again.new_tasks and not again.changed_tasks
    late_failure = run.result(a, TaskStatus.FAILED)
    assert late_failure.ignored
    assert a.output_data == {"v": 1}
    assert [t.ref_name for t in run.state.tasks] == ["a", "b"]


def test_in_progress_with_callback_requeues_after_the_delay() -> None:
    run = Run([simple("a")])
    [a] = run.start().new_tasks
    run.claim(a)
    decision = run.result(a, TaskStatus.IN_PROGRESS, callback_after_seconds=30, output={"p": 50})
    assert a.status is TaskStatus.SCHEDULED
    assert a.output_data == {"p": 50}
    [push] = decision.pushes
    assert push.visible_at == run.now + 30_000
    assert "RESPONSE_TIMEOUT:" + a.task_id in decision.cleared_timer_keys


def test_response_timeout_times_out_and_retries() -> None:
    defs = {
        "work": {
            "name": "work",
            "retryCount": 1,
            "retryDelaySeconds": 0,
            "responseTimeoutSeconds": 10,
        }
    }
    run = Run([simple("a")], defs)
    [a] = run.start().new_tasks
    run.claim(a)
    run.advance(9)
    assert not run.send(TimerFired(TimerKind.RESPONSE_TIMEOUT, a.task_id)).new_tasks
    run.advance(1)
    [retry] = run.send(TimerFired(TimerKind.RESPONSE_TIMEOUT, a.task_id)).new_tasks
    assert a.status is TaskStatus.TIMED_OUT
    assert a.reason_for_incompletion == (
        f"responseTimeout: 10 exceeded for the taskId: {a.task_id} with Task Definition: work"
    )
    assert retry.retry_count == 1


def test_extend_lease_pushes_the_response_deadline() -> None:
    defs = {"work": {"name": "work", "responseTimeoutSeconds": 10}}
    run = Run([simple("a")], defs)
    [a] = run.start().new_tasks
    run.claim(a)
    run.advance(8)
    decision = run.result(a, TaskStatus.IN_PROGRESS, extend_lease=True)
    [timer] = decision.timers
    assert (timer.kind, timer.fire_at) == (TimerKind.RESPONSE_TIMEOUT, run.now + 10_000)
    run.advance(5)
    run.send(TimerFired(TimerKind.RESPONSE_TIMEOUT, a.task_id))
    assert a.status is TaskStatus.IN_PROGRESS


@pytest.mark.parametrize(
    ("policy", "task_status", "workflow_status", "retried"),
    [
        ("RETRY", TaskStatus.TIMED_OUT, WorkflowStatus.RUNNING, True),
        ("TIME_OUT_WF", TaskStatus.TIMED_OUT, WorkflowStatus.TIMED_OUT, False),
        ("ALERT_ONLY", TaskStatus.IN_PROGRESS, WorkflowStatus.RUNNING, False),
    ],
)
def test_task_timeout_policies(policy, task_status, workflow_status, retried) -> None:
    defs = {
        "work": {
            "name": "work",
            "timeoutSeconds": 20,
            "responseTimeoutSeconds": 20,
            "timeoutPolicy": policy,
            "retryCount": 1,
            "retryDelaySeconds": 0,
        }
    }
    run = Run([simple("a")], defs)
    [a] = run.start().new_tasks
    run.claim(a)
    run.advance(20)
    decision = run.send(TimerFired(TimerKind.TASK_TIMEOUT, a.task_id))
    assert a.status is task_status
    assert run.state.status is workflow_status
    assert bool(decision.new_tasks) is retried
    if policy != "ALERT_ONLY":
        assert a.reason_for_incompletion.startswith("Task timed out after 20 seconds.")


def test_poll_timeout_applies_only_while_scheduled() -> None:
    defs = {"work": {"name": "work", "pollTimeoutSeconds": 5, "timeoutPolicy": "TIME_OUT_WF"}}
    run = Run([simple("a")], defs)
    decision = run.start()
    [a] = decision.new_tasks
    assert any(t.kind is TimerKind.POLL_TIMEOUT and t.fire_at == T0 + 5000 for t in decision.timers)
    run.advance(5)
    run.send(TimerFired(TimerKind.POLL_TIMEOUT, a.task_id))
    assert a.status is TaskStatus.TIMED_OUT
    assert a.reason_for_incompletion.startswith("Task poll timed out after 5 seconds.")
    assert run.state.status is WorkflowStatus.TIMED_OUT


def test_workflow_timeout_time_out_wf_cancels_pending_tasks() -> None:
    run = Run([simple("a")], timeoutSeconds=60, timeoutPolicy="TIME_OUT_WF")
    decision = run.start()
    [a] = decision.new_tasks
    assert any(
        t.kind is TimerKind.WORKFLOW_TIMEOUT and t.fire_at == T0 + 60_000 for t in decision.timers
    )
    run.advance(30)
    run.send(TimerFired(TimerKind.WORKFLOW_TIMEOUT, None))
    assert run.state.status is WorkflowStatus.RUNNING
    run.advance(30)
    run.send(TimerFired(TimerKind.WORKFLOW_TIMEOUT, None))
    assert run.state.status is WorkflowStatus.TIMED_OUT
    assert a.status is TaskStatus.CANCELED
    assert run.state.reason_for_incompletion == (
        "Workflow timed out after 60 seconds. Timeout configured as 60 seconds. "
        "Timeout policy configured to TIME_OUT_WF"
    )


def test_workflow_timeout_alert_only_keeps_running() -> None:
    run = Run([simple("a")], timeoutSeconds=1, timeoutPolicy="ALERT_ONLY")
    run.start()
    run.advance(10)
    run.send(TimerFired(TimerKind.WORKFLOW_TIMEOUT, None))
    assert run.state.status is WorkflowStatus.RUNNING


def test_terminate_cancels_tasks_and_refuses_a_completed_workflow() -> None:
    run = Run([simple("a")])
    [a] = run.start().new_tasks
    decision = run.send(TerminateWorkflow("operator"))
    assert run.state.status is WorkflowStatus.TERMINATED
    assert a.status is TaskStatus.CANCELED
    assert decision.removals == [a.task_id]
    assert run.send(TerminateWorkflow("again")).ignored
    done = Run([simple("a")])
    [b] = done.start().new_tasks
    done.claim(b)
    done.result(b, TaskStatus.COMPLETED)
    with pytest.raises(Conflict):
        done.send(TerminateWorkflow("late"))


def test_total_timeout_stops_retries() -> None:
    defs = {
        "work": {"name": "work", "retryCount": 5, "retryDelaySeconds": 1, "totalTimeoutSeconds": 10}
    }
    run = Run([simple("a")], defs)
    [a] = run.start().new_tasks
    run.claim(a)
    run.advance(11)
    decision = run.result(a, TaskStatus.FAILED)
    assert not decision.new_tasks
    assert run.state.status is WorkflowStatus.FAILED
