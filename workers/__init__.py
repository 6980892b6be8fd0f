"""An asyncio worker library for Conductor-compatible servers, speaking only their REST API.

```python
from workers import ConductorClient, TaskRunner, worker_task

@worker_task("greet")
async def greet(name: str) -> dict[str, str]:
    return {"greetings": f"Hello {name}"}

async with ConductorClient("http://localhost:8080/api") as client:
    runner = TaskRunner(client, [greet])
    await runner.run()  # until another task calls `await runner.stop(grace_seconds)`
```
"""

from workers.backoff import Backoff
from workers.client import ConductorClient
from workers.errors import ConductorError, NonRetryableError
from workers.model import Task, TaskLog, TaskResult, TaskResultStatus
from workers.outcome import InProgress, Outcome
from workers.runner import TaskRunner
from workers.worker import FunctionWorker, Worker, worker_task

__all__ = [
    "Backoff",
    "ConductorClient",
    "ConductorError",
    "FunctionWorker",
    "InProgress",
    "NonRetryableError",
    "Outcome",
    "Task",
    "TaskLog",
    "TaskResult",
    "TaskResultStatus",
    "TaskRunner",
    "Worker",
    "worker_task",
]
