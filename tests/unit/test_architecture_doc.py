"""docs/architecture.md shows the task-type and timer-kind tables as the code has them."""

from __future__ import annotations

from pathlib import Path

from conductor.engine.task_types import TASK_TYPES, TaskTypeSpec
from conductor.timers.routes import ROUTES

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _rows(marker: str) -> list[list[str]]:
    text = DOC.read_text()
    section = text.split(f"<!-- {marker} -->")[1].split(f"<!-- /{marker} -->")[0]
    lines = [line for line in section.strip().splitlines() if line.startswith("|")][2:]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def _task_type_row(spec: TaskTypeSpec) -> list[str]:
    run_by = "worker" if spec.worker else "server" if spec.supported else "refused"
    return [
        spec.type.value,
        run_by,
        spec.start.__name__ if spec.start else "—",
        spec.runtime.value if spec.runtime else "—",
        spec.lane.value if spec.lane else "—",
        "yes" if spec.retried else "no",
        spec.shape.value,
    ]


def test_the_task_type_table_matches_the_code() -> None:
    assert _rows("task-types") == [_task_type_row(spec) for spec in TASK_TYPES.values()]


def test_the_timer_kind_table_matches_the_routes() -> None:
    documented = [row[:3] for row in _rows("timer-kinds")]
    expected = [
        [kind.value, route.firing.value, "yes" if route.own_limit else "no"]
        for kind, route in ROUTES.items()
    ]
    assert documented == expected
