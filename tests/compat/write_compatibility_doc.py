"""Write docs/compatibility.md from the SDKs' client classes, our route table and OSS's routes.

    PYTHONPATH=. .venv/bin/python -m tests.compat.write_compatibility_doc

Needs the JavaScript SDK installed (tests/e2e/js: ``npm ci``). The route test checks that the
committed document equals what this writes.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from importlib.metadata import version
from pathlib import Path

from conductor.app import create_app
from conductor.config import Settings
from tests.compat import routes
from tests.compat.sdk_endpoints import (
    JS_PACKAGE,
    ROOT,
    Endpoint,
    javascript_endpoints,
    python_endpoints,
)

DOC = ROOT / "docs" / "compatibility.md"
KINDS = ("supported", "different", "not served", "Orkes-only")


def _js_version() -> str:
    import json

    return str(json.loads((JS_PACKAGE / "package.json").read_text())["version"])


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


async def render() -> str:
    app = create_app(Settings())
    oss = routes.oss_routes()
    oss_controllers = {routes.route(r["method"], r["path"]): r["controller"] for r in oss["routes"]}
    sdks = [
        (f"Python SDK (`conductor-python` {version('conductor-python')})", python_endpoints()),
        (
            f"JavaScript SDK (`@io-orkes/conductor-javascript` {_js_version()})",
            javascript_endpoints(),
        ),
    ]
    statuses: dict[Endpoint, routes.Status] = {}
    for _, endpoints in sdks:
        for e in endpoints:
            statuses[e] = await routes.status_of(e, app, oss_controllers)

    out: list[str] = []
    w = out.append
    w("# Compatibility with the Conductor SDKs and Conductor OSS")
    w("")
    w("Every method of the official SDKs' HTTP client classes, with the request it sends and what")
    w("this server does with it, and every route the Conductor OSS server serves that is not")
    w("served here, with the reason. Written by `tests/compat/write_compatibility_doc.py` from")
    w("the installed SDKs, our route table and `tests/compat/conductor_oss_routes.json` (Conductor")
    w(f"OSS `{oss['version']}`, commit `{oss['commit'][:12]}`);")
    w("`tests/integration/test_oss_routes.py` fails when a route Conductor OSS serves is missing")
    w("here without a reason below, or when this document is out of date.")
    w("")
    w("Statuses:")
    w("")
    w("- **supported**: the route is served here, with Conductor's request and response shapes;")
    w("  every difference found is listed as *different* instead.")
    w("- **different**: answered, but not as Conductor OSS does; the note says how.")
    w("- **not served**: Conductor OSS serves it, this server does not; the note says why.")
    w("  Answered with a JSON 404 in Conductor's error shape.")
    w("- **Orkes-only**: an Orkes Conductor (commercial) endpoint that Conductor OSS does not")
    w("  serve either. Answered with a JSON 404 in Conductor's error shape")
    w('  (`{"status": 404, "message": "No resource found for /api/...", "instance": ...,')
    w('  "retryable": false}`), or a JSON 405 where the path is served for other methods.')
    w("")
    w("## Summary")
    w("")
    w("| SDK | methods | " + " | ".join(KINDS) + " |")
    w("|---|---:|" + "---:|" * len(KINDS))
    for title, endpoints in sdks:
        counts = Counter(statuses[e].kind for e in endpoints)
        w(f"| {title} | {len(endpoints)} | " + " | ".join(str(counts[k]) for k in KINDS) + " |")
    w("")

    w("## Conductor OSS routes not served here")
    w("")
    w("Every other route of Conductor OSS's REST controllers (`rest/` and the scheduler module) is")
    w("served. Controllers not served at all:")
    w("")
    controllers: dict[str, list[str]] = defaultdict(list)
    for r in oss["routes"]:
        if r["controller"] in routes.NOT_SERVED_CONTROLLERS:
            controllers[r["controller"]].append(r["method"])
    for name, reason in routes.NOT_SERVED_CONTROLLERS.items():
        count = len(controllers[name])
        w(f"- `{name}` ({count} route{'s' if count > 1 else ''}): {reason}.")
    w("")
    w("Single routes:")
    w("")
    w("| method | path | why |")
    w("|---|---|---|")
    listed: set[routes.Route] = set()
    for r in oss["routes"]:
        key = routes.route(r["method"], r["path"])
        reason = routes.NOT_SERVED.get(key) or routes.NOT_YET.get(key)
        if reason and key not in listed:
            listed.add(key)
            w(f"| {r['method']} | `{r['path']}` | {_cell(reason)} |")
    w("")
    w("Routes served here that Conductor OSS does not serve: `POST /api/tasks/{taskId}/ack`")
    w("(older SDKs' acknowledgement), `GET|PUT /api/scheduler/schedules/{name}/pause|resume`")
    w("answer both verbs (Conductor OSS maps PUT; the SDKs' Orkes dialect sends GET), and this")
    w("server's own `/api/token`, `/api/admin/keys` and `/api/admin/audit` (docs/security.md).")
    w("")

    for title, endpoints in sdks:
        w(f"## {title}")
        w("")
        by_client: dict[str, list[Endpoint]] = defaultdict(list)
        for e in endpoints:
            by_client[e.client].append(e)
        for client in sorted(by_client):
            listed = by_client[client]
            counts = Counter(statuses[e].kind for e in listed)
            summary = ", ".join(f"{counts[k]} {k}" for k in KINDS if counts[k])
            w(f"### {client}")
            w("")
            w(f"{summary}.")
            w("")
            w("| method | HTTP | path | status |")
            w("|---|---|---|---|")
            for e in sorted(listed, key=lambda e: e.name):
                s = statuses[e]
                note = f": {s.note}" if s.note else ""
                w(f"| `{e.name}` | {e.method} | `{e.path}` | {s.kind}{_cell(note)} |")
            w("")
    return "\n".join(out).rstrip() + "\n"


def main() -> None:
    DOC.write_text(asyncio.run(render()))
    print(f"wrote {Path(DOC).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
