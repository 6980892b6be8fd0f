"""Conductor's hello-world: register a one-task workflow, run its worker, print the output.

    make example                                  # from a clone, with the server running
    .venv/bin/conductor-hello-world [NAME]        # the same, as an installed console script

The server is taken from CONDUCTOR_SERVER_URL (default http://localhost:8080/api).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from typing import Any

import aiohttp

from workers import ConductorClient, TaskRunner, worker_task
from workers.errors import ConductorError

DEFAULT_SERVER_URL = "http://localhost:8080/api"
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"})

GREET_TASK_DEF: dict[str, Any] = {
    "name": "greet",
    "retryCount": 3,
    "retryLogic": "FIXED",
    "retryDelaySeconds": 1,
    # responseTimeoutSeconds must not exceed timeoutSeconds, or the server rejects the def.
    "timeoutSeconds": 60,
    "responseTimeoutSeconds": 30,
    "timeoutPolicy": "TIME_OUT_WF",
    "ownerEmail": "example@example.com",
}

HELLO_WORLD_DEF: dict[str, Any] = {
    "name": "hello_world",
    "version": 1,
    "schemaVersion": 2,
    "description": "Greets the name given as workflow input",
    "inputParameters": ["name"],
    "tasks": [
        {
            "name": "greet",
            "taskReferenceName": "greet_ref",
            "type": "SIMPLE",
            "inputParameters": {"name": "${workflow.input.name}"},
        }
    ],
    "outputParameters": {"greetings": "${greet_ref.output.greetings}"},
    "ownerEmail": "example@example.com",
}


@worker_task("greet")
async def greet(name: str) -> dict[str, str]:
    """Say hello."""
    return {"greetings": f"Hello {name}"}


async def wait_for_workflow(
    client: ConductorClient, workflow_id: str, timeout: float = 60.0
) -> dict[str, Any]:
    """Poll the workflow's status until it is terminal."""
    async with asyncio.timeout(timeout):
        while True:
            workflow = await client.get_workflow(workflow_id, include_tasks=False)
            if workflow.get("status") in TERMINAL_STATUSES:
                return workflow
            await asyncio.sleep(0.2)


async def main(name: str) -> int:
    base_url = os.environ.get("CONDUCTOR_SERVER_URL", DEFAULT_SERVER_URL)
    async with ConductorClient(base_url) as client:
        await client.register_task_defs([GREET_TASK_DEF])
        await client.register_workflow_def(HELLO_WORLD_DEF, overwrite=True)
        workflow_id = await client.start_workflow("hello_world", {"name": name}, version=1)
        print(f"started hello_world {workflow_id}")

        runner = TaskRunner(client, [greet])
        runner_task = asyncio.create_task(runner.run())
        try:
            workflow = await wait_for_workflow(client, workflow_id)
        finally:
            await runner.stop(grace_seconds=5)
            # run() ends once stop() has; awaiting it also surfaces a crash of the runner.
            await runner_task

    print(f"status: {workflow['status']}")
    print(json.dumps(workflow.get("output", {}), indent=2))
    return 0 if workflow["status"] == "COMPLETED" else 1


def run() -> int:
    """The console script `conductor-hello-world [NAME]`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    base_url = os.environ.get("CONDUCTOR_SERVER_URL", DEFAULT_SERVER_URL)
    try:
        return asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "World"))
    except aiohttp.ClientConnectionError:
        print(
            f"hello_world: no Conductor server answers at {base_url}: start one with `make run`,"
            " or set CONDUCTOR_SERVER_URL to its API address",
            file=sys.stderr,
        )
        return 1
    except ConductorError as exc:
        print(f"hello_world: the server at {base_url} refused: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(run())
