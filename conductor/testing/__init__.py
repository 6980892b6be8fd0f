"""Helpers for testing and measuring the server, shipped with it so that users can use them too.

`VirtualTime` (virtual_time.py) runs an in-process app on a manual clock, so that workflows
waiting for months finish in seconds. `server_process` runs the real server as a subprocess on a
free port, and `databases` makes the scratch PostgreSQL databases it runs on; the end-to-end
tests and the benchmarks share both.
"""

from conductor.testing.virtual_time import VirtualTime

__all__ = ["VirtualTime"]
