"""Options every client command takes, after its other arguments."""

from __future__ import annotations

import argparse

COMMON = argparse.ArgumentParser(add_help=False)
COMMON.add_argument(
    "--server",
    help="the server's API address (CONDUCTOR_SERVER_URL, default http://localhost:8080/api);"
    " CONDUCTOR_AUTH_KEY and CONDUCTOR_AUTH_SECRET sign in when it needs an API key",
)
COMMON.add_argument("--json", action="store_true", help="print the answer as JSON")
