"""The client commands' parsers, and running one: each talks to the server through Api."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from conductor.cli_client import definitions, queues, schedules, workflows
from conductor.cli_client.api import Api, CommandFailed

GROUPS = {
    "workflow": workflows,
    "def": definitions,
    "queue": queues,
    "schedule": schedules,
}


def add_parsers(commands: Any) -> None:
    for module in GROUPS.values():
        module.add_parser(commands)


def run(args: argparse.Namespace) -> int:
    api = Api.from_env(args.server)
    try:
        GROUPS[args.command].run(api, args)
    except CommandFailed as exc:
        print(f"conductor {args.command} {args.action}: {exc}", file=sys.stderr)
        return 1
    return 0
