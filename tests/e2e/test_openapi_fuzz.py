"""Schemathesis against a live server, driven by the server's own /api-docs: no request it
generates (valid or not) may get a 5xx, and every answer must match its documented schema.

Bounded in time (--max-time) and reproducible (--seed); the report lands in the test's tmp_path.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conductor.testing.server_process import ServerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.once]

BUDGET_S = 60
SEED = 20261205


def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(
    server: ServerProcess, tmp_path: Path
) -> None:
    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert executable is not None, "schemathesis is in the test extra: make install"
    done = subprocess.run(
        [
            executable,
            "run",
            f"{server.url}/api-docs",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            "5",
            "--max-time",
            str(BUDGET_S),
            # Above the longest wait an operation documents (a synchronous execute, 10 s).
            "--request-timeout",
            "15",
            "--generation-with-security-parameters",
            "false",
            "--seed",
            str(SEED),
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=BUDGET_S + 120,
    )
    summary = done.stdout[done.stdout.rfind("SUMMARY") :]
    print(summary)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Tested: " in summary
