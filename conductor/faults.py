"""Fault points for the chaos suite (tests/chaos): the server SIGKILLs itself at a named point.

`CONDUCTOR_FAULT_POINTS="claim.before_response=25"` kills the process the 25th time a poll's
claim has committed and its answer is about to be written. Several points may be listed,
comma-separated; the first to reach its count kills. Unset (always, outside the chaos tests),
`reached()` is one truth test of an empty dict.

The points are where a crash loses the most if the design is wrong:
- `claim.before_response`: tasks claimed and committed, the worker never told;
- `transition.before_commit`: a transition decided and written, not committed;
- `transition.after_commit`: committed, before anyone is answered or woken.

Before dying it writes one line to stderr, so a test can tell that the fault fired (a fault
that never fires proves nothing).
"""

from __future__ import annotations

import os
import signal

ENV = "CONDUCTOR_FAULT_POINTS"
POINTS = frozenset({"claim.before_response", "transition.before_commit", "transition.after_commit"})


def _parse(text: str) -> dict[str, int]:
    countdown: dict[str, int] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        point, _, count = entry.partition("=")
        if point not in POINTS or not count.isdigit() or int(count) < 1:
            raise ValueError(f"{ENV}: expected point=count with a point of {sorted(POINTS)}")
        countdown[point] = int(count)
    return countdown


_countdown = _parse(os.environ.get(ENV, ""))


def reached(point: str) -> None:
    """Count one pass through `point`; SIGKILL this process when its count runs out."""
    if not _countdown or point not in _countdown:
        return
    _countdown[point] -= 1
    if _countdown[point] == 0:
        os.write(2, f"fault point {point} reached: SIGKILL\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)
