"""The UI in a real browser on a large store: /executions over a million runs, and one run of
1,000 tasks with its live updates.

    python -m bench.ui_pages [--executions 1000000] [--iterations 200] [--repeat 9]
                             [--database-url URL]

One run, one fresh database (``bench_<random>``, dropped at the end), one server process, and
Debian's Chromium driven by Playwright (``CONDUCTOR_TEST_CHROMIUM`` or ``chromium`` on PATH):

1. ``--executions`` runs are generated inside PostgreSQL (conductor/store/generated.py, batches
   of 100,000), all started within the executions page's default window (the last 72 hours),
   which is the page's worst case; then the table is vacuumed and analysed.
2. Raw limit: Chromium opening a static file of the server (/ui/static/app.css), navigation
   start to load event. Every page figure is also given as a ratio to its median.
3. /executions (the first page, newest first): ``--repeat`` navigations after one warm-up,
   navigation start to load event (the results table is then in the page), median and max;
   and the same page fetched without a browser (server time).
4. One run of a DO_WHILE of ``--iterations`` iterations of 5 SIMPLE tasks, worked through the
   REST API by a worker loop in this process. While it runs, its page is open in Chromium on
   the diagram, the tasks and the JSON tab; every answer of the page's live polling
   (/execution/{id}/changes every 2 s) is recorded: status, bytes, task rows it carries. Once it
   has finished, /execution/{id} is timed like /executions (diagram and tasks tab).

Markdown on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import shutil
import statistics
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, Page, Response, async_playwright

from bench.machine import Machine
from bench.report import command_line
from bench.scaffold import bench_database, parser, run_in_scratch, running_server
from conductor.store.generated import generate_executions, settle
from conductor.store.pool import create_pool

log = logging.getLogger("bench")

BATCH = 100_000
WINDOW_MS = 72 * 3600 * 1000  # the executions page's default window
TASKS_PER_ITERATION = 5
STEP_TYPE = "ui_step"
PAUSE_S = 5.0
LIVE_TABS = ("diagram", "tasks", "json")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

LISTED = {
    "name": "orders",
    "version": 1,
    "tasks": [{"name": STEP_TYPE, "taskReferenceName": "charge", "type": "SIMPLE"}],
}


def looped(iterations: int) -> dict[str, Any]:
    steps = [
        {"name": STEP_TYPE, "taskReferenceName": f"step{i}", "type": "SIMPLE"}
        for i in range(1, TASKS_PER_ITERATION + 1)
    ]
    return {
        "name": "long_loop",
        "version": 1,
        "tasks": [
            {
                "name": "loop",
                "taskReferenceName": "loop",
                "type": "DO_WHILE",
                "loopCondition": f"$.loop['iteration'] < {iterations}",
                "loopOver": steps,
            }
        ],
    }


@dataclass
class Timings:
    """Navigation start to load event of each timed visit, in ms."""

    load_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.load_ms)

    @property
    def worst(self) -> float:
        return max(self.load_ms)


async def load_time(page: Page, url: str, ready: str) -> float:
    """Open `url`; once `ready` (a selector) is in the page, navigation start to load event."""
    response = await page.goto(url, wait_until="load")
    assert response is not None, url
    assert response.ok, f"{url}: {response.status}"
    await page.wait_for_selector(ready, state="attached")
    return float(
        await page.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0];"
            " return n.loadEventEnd - n.startTime; }"
        )
    )


async def timed(page: Page, url: str, ready: str, repeat: int) -> Timings:
    await load_time(page, url, ready)  # warm-up: static files cached, statements prepared
    timings = Timings()
    for _ in range(repeat):
        timings.load_ms.append(await load_time(page, url, ready))
    return timings


async def server_ms(session: aiohttp.ClientSession, url: str, repeat: int) -> float:
    """Median time to fetch a page's HTML without a browser."""
    spent = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        async with session.get(url) as resp:
            await resp.read()
            assert resp.status == 200, url
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent[1:])


async def populate(dsn: str, n: int) -> float:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            started = time.perf_counter()
            now = int(time.time() * 1000)
            step = max(1, (WINDOW_MS - 60_000) // max(n, 1))
            for first in range(1, n + 1, BATCH):
                last = min(first + BATCH - 1, n)
                await generate_executions(conn, LISTED, first, last, now, step)
                log.info("generated %d / %d", last, n)
            await settle(conn)
            return time.perf_counter() - started
    finally:
        await pool.close()


async def register(session: aiohttp.ClientSession, api: str, iterations: int) -> None:
    async with session.post(
        f"{api}/metadata/taskdefs",
        json=[{"name": STEP_TYPE, "retryCount": 0, "responseTimeoutSeconds": 600}],
    ) as resp:
        assert resp.status == 200, await resp.text()
    for definition in (LISTED, looped(iterations)):
        async with session.post(f"{api}/metadata/workflow?overwrite=true", json=definition) as resp:
            assert resp.status == 200, await resp.text()


@dataclass
class Progress:
    """The worker's count, a signal when it passes `watch_at`, and where it rests once."""

    watch_at: int
    pause_at: int
    done: int = 0
    watching: asyncio.Event = field(default_factory=asyncio.Event)


async def work(session: aiohttp.ClientSession, api: str, progress: Progress) -> None:
    """Poll and complete the loop's tasks one at a time until none comes for 5 s; rest once,
    at `pause_at` tasks, so that the open pages see a run that does not change."""
    poll = f"{api}/tasks/poll/batch/{STEP_TYPE}?count=1&timeout=5000&workerid=bench"
    while True:
        if progress.done == progress.pause_at:
            await asyncio.sleep(PAUSE_S)
        if progress.done >= progress.watch_at:
            progress.watching.set()
        async with session.get(poll) as resp:
            found = await resp.json()
        if not found:
            progress.watching.set()
            return
        [task] = found
        result = {
            "workflowInstanceId": task["workflowInstanceId"],
            "taskId": task["taskId"],
            "status": "COMPLETED",
            "outputData": {"n": progress.done},
        }
        async with session.post(f"{api}/tasks", json=result) as resp:
            assert resp.status == 200, await resp.text()
        progress.done += 1


@dataclass
class LiveAnswer:
    tab: str
    status: int
    size: int
    task_rows: int
    diagram_nodes: int


async def watch_live(page: Page, tab: str, answers: list[LiveAnswer]) -> None:
    async def record(response: Response) -> None:
        if "/changes" not in response.url:
            return
        body = b"" if response.status == 204 else await response.body()
        text = body.decode(errors="replace")
        answers.append(
            LiveAnswer(
                tab,
                response.status,
                len(body),
                len(re.findall(r"<tr(?:\s|>)", text)) - text.count("<thead"),
                text.count("data-ref="),
            )
        )

    page.on("response", record)


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    executable = os.environ.get("CONDUCTOR_TEST_CHROMIUM") or shutil.which("chromium")
    if executable is None:
        raise SystemExit("chromium is needed (apt-get install chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Result:
    executions: int
    generate_s: float
    static: Timings
    listing: Timings
    listing_server_ms: float
    total_shown: str
    tasks: int
    loop_s: float
    execution: Timings
    execution_tasks_tab: Timings
    execution_server_ms: float
    live: list[LiveAnswer]


async def benchmark(args: argparse.Namespace, work_dir: Path) -> str:
    async with (
        bench_database(args.database_url, work_dir) as (dsn, machine),
        running_server(dsn, work_dir / "server.log") as server,
        aiohttp.ClientSession() as session,
        chromium() as browser,
    ):
        api = server.api
        await register(session, api, args.iterations)
        log.info("generating %d executions", args.executions)
        generate_s = await populate(dsn, args.executions)
        page = await (await browser.new_context()).new_page()
        page.set_default_timeout(60_000)

        static = await timed(page, f"{server.url}/ui/static/app.css", "body", args.repeat)
        log.info("static file: median %.1f ms", static.median)
        listing = await timed(page, f"{server.url}/executions", "table.results", args.repeat)
        total_shown = await page.locator("p.count").inner_text()
        listing_server = await server_ms(session, f"{server.url}/executions", args.repeat)
        log.info("/executions: median %.1f ms, max %.1f ms", listing.median, listing.worst)

        async with session.post(f"{api}/workflow/long_loop", json={}) as resp:
            workflow_id = await resp.text()
        expected = args.iterations * TASKS_PER_ITERATION
        progress = Progress(watch_at=expected // 3, pause_at=expected // 2)
        worker = asyncio.create_task(work(session, api, progress))
        loop_started = time.perf_counter()
        live: list[LiveAnswer] = []
        watchers = []
        await progress.watching.wait()
        for tab in LIVE_TABS:
            watcher = await (await browser.new_context()).new_page()
            await watch_live(watcher, tab, live)
            await watcher.goto(f"{server.url}/execution/{workflow_id}?tab={tab}")
            watchers.append(watcher)
        await worker
        loop_s = time.perf_counter() - loop_started - PAUSE_S
        await asyncio.sleep(2.5)  # one more poll each: the finished run's answer
        for watcher in watchers:
            await watcher.context.close()
        log.info("loop of %d tasks done in %.1f s", progress.done, loop_s)

        url = f"{server.url}/execution/{workflow_id}"
        execution = await timed(page, url, "section.diagram svg", args.repeat)
        tasks_tab = await timed(page, f"{url}?tab=tasks", "table.tasks", args.repeat)
        execution_server = await server_ms(session, f"{url}?tab=tasks", args.repeat)
        log.info("/execution: median %.1f ms", execution.median)
        result = Result(
            args.executions,
            generate_s,
            static,
            listing,
            listing_server,
            total_shown.strip(),
            progress.done,
            loop_s,
            execution,
            tasks_tab,
            execution_server,
            live,
        )
    return markdown(machine, result)


def markdown(machine: Machine, r: Result) -> str:
    base = r.static.median

    def row(label: str, t: Timings, target: str) -> str:
        return f"| {label} | {t.median:.0f} | {t.worst:.0f} | {t.median / base:.1f} | {target} |"

    lines = [
        f"Command: `{command_line('bench.ui_pages')}`",
        "",
        f"Machine: {machine.summary()} ({machine.postgres_kind})",
        "",
        f"{r.executions:,} executions generated and vacuumed in {r.generate_s:.1f} s, all in "
        f'the page\'s default 72-hour window; the page says: "{r.total_shown}". '
        f"Loop run: {r.tasks:,} tasks worked through the REST API in {r.loop_s:.1f} s.",
        "",
        f"Chromium, navigation start to load event, {len(r.static.load_ms)} visits after one "
        "warm-up; ratio = median ÷ median of the static file in the same run.",
        "",
        "| page | median ms | max ms | ÷ static file | target |",
        "|---|---|---|---|---|",
        row("/ui/static/app.css (raw limit)", r.static, ""),
        row(f"/executions over {r.executions:,} runs", r.listing, "< 1,000 ms"),
        row(f"/execution/{{id}} ({r.tasks:,} tasks), diagram", r.execution, "< 2,000 ms"),
        row(f"/execution/{{id}} ({r.tasks:,} tasks), tasks tab", r.execution_tasks_tab, ""),
        "",
        f"Server alone (HTML fetched without a browser, median): /executions "
        f"{r.listing_server_ms:.0f} ms, /execution/{{id}}?tab=tasks "
        f"{r.execution_server_ms:.0f} ms.",
        "",
        "Live polling while the loop ran (/execution/{id}/changes, every 2 s):",
        "",
        "| tab | answers | 204 (no change) | 200 | bytes of a 200: median / max "
        "| task rows in a 200: max | diagram nodes in a 200: max |",
        "|---|---|---|---|---|---|---|",
    ]
    for tab in LIVE_TABS:
        answers = [a for a in r.live if a.tab == tab]
        full = [a for a in answers if a.status == 200]
        sizes = [a.size for a in full] or [0]
        lines.append(
            f"| {tab} | {len(answers)} | {len(answers) - len(full)} | {len(full)} "
            f"| {statistics.median(sizes):,.0f} / {max(sizes):,} "
            f"| {max((a.task_rows for a in full), default=0)} "
            f"| {max((a.diagram_nodes for a in full), default=0)} |"
        )
    lines += [
        "",
        f"The worker rests {PAUSE_S:.0f} s half-way, so that the pages see an unchanged run "
        "(204, empty body); the loop time excludes the rest.",
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = parser(__doc__, verbose=True)
    p.add_argument("--executions", type=int, default=1_000_000, help="stored runs")
    p.add_argument("--iterations", type=int, default=200, help="DO_WHILE iterations (x 5)")
    p.add_argument("--repeat", type=int, default=9, help="timed visits per page")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(run_in_scratch(lambda work_dir: benchmark(args, work_dir), args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
