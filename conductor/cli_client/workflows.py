"""`conductor workflow list|show|start|terminate|retry|restart|pause|resume`."""

from __future__ import annotations

import argparse
import json
import urllib.parse
from pathlib import Path
from typing import Any

from conductor.cli_client.api import Api, CommandFailed
from conductor.cli_client.options import COMMON
from conductor.cli_client.output import Column, millis, print_json, print_table

RUN_COLUMNS: list[Column] = [
    ("WORKFLOW ID", lambda r: r.get("workflowId")),
    ("TYPE", lambda r: r.get("workflowType")),
    ("VERSION", lambda r: r.get("version")),
    ("STATUS", lambda r: r.get("status")),
    ("STARTED (UTC)", lambda r: millis(r.get("startTime"))),
    ("ENDED (UTC)", lambda r: millis(r.get("endTime"))),
]
TASK_COLUMNS: list[Column] = [
    ("REFERENCE", lambda t: t.get("referenceTaskName")),
    ("TYPE", lambda t: t.get("taskType")),
    ("STATUS", lambda t: t.get("status")),
    ("RETRY", lambda t: t.get("retryCount")),
    ("STARTED (UTC)", lambda t: millis(t.get("startTime"))),
    ("REASON", lambda t: t.get("reasonForIncompletion")),
]


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("workflow", help="list, inspect, start and operate workflows")
    actions = parser.add_subparsers(dest="action", required=True)

    listing = actions.add_parser("list", parents=[COMMON], help="the newest workflows (search)")
    listing.add_argument("--name", help="only this workflow type")
    listing.add_argument("--status", help="only this status, e.g. RUNNING or FAILED")
    listing.add_argument(
        "--query", help="Conductor's search query, e.g. 'startTime > 1700000000000'"
    )
    listing.add_argument("--limit", type=int, default=20, help="how many (default 20)")

    show = actions.add_parser("show", parents=[COMMON], help="one workflow with its tasks")
    show.add_argument("workflow_id")

    start = actions.add_parser("start", parents=[COMMON], help="start a workflow; prints its id")
    start.add_argument("name")
    start.add_argument("--version", type=int, help="definition version (default: latest)")
    start.add_argument("--input", help="input as JSON, or @FILE to read it from a file")
    start.add_argument("--correlation-id")

    terminate = actions.add_parser(
        "terminate", parents=[COMMON], help="terminate a running workflow"
    )
    terminate.add_argument("workflow_id")
    terminate.add_argument("--reason", help="recorded as the workflow's reason")

    restart = actions.add_parser(
        "restart", parents=[COMMON], help="run a finished workflow again from the start"
    )
    restart.add_argument("workflow_id")
    restart.add_argument(
        "--use-latest-definition", action="store_true", help="with the latest definition"
    )

    for name, text in (
        ("retry", "retry a failed workflow from its failed task"),
        ("pause", "pause a running workflow"),
        ("resume", "resume a paused workflow"),
    ):
        actions.add_parser(name, parents=[COMMON], help=text).add_argument("workflow_id")


def run(api: Api, args: argparse.Namespace) -> None:
    action = args.action
    if action == "list":
        _list(api, args)
    elif action == "show":
        _show(api, args)
    elif action == "start":
        _start(api, args)
    else:
        _operate(api, args)


def _list(api: Api, args: argparse.Namespace) -> None:
    clauses = []
    if args.name:
        clauses.append(f"workflowType IN ({args.name})")
    if args.status:
        clauses.append(f"status IN ({args.status.upper()})")
    if args.query:
        clauses.append(args.query)
    found = api.get(
        "/workflow/search",
        query=" AND ".join(clauses) or None,
        size=args.limit,
        sort="startTime:DESC",
    )
    if args.json:
        print_json(found)
        return
    print_table(found.get("results") or [], RUN_COLUMNS)
    total, shown = found.get("totalHits", 0), len(found.get("results") or [])
    if total > shown:
        print(f"{shown} of {total}; --limit shows more")


def _show(api: Api, args: argparse.Namespace) -> None:
    run = api.get(f"/workflow/{_segment(args.workflow_id)}", includeTasks=True)
    if args.json:
        print_json(run)
        return
    print(f"{run['workflowId']}  {run.get('workflowName')} v{run.get('workflowVersion')}")
    print(f"status:  {run.get('status')}")
    print(f"started: {millis(run.get('startTime'))}   ended: {millis(run.get('endTime'))}")
    if run.get("reasonForIncompletion"):
        print(f"reason:  {run['reasonForIncompletion']}")
    if run.get("correlationId"):
        print(f"correlation id: {run['correlationId']}")
    print()
    print_table(run.get("tasks") or [], TASK_COLUMNS)


def _start(api: Api, args: argparse.Namespace) -> None:
    workflow_input = _json_argument(args.input) if args.input else {}
    if not isinstance(workflow_input, dict):
        raise CommandFailed("--input must be a JSON object")
    workflow_id = api.post(
        f"/workflow/{_segment(args.name)}",
        workflow_input,
        version=args.version,
        correlationId=args.correlation_id,
    )
    if args.json:
        print_json({"workflowId": workflow_id})
    else:
        print(workflow_id)


def _operate(api: Api, args: argparse.Namespace) -> None:
    one = f"/workflow/{_segment(args.workflow_id)}"
    action = args.action
    if action == "terminate":
        api.delete(one, reason=args.reason)
    elif action == "retry":
        api.post(f"{one}/retry")
    elif action == "restart":
        api.post(f"{one}/restart", useLatestDefinitions=args.use_latest_definition)
    elif action == "pause":
        api.put(f"{one}/pause")
    elif action == "resume":
        api.put(f"{one}/resume")
    done = {"terminate": "terminated", "retry": "retried", "restart": "restarted"}
    word = done.get(action, f"{action}d")
    if args.json:
        print_json({"workflowId": args.workflow_id, "action": action})
    else:
        print(f"{args.workflow_id} {word}")


def _json_argument(text: str) -> Any:
    source = "--input"
    if text.startswith("@"):
        source = text[1:]
        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise CommandFailed(f"cannot read {source}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CommandFailed(f"{source} is not JSON: {exc}") from None


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")
