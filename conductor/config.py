"""Server settings, parsed once from the command line and the environment."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from conductor.errors import StartupRefused

DEFAULT_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    # Loopback unless told otherwise: a server reachable from a network needs API keys
    # (or --insecure-no-auth) before it starts.
    host: str = "127.0.0.1"
    port: int = 8080
    insecure_no_auth: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Tokens from POST /api/token; the SDKs fetch a new one when told a token expired.
    auth_token_ttl_s: float = 900.0
    ui_session_ttl_s: float = 8 * 3600.0
    # How soon a key made or revoked on another server (or by `conductor keys`) takes effect here.
    key_refresh_s: float = 2.0
    # Origins besides the server's own whose browser pages may send writes (scheme://host:port).
    allowed_origins: tuple[str, ...] = ()
    database_url: str | None = None
    data_dir: Path = Path("./.conductor-data")
    # The main pool's connections; with `processes` > 1 the host's total, shared among them
    # (conductor/processes.py).
    pool_size: int = 20
    # Server processes serving this host's port; more than 1 makes this process their
    # supervisor (conductor/processes.py).
    processes: int = 1
    # Set only on the processes a supervisor starts: its pid (they stop when it dies and leave
    # migrations to it) and whether the database is the embedded one it runs.
    supervisor_pid: int | None = None
    supervisor_embedded: bool = False
    # New workflow starts run at most this many at a time; the rest wait their turn while
    # running work (polls, task results, timers) goes first (services/admission.py). 0: no gate.
    start_concurrency: int = 16
    # ... and at most this many while many timers fall due in the next seconds (work already
    # promised: WAITs ending, retries).
    start_concurrency_busy: int = 2
    # ... and up to this many while no running work is in sight (no task claimed for a second,
    # few timers due): starts then have the server to themselves.
    start_concurrency_idle: int = 32
    # With this many starts waiting, more are answered 429 with Retry-After. 0: never refuse.
    max_start_backlog: int = 0
    # While tasks are claimed more than this long after they became ready, admitted starts are
    # held (at most a second each) so running work catches up. 0: never held. At 100 ms,
    # bench.mixed_load's M1 saw dispatch p99 of 247-457 ms; at 50, 149-228 ms for the same
    # throughput (at 30, 6 % fewer tasks/s).
    start_wait_target_ms: int = 50
    # Task results, and workflow starts, arriving together share one transaction of at most
    # this many (group_commit.py); 1 runs each in its own.
    group_commit_max: int = 64
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
    # Where HTTP tasks and status webhooks may connect (services/egress.py): hostnames, IPs or
    # CIDRs, each optionally with :port. An allow list admits only what it names; a deny list
    # replaces the default one (None: link-local and cloud metadata addresses). The server's
    # own listening address is denied whatever these say.
    http_allow: tuple[str, ...] = ()
    http_deny: tuple[str, ...] | None = None
    # Conductor's payload limit: an HTTP task whose response body is larger fails.
    http_max_response_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES

    # Payload caps, in bytes of JSON, as Conductor's maxWorkflowInputPayloadSizeThreshold and
    # maxTaskOutputPayloadSizeThreshold (10240 KB each): a start with a larger input is refused,
    # a task reporting a larger output fails.
    max_workflow_input_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    max_task_output_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES

    @property
    def loopback_only(self) -> bool:
        """Whether only this machine can reach the server (its bind address is loopback)."""
        if self.host.strip().lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host.strip().strip("[]")).is_loopback
        except ValueError:
            return False  # a host name: it may resolve to any interface

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "host": env.get("CONDUCTOR_HOST", cls.host),
            "port": int(env.get("CONDUCTOR_PORT", cls.port)),
            "database_url": env.get("CONDUCTOR_DATABASE_URL") or None,
            "data_dir": Path(env.get("CONDUCTOR_DATA_DIR", str(cls.data_dir))),
            "pool_size": int(env.get("CONDUCTOR_DB_POOL_SIZE", cls.pool_size)),
            "processes": int(env.get("CONDUCTOR_PROCESSES", cls.processes)),
            "start_concurrency": int(env.get("CONDUCTOR_START_CONCURRENCY", cls.start_concurrency)),
            "start_concurrency_busy": int(
                env.get("CONDUCTOR_START_CONCURRENCY_BUSY", cls.start_concurrency_busy)
            ),
            "start_concurrency_idle": int(
                env.get("CONDUCTOR_START_CONCURRENCY_IDLE", cls.start_concurrency_idle)
            ),
            "max_start_backlog": int(env.get("CONDUCTOR_MAX_START_BACKLOG", cls.max_start_backlog)),
            "start_wait_target_ms": int(
                env.get("CONDUCTOR_START_WAIT_TARGET_MS", cls.start_wait_target_ms)
            ),
            "group_commit_max": int(env.get("CONDUCTOR_GROUP_COMMIT_MAX", cls.group_commit_max)),
            "insecure_no_auth": _flag(env.get("CONDUCTOR_INSECURE_NO_AUTH")),
            "tls_cert": _path(env.get("CONDUCTOR_TLS_CERT")),
            "tls_key": _path(env.get("CONDUCTOR_TLS_KEY")),
            "auth_token_ttl_s": float(
                env.get("CONDUCTOR_AUTH_TOKEN_TTL_SECONDS", cls.auth_token_ttl_s)
            ),
            "ui_session_ttl_s": float(
                env.get("CONDUCTOR_UI_SESSION_TTL_SECONDS", cls.ui_session_ttl_s)
            ),
            "allowed_origins": _list(env.get("CONDUCTOR_ALLOWED_ORIGINS")) or (),
            "access_log": _flag(env.get("CONDUCTOR_ACCESS_LOG")),
            "retention_days": float(env["CONDUCTOR_RETENTION_DAYS"])
            if env.get("CONDUCTOR_RETENTION_DAYS")
            else None,
            "retention_archive": _flag(env.get("CONDUCTOR_RETENTION_ARCHIVE")),
            "retention_batch": int(env.get("CONDUCTOR_RETENTION_BATCH", cls.retention_batch)),
            "system_task_lane_size": int(
                env.get("CONDUCTOR_SYSTEM_TASK_LANE_SIZE", cls.system_task_lane_size)
            ),
            "http_allow": _list(env.get("CONDUCTOR_HTTP_ALLOW")) or (),
            # Blank counts as unset: an empty variable from a template must not drop the
            # defaults that keep cloud metadata out of reach.
            "http_deny": _list(env.get("CONDUCTOR_HTTP_DENY")),
            "http_max_response_bytes": int(
                env.get("CONDUCTOR_HTTP_MAX_RESPONSE_BYTES", cls.http_max_response_bytes)
            ),
            "max_workflow_input_bytes": int(
                env.get("CONDUCTOR_MAX_WORKFLOW_INPUT_BYTES", cls.max_workflow_input_bytes)
            ),
            "max_task_output_bytes": int(
                env.get("CONDUCTOR_MAX_TASK_OUTPUT_BYTES", cls.max_task_output_bytes)
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("data_dir", "tls_cert", "tls_key"):
            if isinstance(values[name], str):
                values[name] = Path(str(values[name]))
        return cls(**values)  # type: ignore[arg-type]


class SettingsError(StartupRefused, ValueError):
    """A setting the server cannot start with; the message names the setting and the value."""


def _list(value: str | None) -> tuple[str, ...] | None:
    """A comma-separated list; None when unset or blank."""
    items = tuple(item.strip() for item in (value or "").split(",") if item.strip())
    return items or None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
