"""The decider's own CPU cost, with no database and no network: `decide()` for two small runs.

    python -m bench.decider                      # microseconds per run (best of 7 repeats)
    python -m bench.decider --count 500          # just run 500 of each, for a counter:
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python -m bench.decider --count 500 --workload wait

`wait`: start a workflow of one WAIT and fire its timer (the bulk timer path). `steps`: start a
workflow of three SIMPLE tasks and report each result (the worker path). Time on a shared
machine moves by tens of percent from run to run; an instruction count (callgrind, or `perf stat
-e instructions`) does not, so compare two commits by the difference between `--count N` and
`--count 0` of each.
"""

from __future__ import annotations

import argparse
import itertools
import timeit
from collections.abc import Callable

from conductor.engine.decider import decide
from conductor.engine.decision import DecideContext, TimerKind
from conductor.engine.definitions import populate_task_definitions
from conductor.engine.inputs import StartWorkflow, TaskResultReceived, TimerFired
from conductor.engine.model import JSON, TaskStatus, WorkflowState, WorkflowStatus

WAIT = {
    "name": "w",
    "taskReferenceName": "w",
    "type": "WAIT",
    "inputParameters": {"duration": "5s"},
}
STEPS = [{"name": f"s{i}", "taskReferenceName": f"s{i}", "type": "SIMPLE"} for i in range(3)]


def _definition(tasks: list[JSON]) -> JSON:
    return populate_task_definitions({"name": "wf", "version": 1, "tasks": tasks}, {})


def _context(now: int) -> DecideContext:
    ids = itertools.count()
    return DecideContext(now=now, new_id=lambda: f"t{next(ids)}")


def wait_run(definition: JSON) -> None:
    state = WorkflowState("wf-1", definition, WorkflowStatus.RUNNING, 0)
    decide(state, StartWorkflow(), _context(0))
    decide(state, TimerFired(TimerKind.WAIT, state.tasks[0].task_id), _context(6000))


def steps_run(definition: JSON) -> None:
    state = WorkflowState("wf-1", definition, WorkflowStatus.RUNNING, 0)
    decide(state, StartWorkflow(), _context(0))
    for step in range(3):
        task = state.tasks[-1]
        task.status = TaskStatus.IN_PROGRESS  # what a worker's claim does
        result = TaskResultReceived(task.task_id, TaskStatus.COMPLETED, output={"x": step})
        decide(state, result, _context(10 + step))


WORKLOADS: dict[str, tuple[Callable[[JSON], None], JSON]] = {
    "wait": (wait_run, _definition([WAIT])),
    "steps": (steps_run, _definition(STEPS)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), action="append")
    parser.add_argument("--count", type=int, help="run this many and print nothing (for counters)")
    args = parser.parse_args()
    for name in args.workload or sorted(WORKLOADS):
        run, definition = WORKLOADS[name]
        run(definition)  # warm the caches (task settings, compiled paths) outside any count
        if args.count is not None:
            for _ in range(args.count):
                run(definition)
            continue
        timer = timeit.Timer(lambda run=run, definition=definition: run(definition))
        best = min(timer.repeat(number=2000, repeat=7)) / 2000
        print(f"{name}: {best * 1e6:.1f} µs per run")


if __name__ == "__main__":
    main()
