"""Benchmarks of the server, each run from the repository root as `python -m bench.<name>`.

`throughput`, `timers`, `search` and `retention` measure a real server process on a scratch
database (both from `conductor.testing`); `decider` counts the pure decider's cost alone;
`pyspy_top` summarises a profile that `throughput` took. The other modules are their shared
parts. docs/benchmarks.md shows the commands and the figures recorded so far.
"""
