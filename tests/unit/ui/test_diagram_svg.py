"""The SVG: well-formed, statuses told in words as well as colours, links, nothing a hostile
name can turn into markup, and nothing a strict Content-Security-Policy would refuse."""

from __future__ import annotations

import timeit
from importlib import resources
from pathlib import Path

from conductor.engine.model import TaskStatus, WorkflowState, WorkflowStatus
from conductor.ui.diagram import Links, render_definition, render_execution
from conductor.ui.diagram.paint import DisplayStatus
from conductor.ui.diagram.svg import LABELS
from tests.unit.ui.diagram_builders import (
    SVG,
    Execution,
    classes,
    fork,
    join,
    loop,
    node_by_ref,
    parse,
    switch,
    task,
    texts,
)

HOSTILE = ["<img src=x onerror=alert(1)>", '"><script>alert(1)</script>', "a&b'c\"d", "x\x01\x1fy"]


def polylines(root):
    return [e for e in root.iter(f"{SVG}polyline")]


def test_a_definition_has_shapes_and_no_statuses() -> None:
    root = parse(render_definition([task("a"), switch("s", [task("d")], yes=[task("y")])]))
    a = node_by_ref(root, "a")
    assert a.get("data-status") is None
    assert not any(c.startswith("status-") for e in root.iter() for c in classes(e))
    assert not any(e.get("href") for e in root.iter())  # no task to open
    assert "legend" not in {c for e in root.iter() for c in classes(e)}
    assert {"a", "s", "d", "y"} <= {e.get("data-ref") for e in root.iter()}


def test_definition_nodes_link_where_the_page_says() -> None:
    class ByRef(Links):
        def reference(self, ref: str) -> str | None:
            return f"/definition/wf?task={ref}"

    root = parse(render_definition([task("a")], links=ByRef()))
    assert [e.get("href") for e in root.iter(f"{SVG}a")] == ["/definition/wf?task=a"]


def test_an_empty_workflow_renders_start_and_end() -> None:
    for svg in (render_definition([]), render_execution([], Execution("COMPLETED").json())):
        root = parse(svg)
        terminals = [e for e in root.iter(f"{SVG}g") if "terminal" in classes(e)]
        assert [texts(t) for t in terminals] == ["Start", "End"]
        assert len(polylines(root)) == 1


def test_nodes_show_their_status_as_class_icon_and_words() -> None:
    run = Execution()
    run.add("a", "COMPLETED")
    run.add("b", "IN_PROGRESS")
    root = parse(render_execution([task("a"), task("b"), task("c")], run.json()))
    for ref, status in (("a", "completed"), ("b", "in-progress"), ("c", "not-reached")):
        node = node_by_ref(root, ref)
        assert f"status-{status}" in classes(node)
        assert node.get("data-status") == status
        icon, words = LABELS[DisplayStatus(status)]
        assert f"{icon} {words}" in texts(node)
    assert node_by_ref(root, "a").get("data-task-id") == "t1"


def test_the_legend_names_every_status_in_words() -> None:
    root = parse(render_execution([task("a")], Execution().json()))
    legend = next(e for e in root.iter(f"{SVG}g") if "legend" in classes(e))
    words = texts(legend)
    for status, (icon, label) in LABELS.items():
        if status is not DisplayStatus.UNKNOWN:
            assert f"{icon} {label}" in words
    assert "executed path" in words and "Workflow status: RUNNING" in words


def test_every_node_opens_its_task() -> None:
    run = Execution()
    run.add("a", "COMPLETED", task_id="id-1")
    root = parse(render_execution([task("a"), task("b")], run.json()))
    links = [e.get("href") for e in node_by_ref(root, "a").iter(f"{SVG}a")]
    assert links == ["?task=id-1"]
    assert [e.get("href") for e in node_by_ref(root, "b").iter(f"{SVG}a")] == [None]


def test_the_executed_path_is_marked_and_the_rest_is_not() -> None:
    run = Execution()
    run.add("a", "COMPLETED")
    run.add("b", "FAILED")
    root = parse(render_execution([task("a"), task("b"), task("c")], run.json()))
    lines = polylines(root)
    executed = [e for e in lines if "executed" in classes(e)]
    assert len(lines) == 4 and len(executed) == 2  # start->a->b; not b->c, not c->end
    assert all(e.get("marker-end") == "url(#cd-arrow-executed)" for e in executed)


def test_the_switch_taken_is_marked_and_the_others_dimmed() -> None:
    tasks = [switch("s", [task("d")], yes=[task("y")], no=[]), task("after")]
    run = Execution()
    run.add("s", "COMPLETED", "SWITCH", inputData={"case": "yes"})
    run.add("y", "COMPLETED")
    root = parse(render_execution(tasks, run.json()))
    labels = {texts(e): classes(e) for e in root.iter(f"{SVG}g") if "case-label" in classes(e)}
    assert set(labels) == {"yes", "no", "default"}
    assert "taken" in labels["yes"] and "dimmed" not in labels["yes"]
    assert "dimmed" in labels["no"] and "dimmed" in labels["default"]
    assert "dimmed" in classes(node_by_ref(root, "d"))
    assert "dimmed" not in classes(node_by_ref(root, "y"))
    assert node_by_ref(root, "s").get("data-case") == "yes"
    executed = [e for e in polylines(root) if "executed" in classes(e)]
    assert len(executed) == 3  # start->s, s->y, y->merge; "after" has not started
    assert not any("dimmed" in classes(e) for e in executed)


def test_a_retried_task_lists_its_attempts() -> None:
    run = Execution()
    run.add("a", "FAILED", task_id="x1", reasonForIncompletion="first")
    run.add("a", "FAILED", task_id="x2", reasonForIncompletion="second")
    run.add("a", "COMPLETED", task_id="x3")
    root = parse(render_execution([task("a")], run.json()))
    node = node_by_ref(root, "a")
    assert node.get("data-attempts") == "x1 x2 x3" and node.get("data-task-id") == "x3"
    assert "retried" in classes(node) and "attempt 3" in texts(node)


def test_a_skipped_task_is_labelled_and_passed() -> None:
    run = Execution()
    run.add("a", "SKIPPED")
    run.add("b", "COMPLETED")
    root = parse(render_execution([task("a"), task("b")], run.json()))
    assert "\u21b7 skipped" in texts(node_by_ref(root, "a"))
    assert sum("executed" in classes(e) for e in polylines(root)) == 2


def test_a_loop_shows_the_picked_iteration_with_links_to_its_neighbours() -> None:
    run = Execution()
    run.add("l", "COMPLETED", "DO_WHILE", iteration=3)
    for i in (1, 2, 3):
        run.add(f"a__{i}", "COMPLETED" if i != 2 else "FAILED")
    root = parse(render_execution([loop("l", task("a"))], run.json(), iterations={"l": 2}))
    box = next(e for e in root.iter(f"{SVG}g") if "loop" in classes(e))
    assert "iteration 2 of 3" in texts(box)
    assert box.get("data-iterations") == "3" and box.get("data-selected-iteration") == "2"
    hrefs = [e.get("href") for e in box.iter(f"{SVG}a")]
    assert hrefs == ["?loop=l&iteration=3", "?loop=l&iteration=1"]
    assert "status-failed" in classes(node_by_ref(root, "a"))
    last = parse(render_execution([loop("l", task("a"))], run.json()))
    assert "status-completed" in classes(node_by_ref(last, "a"))


def test_a_dynamic_fork_card_counts_its_children() -> None:
    run = Execution()
    kids = [f"_w_{i}" for i in range(15)]
    run.add("dyn", "COMPLETED", "FORK", inputData={"forkedTasks": kids})
    for i, kid in enumerate(kids):
        run.add(kid, "FAILED" if i == 3 else "COMPLETED", name="w")
    root = parse(render_execution([task("dyn", "FORK_JOIN_DYNAMIC"), join("dj")], run.json()))
    stack = next(e for e in root.iter(f"{SVG}g") if "stack" in classes(e))
    assert stack.get("data-children") == "15"
    assert "status-failed" in classes(stack)  # the worst child shows on the card
    words = texts(stack)
    assert "15 tasks" in words and "\u2717 1" in words and "\u2713 14" in words
    assert "+7 more" in words
    chips = [a.get("href") for a in stack.iter(f"{SVG}a") if a.find(f"{SVG}rect") is not None]
    assert "?task=t2" in chips and len(chips) >= 8


def test_a_sub_workflow_links_to_its_child_run() -> None:
    run = Execution()
    run.add("sub", "COMPLETED", "SUB_WORKFLOW", outputData={"subWorkflowId": "child/9"})
    root = parse(render_execution([task("sub", "SUB_WORKFLOW")], run.json()))
    node = node_by_ref(root, "sub")
    hrefs = [e.get("href") for e in node.iter(f"{SVG}a")]
    assert hrefs == ["?task=t1", "/execution/child%2F9"]
    assert node.get("data-child-workflow-id") == "child/9"


def test_a_run_ended_by_terminate_after_a_failure() -> None:
    tasks = [
        task("charge"),
        switch("check", [task("ship")], failed=[task("stop", "TERMINATE")]),
        task("notify"),
    ]
    run = Execution("FAILED")
    run.add("charge", "FAILED", reasonForIncompletion="card declined")
    run.add("charge", "COMPLETED_WITH_ERRORS")
    run.add("check", "COMPLETED", "SWITCH", outputData={"evaluationResult": ["failed"]})
    run.add("stop", "COMPLETED", "TERMINATE", inputData={"terminationStatus": "FAILED"})
    root = parse(render_execution(tasks, run.json()))
    assert "status-completed-with-errors" in classes(node_by_ref(root, "charge"))
    stop = node_by_ref(root, "stop")
    assert "shape-terminate" in classes(stop) and "status-completed" in classes(stop)
    assert "status-not-reached" in classes(node_by_ref(root, "notify"))
    assert "dimmed" in classes(node_by_ref(root, "ship"))
    end = [e for e in root.iter(f"{SVG}g") if "end" in classes(e)]
    assert end and "reached" not in classes(end[0])


def test_tasks_not_in_the_definition_are_drawn_apart() -> None:
    run = Execution()
    run.add("a", "COMPLETED")
    run.add("surprise", "FAILED", task_id="s1")
    root = parse(render_execution([task("a")], run.json()))
    extras = next(e for e in root.iter(f"{SVG}g") if "extras" in classes(e))
    assert "1 task not in the definition" in texts(extras)
    node = node_by_ref(root, "surprise")
    assert "status-failed" in classes(node) and node.get("data-task-id") == "s1"


def test_hostile_names_refs_cases_and_ids_stay_text() -> None:
    tasks = [
        task(HOSTILE[0], name=HOSTILE[1]),
        switch(HOSTILE[2], [task("d")], **{HOSTILE[0]: [task(HOSTILE[3])]}),
        loop(HOSTILE[1], task("inner")),
        task("sub", "SUB_WORKFLOW"),
        task("dyn", "FORK_JOIN_DYNAMIC"),
        join("dj"),
    ]
    run = Execution(status=HOSTILE[1], workflow_id=HOSTILE[0])
    run.add(HOSTILE[0], "COMPLETED", task_id=HOSTILE[1])
    run.add(HOSTILE[2], "COMPLETED", "SWITCH", inputData={"case": HOSTILE[0]})
    run.add(
        "sub", "IN_PROGRESS", "SUB_WORKFLOW", outputData={"subWorkflowId": "javascript:alert(1)"}
    )
    run.add("dyn", "COMPLETED", "FORK", inputData={"forkedTasks": [HOSTILE[1]]})
    run.add(HOSTILE[1], "COMPLETED", task_id=HOSTILE[0], name=HOSTILE[0])
    run.add("elsewhere" + HOSTILE[0], "COMPLETED")
    svg = render_execution(tasks, run.json(), title=HOSTILE[1])
    root = parse(svg)  # no script, img, on* attribute, style attribute, or foreign href
    assert "<script" not in svg and "<img" not in svg
    assert node_by_ref(root, HOSTILE[0]).get("data-task-id") == HOSTILE[1]
    assert HOSTILE[1][:20] in texts(root)  # shown as text
    child = [e.get("href") for e in node_by_ref(root, "sub").iter(f"{SVG}a")][-1]
    assert child == "/execution/javascript%3Aalert%281%29"
    assert "x\ufffd\ufffdy" in {e.get("data-ref") for e in root.iter()}


def test_no_style_attribute_and_every_class_is_styled() -> None:
    run = Execution()
    run.add("a", "COMPLETED")
    svg = render_execution([task("a"), fork("f", [task("b")]), join("j")], run.json())
    assert " style=" not in svg and "<style" not in svg
    css = Path(str(resources.files("conductor.ui").joinpath("static/diagram.css"))).read_text()
    for name in ("cd-diagram", "status-completed", "status-failed", "dimmed", "executed"):
        assert f".{name}" in css


def test_a_workflow_state_renders_like_its_json() -> None:
    from conductor.engine.model import TaskState

    state = WorkflowState("wf-9", {"tasks": [task("a")]}, WorkflowStatus.COMPLETED, 0)
    state.tasks.append(
        TaskState("t1", "wf-9", "a", "a", "a", 1, task("a"), status=TaskStatus.COMPLETED)
    )
    run = Execution("COMPLETED", "wf-9")
    run.add("a", "COMPLETED")
    assert render_execution([task("a")], state) == render_execution([task("a")], run.json())


def test_a_thousand_task_loop_renders() -> None:
    body = [task(f"s{i}") for i in range(5)]
    run = Execution("COMPLETED")
    run.add("l", "COMPLETED", "DO_WHILE", iteration=200)
    for i in range(1, 201):
        for step in body:
            run.add(f"{step['taskReferenceName']}__{i}", "COMPLETED")
    execution = run.json()
    assert len(execution["tasks"]) == 1001
    svg = render_execution([loop("l", *body)], execution)
    root = parse(svg)
    assert "iteration 200 of 200" in texts(root)
    seconds = min(timeit.repeat(lambda: render_execution([loop("l", *body)], execution), number=5))
    print(f"\n1,000-task loop: {seconds / 5 * 1000:.2f} ms per render")
