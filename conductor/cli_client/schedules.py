"""`conductor schedule list|pause|resume`."""

from __future__ import annotations

import argparse
import urllib.parse
from typing import Any

from conductor.cli_client.api import Api
from conductor.cli_client.options import COMMON
from conductor.cli_client.output import millis, print_json, print_table


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("schedule", help="list, pause and resume workflow schedules")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", parents=[COMMON], help="every schedule")
    actions.add_parser(
        "pause", parents=[COMMON], help="stop a schedule from starting workflows"
    ).add_argument("name")
    actions.add_parser(
        "resume", parents=[COMMON], help="let a paused schedule start workflows again"
    ).add_argument("name")


def run(api: Api, args: argparse.Namespace) -> None:
    if args.action == "list":
        schedules = api.get("/scheduler/schedules")
        if args.json:
            print_json(schedules)
            return
        print_table(
            schedules,
            [
                ("NAME", lambda s: s.get("name")),
                ("CRON", lambda s: s.get("cronExpression")),
                ("ZONE", lambda s: s.get("zoneId") or "UTC"),
                ("WORKFLOW", lambda s: (s.get("startWorkflowRequest") or {}).get("name")),
                ("PAUSED", lambda s: "yes" if s.get("paused") else "no"),
                ("NEXT RUN (UTC)", lambda s: millis(s.get("nextRunTime"))),
            ],
        )
        return
    name = urllib.parse.quote(args.name, safe="")
    api.put(f"/scheduler/schedules/{name}/{args.action}")
    if args.json:
        print_json({"name": args.name, "action": args.action})
    else:
        print(f"schedule {args.name} {args.action}d")
