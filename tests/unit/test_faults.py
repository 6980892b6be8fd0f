"""Fault points: parsed strictly, inert unless set, and a set one kills its process once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from conductor import faults

SCRIPT = """
from conductor import faults
for n in range(1, 6):
    print(n, flush=True)
    faults.reached("transition.after_commit")
    faults.reached("claim.before_response")
"""


def _run(points: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, faults.ENV: points}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_third_pass_kills_the_process_with_a_line_on_stderr() -> None:
    done = _run("transition.after_commit=3")
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.split() == ["1", "2", "3"]
    assert done.stderr == "fault point transition.after_commit reached: SIGKILL\n"


def test_the_first_point_to_run_out_kills() -> None:
    done = _run("transition.after_commit=4,claim.before_response=2")
    assert done.returncode == -signal.SIGKILL
    assert "claim.before_response" in done.stderr


def test_unset_nothing_happens() -> None:
    done = _run("")
    assert done.returncode == 0
    assert done.stdout.split() == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize(
    "text", ["nowhere=1", "transition.after_commit", "transition.after_commit=0", "claim.x=2"]
)
def test_a_malformed_setting_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=faults.ENV):
        faults._parse(text)
