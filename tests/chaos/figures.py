"""Figures the chaos scenarios measure, printed at the end of the test run (conftest.py).

With CHAOS_FIGURES_JSON set, they are also written to that file, one object per scenario run.
"""

from __future__ import annotations

from typing import Any

RECORDED: list[tuple[str, dict[str, Any]]] = []


def record(scenario: str, figures: dict[str, Any]) -> None:
    """Keep one scenario run's figures; also printed by the test itself, for `-s` runs."""
    RECORDED.append((scenario, dict(figures)))
    print(f"{scenario}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
