"""The diagram's entry points: a definition's task list, with or without an execution, as SVG."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conductor.engine.model import WorkflowState
from conductor.ui.diagram import graph
from conductor.ui.diagram.layout import layout
from conductor.ui.diagram.links import Links
from conductor.ui.diagram.paint import Painting, paint
from conductor.ui.diagram.runs import execution_of
from conductor.ui.diagram.svg import render


def render_definition(
    definition_tasks: Any, *, links: Links | None = None, title: str = "Workflow diagram"
) -> str:
    """An SVG of a definition's `tasks` (the WorkflowTask dicts), with no statuses.

    Nodes carry `data-ref`; they link only where `links.reference` says (by default nowhere).
    """
    root = graph.diagram(definition_tasks)
    return render(layout(root), Painting(), links or Links(), title)


def render_execution(
    definition_tasks: Any,
    execution: WorkflowState | Mapping[str, Any],
    *,
    iterations: Mapping[str, int] | None = None,
    links: Links | None = None,
    title: str | None = None,
) -> str:
    """An SVG of a run over its definition's `tasks` (`state.definition["tasks"]`, or
    `workflowDefinition.tasks` of the execution JSON).

    `execution` is a WorkflowState or Conductor's execution JSON (GET /api/workflow/{id} with
    its tasks): the workflow's `status` and, per task, its id, reference name (with `__N` in a
    loop), taskDefName, taskType, status, seq, iteration, input (`case`, `forkedTasks`,
    `joinOn`), output (`subWorkflowId`, the switch's case, the loop's `iteration`) and reason.
    `iterations` picks, by a DO_WHILE's reference name, the iteration its body shows (by
    default the last). Nodes link to `?task={taskId}`, sub-workflows to `/execution/{childId}`,
    a loop's other iterations to `?loop={ref}&iteration={n}`: pass `links` to change them.
    """
    run = execution_of(execution)
    root = graph.diagram(definition_tasks)
    painting = paint(root, run, iterations)
    label = title if title is not None else f"Execution {run.workflow_id}"
    return render(layout(root, painting.extras), painting, links or Links(), label)
