"""Idle cost: CPU seconds `subbot run` spends on an empty mailbox, per hour, with IDLE and with polling."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.running import RunningBot
from bench.servers import Servers


@dataclass(frozen=True)
class IdleCost:
    mode: str
    seconds: float  # how long it was watched
    cpu: float  # CPU seconds spent meanwhile

    @property
    def per_hour(self) -> float:
        return self.cpu * 3600 / self.seconds


def measure_idle(servers: Servers, seconds: float, idle: bool, poll_minutes: float = 5.0) -> IdleCost:
    user = servers.new_user()
    with tempfile.TemporaryDirectory(prefix="subbot-bench-idle-") as tmp:
        folder = Path(tmp)
        settings = servers.settings(folder, user, poll_minutes=poll_minutes)
        if not idle:
            text = settings.read_text(encoding="utf-8").replace("[mailbox]\n", "[mailbox]\nidle = false\n")
            settings.write_text(text, encoding="utf-8")
        with RunningBot(settings) as bot:
            bot.wait_for(lambda: bot.polls() >= 1, "first poll")
            time.sleep(1.0)  # the first poll's tail (logging, outbox) is start-up, not idling
            before = bot.cpu_seconds()
            time.sleep(seconds)
            cpu = bot.cpu_seconds() - before
    return IdleCost("IDLE" if idle else f"polling every {poll_minutes:g} min", seconds, cpu)
