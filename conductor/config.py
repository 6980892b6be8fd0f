"""Server settings, parsed once from the command line and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 8080
    database_url: str | None = None
    data_dir: Path = Path("./.conductor-data")
    pool_size: int = 20
    # Timers claimed per round; those that only feed an event to their workflow fire in
    # transactions of `timer_bulk_size` workflows each.
    timer_batch: int = 1000
    timer_bulk_size: int = 200
    # The timer service's own connections: a flood of API requests cannot make timers wait for
    # a connection from the main pool.
    timer_pool_size: int = 6
    # How long a claimed timer stays hidden before it may fire again if its firing was lost.
    timer_lease_ms: int = 30_000
    # Upper bound on the timer service's sleep: a safety poll for missed wake-ups.
    timer_max_idle_ms: int = 5_000
    # HTTP tasks run at most this many at a time per isolation group (TaskDef isolationGroupId).
    system_task_lane_size: int = 32
    run_background_services: bool = True
    # One log line per request costs ~7% of the server's CPU under load; off unless asked for.
    access_log: bool = False
    # Retention: remove finished workflows older than this many days (None: keep everything),
    # copying each into workflow_archive first when retention_archive is set.
    retention_days: float | None = None
    retention_archive: bool = False
    retention_batch: int = 100
    # A throwaway dev instance whose clock jumps ahead when nothing is runnable.
    virtual_clock: bool = False
    # Payload caps, in bytes of JSON, as Conductor's maxWorkflowInputPayloadSizeThreshold and
    # maxTaskOutputPayloadSizeThreshold (10240 KB each): a start with a larger input is refused,
    # a task reporting a larger output fails.
    max_workflow_input_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    max_task_output_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "host": env.get("CONDUCTOR_HOST", cls.host),
            "port": int(env.get("CONDUCTOR_PORT", cls.port)),
            "database_url": env.get("CONDUCTOR_DATABASE_URL") or None,
            "data_dir": Path(env.get("CONDUCTOR_DATA_DIR", str(cls.data_dir))),
            "pool_size": int(env.get("CONDUCTOR_DB_POOL_SIZE", cls.pool_size)),
            "access_log": _flag(env.get("CONDUCTOR_ACCESS_LOG")),
            "retention_days": float(env["CONDUCTOR_RETENTION_DAYS"])
            if env.get("CONDUCTOR_RETENTION_DAYS")
            else None,
            "retention_archive": _flag(env.get("CONDUCTOR_RETENTION_ARCHIVE")),
            "retention_batch": int(env.get("CONDUCTOR_RETENTION_BATCH", cls.retention_batch)),
            "system_task_lane_size": int(
                env.get("CONDUCTOR_SYSTEM_TASK_LANE_SIZE", cls.system_task_lane_size)
            ),
            "max_workflow_input_bytes": int(
                env.get("CONDUCTOR_MAX_WORKFLOW_INPUT_BYTES", cls.max_workflow_input_bytes)
            ),
            "max_task_output_bytes": int(
                env.get("CONDUCTOR_MAX_TASK_OUTPUT_BYTES", cls.max_task_output_bytes)
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values["data_dir"], str):
            values["data_dir"] = Path(values["data_dir"])
        return cls(**values)  # type: ignore[arg-type]


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")
