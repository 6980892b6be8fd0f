"""Tools attached to the server process for a bench's timed phase (py-spy, strace, any command)."""

from __future__ import annotations

import logging
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("bench")


class Attached:
    """A tool attached to the server for the timed phase, stopped with SIGINT at its end."""

    def __init__(self, command: list[str]) -> None:
        log.info("attaching: %s", " ".join(command))
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @classmethod
    def py_spy(cls, pid: int, output: Path, rate: int) -> Attached:
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        # --gil keeps only samples where the server holds the GIL, i.e. runs Python code:
        # without it, the time the process waits for a CPU (preempted inside socket sends)
        # dominates the picture. Blocking sampling gives whole stacks but slows the server.
        command = [exe, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw"]
        return cls([*command, "--gil", "--output", str(output)])

    @classmethod
    def template(cls, text: str, pid: int) -> Attached:
        return cls(shlex.split(text.replace("{pid}", str(pid))))

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        if self.proc.returncode not in (0, -signal.SIGINT):
            log.warning("attached tool exited %s: %s", self.proc.returncode, err.decode()[-500:])
