"""DO_WHILE in the pure decider: iterations, naming, outputs, condition results, keepLastN."""

from __future__ import annotations

from conductor.engine.decision import TimerKind
from conductor.engine.inputs import LoopConditionEvaluated, Reevaluate
from conductor.engine.model import TaskStatus, WorkflowStatus
from tests.unit.engine.helpers import Run, simple


def loop(ref: str, *body: dict, **params) -> dict:
    return {
        "name": ref,
        "taskReferenceName": ref,
        "type": "DO_WHILE",
        "loopCondition": "$.loop.iteration < 3",
        "loopOver": list(body),
        "inputParameters": params,
    }


def by_ref(run: Run) -> dict:
    return {t.ref_name: t for t in run.state.tasks}


def finish(run: Run, ref: str, **output) -> None:
    task = by_ref(run)[ref]
    run.claim(task)
    run.result(task, TaskStatus.COMPLETED, output=output)


def test_iterations_are_named_and_condition_is_requested_after_each() -> None:
    run = Run(
        [
            loop("loop", simple("a"), simple("b", inputParameters={"from_a": "${a.output.n}"})),
            simple("after"),
        ]
    )
    run.start()
    loop_task = by_ref(run)["loop"]
    assert loop_task.status is TaskStatus.IN_PROGRESS and loop_task.output_data == {"iteration": 1}
    assert set(by_ref(run)) == {"loop", "a__1"}
    assert by_ref(run)["a__1"].iteration == 1
    finish(run, "a__1", n=10)
    assert by_ref(run)["b__1"].input_data == {"from_a": 10}
    decision = run.send(Reevaluate())
    assert not any(t.kind is TimerKind.SYSTEM_TASK for t in decision.timers)
    task_b = by_ref(run)["b__1"]
    run.claim(task_b)
    decision = run.result(task_b, TaskStatus.COMPLETED, output={"m": 1})
    assert [t.kind for t in decision.timers] == [TimerKind.SYSTEM_TASK]
    assert loop_task.awaiting_iteration == 1
    assert loop_task.output_data["1"] == {"a": {"n": 10}, "b": {"m": 1}}
    run.send(LoopConditionEvaluated(loop_task.task_id, 1, proceed=True))
    assert loop_task.output_data["iteration"] == 2 and "a__2" in by_ref(run)
    finish(run, "a__2", n=20)
    finish(run, "b__2", m=2)
    run.send(LoopConditionEvaluated(loop_task.task_id, 2, proceed=False))
    assert loop_task.status is TaskStatus.COMPLETED
    assert set(loop_task.output_data) == {"iteration", "1", "2"}
    finish(run, "after")
    assert run.state.status is WorkflowStatus.COMPLETED


def test_stale_or_duplicate_condition_results_are_ignored() -> None:
    run = Run([loop("loop", simple("a"))])
    run.start()
    loop_task = by_ref(run)["loop"]
    finish(run, "a__1")
    run.send(LoopConditionEvaluated(loop_task.task_id, 1, proceed=True))
    assert run.send(LoopConditionEvaluated(loop_task.task_id, 1, proceed=True)).ignored
    assert [t.ref_name for t in run.state.tasks].count("a__2") == 1


def test_a_failed_child_fails_the_loop_and_a_condition_error_fails_it_terminally() -> None:
    run = Run([loop("loop", simple("a"))], {"work": {"name": "work", "retryCount": 0}})
    run.start()
    task = by_ref(run)["a__1"]
    run.claim(task)
    run.result(task, TaskStatus.FAILED, reason="bad input")
    assert run.state.status is WorkflowStatus.FAILED
    erroring = Run([loop("loop", simple("a"))])
    erroring.start()
    finish(erroring, "a__1")
    loop_task = by_ref(erroring)["loop"]
    erroring.send(LoopConditionEvaluated(loop_task.task_id, 1, proceed=False, error="boom"))
    assert loop_task.status is TaskStatus.FAILED_WITH_TERMINAL_ERROR
    assert erroring.state.status is WorkflowStatus.FAILED


def test_keep_last_n_drops_old_iterations() -> None:
    run = Run([loop("loop", simple("a"), keepLastN=2)])
    run.start()
    loop_task = by_ref(run)["loop"]
    deleted: list[str] = []
    for n in range(1, 6):
        finish(run, f"a__{n}", n=n)
        decision = run.send(LoopConditionEvaluated(loop_task.task_id, n, proceed=n < 5))
        deleted.extend(decision.deleted_tasks)
    refs = [t.ref_name for t in run.state.tasks]
    assert refs == ["loop", "a__4", "a__5"]
    assert len(deleted) == 3
    assert set(loop_task.output_data) == {"iteration", "4", "5"}
    assert run.state.status is WorkflowStatus.COMPLETED
