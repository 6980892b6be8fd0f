"""Pieces of every bench's markdown report: percentiles, the command line, where it goes."""

from __future__ import annotations

import math
import sys
from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def command_line(module: str) -> str:
    """How this run was started, for the report: `python -m bench.<name> <its options>`."""
    return " ".join(["python", "-m", module, *sys.argv[1:]])


def write_out(block: str, markdown_out: Path | None, printed: str | None = None) -> None:
    """Print the report (or `printed`, e.g. JSON), and append it to `markdown_out` if given."""
    print(block if printed is None else printed)
    if markdown_out:
        with markdown_out.open("a") as out:
            out.write("\n" + block)
