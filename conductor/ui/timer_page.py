"""/timers: the durable timers due soon (WAIT tasks by default, or every kind), soonest first,
and how many are due later: within a day, within 30 days, after that ("how many customers wait
for a year"). Read-only; each timer links to its execution."""

from __future__ import annotations

from aiohttp import web

from conductor.api.keys import CLOCK, POOL
from conductor.store import pending_timers
from conductor.ui.frame import page, reading_page

HOUR_MS = 3600_000
DAY_MS = 24 * HOUR_MS
WINDOWS = {"1h": HOUR_MS, "6h": 6 * HOUR_MS, "24h": DAY_MS}
DEFAULT_WINDOW = "1h"
KINDS = ("WAIT", "all")
LIMIT = 200


@reading_page
async def timers(request: web.Request) -> web.StreamResponse:
    window = request.query.get("within", DEFAULT_WINDOW)
    window = window if window in WINDOWS else DEFAULT_WINDOW
    kind = request.query.get("kind", "WAIT")
    kind = kind if kind in KINDS else "WAIT"
    now = request.app[CLOCK].now_ms()
    bounds = (now + HOUR_MS, now + DAY_MS, now + 30 * DAY_MS)
    async with request.app[POOL].acquire() as conn:
        due = await pending_timers.due_by(conn, now + WINDOWS[window], LIMIT, kind == "WAIT")
        wait_counts = await pending_timers.counts(conn, bounds, wait_only=True)
        all_counts = await pending_timers.counts(conn, bounds, wait_only=False)
    return page(
        request,
        "timers.html",
        due=due,
        now=now,
        window=window,
        windows=list(WINDOWS),
        kind=kind,
        kinds=KINDS,
        limit=LIMIT,
        buckets=[("WAIT tasks", wait_counts), ("All timers", all_counts)],
    )
