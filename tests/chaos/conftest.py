"""The chaos suite (issue 16, RELIABILITY §4): server processes killed at fault points, the
database stopped under load, servers lost among several, poll storms, dropped clients, clock
jumps, long transactions and upgrades mid-flight, each checked against an independent ledger.
Every scenario records its figures, printed in a section at the end of the run."""

from __future__ import annotations

import json
import os

import pytest
from _pytest.terminal import TerminalReporter

from tests.chaos.figures import RECORDED
from tests.e2e.conftest import pytest_runtest_makereport, server, servers

__all__ = ["pytest_runtest_makereport", "server", "servers"]


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    if not RECORDED:
        return
    terminalreporter.section("chaos figures")
    for scenario, figures in RECORDED:
        shown = ", ".join(f"{k} {v}" for k, v in figures.items())
        terminalreporter.write_line(f"{scenario}: {shown}")
    out = os.environ.get("CHAOS_FIGURES_JSON")
    if out:
        with open(out, "w") as f:
            json.dump([{"scenario": s, **f_} for s, f_ in RECORDED], f, indent=2)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test taking `seed` runs once per seed: seeds 1..CHAOS_SEEDS (1 by default, which
    keeps CI in its budget; more by hand)."""
    if "seed" in metafunc.fixturenames:
        metafunc.parametrize("seed", range(1, int(os.environ.get("CHAOS_SEEDS", "1")) + 1))
