"""Exponential backoff with jitter, shared by poll-error waits and result-report retries."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays of `base * factor**n`, capped at `cap`, each scaled by a random 50-100 %.

    The jitter keeps many workers that failed together (server restart) from
    retrying in lockstep. `max_attempts` bounds retries where the caller gives up.
    """

    base: float = 0.2
    factor: float = 2.0
    cap: float = 5.0
    max_attempts: int = 5

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """Return the wait after the `failures`-th consecutive failure (1-based)."""
        exponent = max(failures - 1, 0)
        # A long outage would overflow the float power, and the cap applies anyway.
        raw = self.base * self.factor**exponent if exponent < 64 else self.cap
        ceiling = min(raw, self.cap)
        return ceiling * (0.5 + 0.5 * (rng or random).random())
