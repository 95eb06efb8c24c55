"""A command run as a process of its own, measured as `time -v` would: wall-clock seconds, CPU seconds and
peak resident memory (from wait4, for that process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBBOT = ROOT / ".venv" / "bin" / "subbot"
PYTHON = ROOT / ".venv" / "bin" / "python"


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds
    cpu: float  # user + system seconds, the process and the children it waited for
    peak_rss_mb: float
    output: str


def measure(command: Sequence[str | Path], env: dict[str, str] | None = None, cwd: Path | None = None) -> Timing:
    environment = {**os.environ, **(env or {})}
    with tempfile.TemporaryDirectory(prefix="subbot-bench-launch-") as tmp:
        report = Path(tmp) / "usage.json"
        launcher = [sys.executable, "-S", str(ROOT / "bench" / "launch.py"), str(report)]
        start = time.perf_counter()
        done = subprocess.run(
            [*launcher, *(str(c) for c in command)],
            env=environment,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        wall = time.perf_counter() - start
        output = done.stdout.decode(errors="replace")
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} exited {done.returncode}: {output[-2000:]}")
        usage = json.loads(report.read_text(encoding="ascii"))
    return Timing(wall, usage["cpu"], usage["maxrss_kb"] / 1024, output)


def subbot_env() -> dict[str, str]:
    from servers.dovecot import PASSWORD  # bench.servers put the suite's servers on the path

    return {"SUBBOT_IMAP_PASSWORD": PASSWORD}
