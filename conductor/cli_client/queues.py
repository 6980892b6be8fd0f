"""`conductor queue list`: each task queue's waiting and in-progress tasks."""

from __future__ import annotations

import argparse
from typing import Any

from conductor.cli_client.api import Api
from conductor.cli_client.options import COMMON
from conductor.cli_client.output import print_json, print_table


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("queue", help="look at task queues")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "list", parents=[COMMON], help="every queue with its waiting and in-progress tasks"
    )


def run(api: Api, args: argparse.Namespace) -> None:
    verbose = api.get("/tasks/queue/all/verbose")
    rows = [
        {
            "queue": queue,
            "waiting": sum(shard.get("size", 0) for shard in shards.values()),
            "inProgress": sum(shard.get("uacked", 0) for shard in shards.values()),
        }
        for queue, shards in sorted(verbose.items())
    ]
    if args.json:
        print_json(rows)
        return
    print_table(
        rows,
        [
            ("QUEUE", lambda r: r["queue"]),
            ("WAITING", lambda r: r["waiting"]),
            ("IN PROGRESS", lambda r: r["inProgress"]),
        ],
    )
