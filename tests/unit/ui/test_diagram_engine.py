"""The diagram of runs the pure decider made: what the engine records is what the diagram reads,
from a WorkflowState and from the execution JSON the API answers alike."""

from __future__ import annotations

from typing import Any

from conductor.engine.inputs import LoopConditionEvaluated
from conductor.engine.model import TaskState, TaskStatus, WorkflowStatus
from conductor.ui.diagram import graph, render_execution
from conductor.ui.diagram.paint import DisplayStatus, Painting, paint
from conductor.ui.diagram.runs import execution_of
from conductor.wire.render import workflow_json
from tests.unit.engine.helpers import Run, simple
from tests.unit.ui.diagram_builders import classes, node_by_ref, parse, texts


def by_ref(run: Run) -> dict[str, TaskState]:
    return {t.ref_name: t for t in run.state.tasks}


def finish(run: Run, ref: str, status: TaskStatus = TaskStatus.COMPLETED, **kw: Any) -> None:
    task = by_ref(run)[ref]
    run.claim(task)
    run.result(task, status, **kw)


def definition() -> list[dict[str, Any]]:
    return [
        simple("flaky"),
        {
            "name": "route",
            "taskReferenceName": "route",
            "type": "SWITCH",
            "evaluatorType": "value-param",
            "expression": "kind",
            "inputParameters": {"kind": "${workflow.input.kind}"},
            "decisionCases": {"fan": [simple("in_fan")], "none": [simple("in_none")]},
            "defaultCase": [simple("in_default")],
        },
        {
            "name": "repeat",
            "taskReferenceName": "repeat",
            "type": "DO_WHILE",
            "loopCondition": "$.repeat.iteration < 2",
            "loopOver": [simple("step")],
        },
        {
            "name": "spread",
            "taskReferenceName": "spread",
            "type": "FORK_JOIN_DYNAMIC",
            "inputParameters": {"forkTaskName": "piece", "forkTaskInputs": [{"n": 1}, {"n": 2}]},
        },
        {"name": "spread_join", "taskReferenceName": "spread_join", "type": "JOIN"},
        simple("last"),
    ]


def drive() -> Run:
    run = Run(definition(), {"work": {"name": "work", "retryCount": 2, "retryDelaySeconds": 0}})
    run.state.input = {"kind": "fan"}
    run.start()
    finish(run, "flaky", TaskStatus.FAILED, reason="flaked")
    finish(run, "flaky")
    finish(run, "in_fan")
    finish(run, "step__1")
    loop_task = by_ref(run)["repeat"]
    run.send(LoopConditionEvaluated(loop_task.task_id, 1, proceed=True))
    finish(run, "step__2")
    run.send(LoopConditionEvaluated(loop_task.task_id, 2, proceed=False))
    children = sorted(r for r in by_ref(run) if r.startswith("_"))
    finish(run, children[0])
    return run


def statuses(painting: Painting) -> dict[str, str]:
    return {node.ref: painting.of(node).status.value for node in painting.nodes}


def test_a_decider_run_paints_the_same_from_state_and_from_json() -> None:
    run = drive()
    root = graph.diagram(run.state.definition["tasks"])
    from_state = paint(root, execution_of(run.state))
    from_json = paint(root, execution_of(workflow_json(run.state)))
    assert statuses(from_state) == statuses(from_json)
    assert statuses(from_state) == {
        "flaky": "completed",
        "route": "completed",
        "in_fan": "completed",
        "in_none": "not-reached",
        "in_default": "not-reached",
        "repeat": "completed",
        "step": "completed",
        "spread": "completed",
        "spread_join": "in-progress",
        "last": "not-reached",
    }
    nodes = {n.ref: n for n in graph.task_nodes(root)}
    assert len(from_state.of(nodes["flaky"]).attempts) == 2
    assert [b.key for b in from_state.taken.values()] == ["fan"]
    assert from_state.of(nodes["repeat"]).iteration_count == 2
    children = from_state.of(nodes["spread"]).children
    assert [c.status for c in children] == [DisplayStatus.COMPLETED, DisplayStatus.SCHEDULED]
    assert from_json.of(nodes["spread"]).children == children
    assert not from_state.extras


def test_a_decider_run_renders() -> None:
    run = drive()
    svg = render_execution(run.state.definition["tasks"], run.state)
    root = parse(svg)
    flaky = node_by_ref(root, "flaky")
    assert "status-completed" in classes(flaky) and "retried" in classes(flaky)
    assert "attempt 2" in texts(flaky)
    assert "dimmed" in classes(node_by_ref(root, "in_none"))
    assert "iteration 2 of 2" in texts(node_by_ref(root, "repeat"))
    stack = next(g for g in root.iter() if "stack" in classes(g))
    assert stack.get("data-children") == "2"


def test_a_run_the_engine_failed_shows_where_it_stopped() -> None:
    run = Run([simple("a"), simple("b")], {"work": {"name": "work", "retryCount": 0}})
    run.start()
    finish(run, "a", TaskStatus.FAILED, reason="no luck")
    assert run.state.status is WorkflowStatus.FAILED
    root = parse(render_execution(run.state.definition["tasks"], run.state))
    a = node_by_ref(root, "a")
    assert "status-failed" in classes(a) and "\u2717 failed" in texts(a)
    assert "no luck" in "".join(a.itertext())  # the reason, in the node's title
    assert "status-not-reached" in classes(node_by_ref(root, "b"))
    assert "Workflow status: FAILED" in texts(root)
