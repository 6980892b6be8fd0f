"""A server whose PostgreSQL stops (immediate shutdown, as a crash or a failover does) answers
503 retryable with Retry-After while it is gone, logs the outage once, and carries on by
itself when PostgreSQL is back, with nothing lost."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Servers, wait_until_sync
from tests.private_postgres import PrivatePostgres

pytestmark = [pytest.mark.e2e, pytest.mark.once]

DEFINITION = {
    "name": "outage_probe",
    "tasks": [{"name": "t", "taskReferenceName": "t", "type": "SIMPLE"}],
}


def call(url: str, method: str = "GET", body: Any = None) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            raw = answer.read()
            return answer.status, dict(answer.headers), raw.decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"{}")


def test_a_stopped_database_is_503_then_work_resumes_alone(tmp_path: Path) -> None:
    database = PrivatePostgres(tmp_path / "pg")
    servers = Servers(database.url, tmp_path)
    try:
        [server] = servers.start(1)
        assert call(f"{server.api}/metadata/workflow", "POST", DEFINITION)[0] == 200
        assert call(f"{server.api}/workflow/outage_probe", "POST", {})[0] == 200

        database.stop()
        refused = []
        for _ in range(5):
            status, headers, body = call(f"{server.api}/workflow/outage_probe", "POST", {})
            refused.append(status)
            assert status == 503, body
            assert body["retryable"] is True and int(headers["Retry-After"]) > 0
        assert call(f"{server.url}/health")[0] == 503

        database.start()
        wait_until_sync(
            lambda: call(f"{server.api}/workflow/outage_probe", "POST", {})[0] == 200,
            30.0,
            interval=0.2,
            what="starts succeed again",
        )
        status, _, found = call(
            f"{server.api}/workflow/search?query=workflowType%20IN%20(outage_probe)"
        )
        assert status == 200
        assert json.loads(found)["totalHits"] == 2  # the first and the last; none of the refused
        log = server.log_path.read_text()
        assert log.count("the database is unavailable") == 1
        assert log.count("the database is available again") == 1
        assert "unhandled error" not in log
    finally:
        problems = servers.close()
        database.close()
    assert problems == []
