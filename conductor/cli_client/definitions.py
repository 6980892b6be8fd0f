"""`conductor def register FILE...` and `conductor def export`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from conductor.cli_client.api import Api, CommandFailed
from conductor.cli_client.options import COMMON
from conductor.cli_client.output import print_json


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("def", help="register and export workflow and task definitions")
    actions = parser.add_subparsers(dest="action", required=True)
    register = actions.add_parser(
        "register",
        parents=[COMMON],
        help="create or update the definitions in JSON files: a workflow definition, a task"
        " definition, a list of either, or what `def export` writes",
    )
    register.add_argument("files", nargs="+", type=Path)
    export = actions.add_parser(
        "export", parents=[COMMON], help="every workflow and task definition, as JSON"
    )
    export.add_argument("--output", "-o", type=Path, help="write to this file (default: stdout)")


def run(api: Api, args: argparse.Namespace) -> None:
    if args.action == "export":
        _export(api, args)
    else:
        _register(api, args)


def _register(api: Api, args: argparse.Namespace) -> None:
    workflow_defs: list[dict[str, Any]] = []
    task_defs: list[dict[str, Any]] = []
    for path in args.files:
        found_workflows, found_tasks = _definitions_in(path)
        workflow_defs += found_workflows
        task_defs += found_tasks
    # Task definitions first: a workflow definition may name them.
    if task_defs:
        api.post("/metadata/taskdefs", task_defs)
    if workflow_defs:
        api.put("/metadata/workflow", workflow_defs)
    if args.json:
        print_json(
            {
                "workflowDefs": [[d.get("name"), d.get("version")] for d in workflow_defs],
                "taskDefs": [d.get("name") for d in task_defs],
            }
        )
        return
    for definition in task_defs:
        print(f"task definition {definition.get('name')} registered")
    for definition in workflow_defs:
        version = definition.get("version", 1)
        print(f"workflow definition {definition.get('name')} v{version} registered")


def _definitions_in(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    try:
        content = json.loads(path.read_text())
    except OSError as exc:
        raise CommandFailed(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise CommandFailed(f"{path} is not JSON: {exc}") from None
    if isinstance(content, dict) and ("workflowDefs" in content or "taskDefs" in content):
        items = [*(content.get("workflowDefs") or []), *(content.get("taskDefs") or [])]
    elif isinstance(content, list):
        items = content
    else:
        items = [content]
    workflows: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict) or not item.get("name"):
            raise CommandFailed(f"{path}: every definition must be an object with a name")
        (workflows if "tasks" in item else tasks).append(item)
    return workflows, tasks


def _export(api: Api, args: argparse.Namespace) -> None:
    exported = {
        "workflowDefs": api.get("/metadata/workflow"),
        "taskDefs": api.get("/metadata/taskdefs"),
    }
    if args.output is None:
        print_json(exported)
        return
    args.output.write_text(json.dumps(exported, indent=2, sort_keys=True) + "\n")
    workflows, tasks = len(exported["workflowDefs"]), len(exported["taskDefs"])
    print(f"{workflows} workflow and {tasks} task definitions written to {args.output}")
