"""Summarise a `py-spy record --format raw` file: top functions by self and by total samples.

    python -m bench.pyspy_top PROFILE.txt [--top 25] [--keep-lines]

Each input line is `frame;frame;...;leaf COUNT`, a frame being `function (file:line)`.
Line numbers are dropped unless --keep-lines, so one function is one row. "Total" counts a
sample once per function even when the function is on the stack more than once.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

_LINE = re.compile(r":\d+\)$")


def load(path: Path, keep_lines: bool) -> list[tuple[list[str], int]]:
    stacks = []
    for raw in path.read_text().splitlines():
        frames_text, _, count = raw.rpartition(" ")
        if not frames_text or not count.isdigit():
            continue
        frames = frames_text.split(";")
        if not keep_lines:
            frames = [_LINE.sub(")", frame) for frame in frames]
        stacks.append((frames, int(count)))
    return stacks


def summarise(stacks: list[tuple[list[str], int]], top: int) -> str:
    total = sum(count for _, count in stacks)
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    out = [f"{total} samples", "", "self  %   | function"]
    out += [f"{100 * n / total:8.1f}  | {frame}" for frame, n in own.most_common(top)]
    out += ["", "total %   | function"]
    out += [f"{100 * n / total:8.1f}  | {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--keep-lines", action="store_true")
    args = parser.parse_args(argv)
    print(summarise(load(args.profile, args.keep_lines), args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
