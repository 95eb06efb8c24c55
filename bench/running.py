"""`subbot run` as a process of its own, for the latency and idle benchmarks: its log read from a file,
its CPU time read from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

from bench.process import SUBBOT, subbot_env

TICKS = os.sysconf("SC_CLK_TCK")


class RunningBot:
    def __init__(self, settings: Path) -> None:
        self.folder = settings.parent
        env = {**os.environ, **subbot_env()}
        with open(self.folder / "err.txt", "wb") as err:
            self.process = subprocess.Popen(
                [str(SUBBOT), "--settings", str(settings), "run", "--reply-backlog"],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
                cwd=self.folder,
            )

    def log(self) -> str:
        return (self.folder / "err.txt").read_text(encoding="utf-8", errors="replace")

    def polls(self) -> int:
        return self.log().count("邮箱共")

    def cpu_seconds(self) -> float:
        """User and system time of the process so far (and of the children it has waited for)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
        return (utime + stime + cutime + cstime) / TICKS

    def wait_for(self, check: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while not check():
            if self.process.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"no {what}: {self.log()[-3000:]}")
            time.sleep(0.005)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
