"""Latency: from the APPEND of one mail to its reply arriving at aiosmtpd, with `subbot run` waiting in
IMAP IDLE, and with IDLE off (a poll every `poll_seconds`). One mail at a time, each from a new APPEND."""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.running import RunningBot
from bench.servers import Servers
from bench.workload import Workload


@dataclass(frozen=True)
class Latency:
    mode: str
    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def measure_latency(servers: Servers, workload: Workload, samples: int, idle: bool, poll_seconds: float) -> Latency:
    user = servers.new_user()
    servers.reset_smtp()
    with tempfile.TemporaryDirectory(prefix="subbot-bench-latency-") as tmp:
        folder = Path(tmp)
        settings = servers.settings(folder, user, poll_minutes=poll_seconds / 60)
        if not idle:
            text = settings.read_text(encoding="utf-8").replace("[mailbox]\n", "[mailbox]\nidle = false\n")
            settings.write_text(text, encoding="utf-8")
        times = []
        with RunningBot(settings) as bot:
            bot.wait_for(lambda: bot.polls() >= 1, "first poll")
            arrived = servers.collector.arrived
            pause = random.Random(2021)
            for number in range(samples):
                mail = workload.mail("docx", number)
                if not idle:
                    # Mail arrives at any moment of the interval, not just after a poll (which would always wait
                    # the whole of it): the median is then about half the interval.
                    time.sleep(pause.uniform(0, poll_seconds))
                before = len(arrived)
                start = time.monotonic()
                servers.dovecot.append(user, mail)
                bot.wait_for(lambda seen=before: len(arrived) > seen, "reply", timeout=poll_seconds * 3 + 60)
                times.append(arrived[before] - start)
    return Latency("IDLE" if idle else f"polling every {poll_seconds:g} s", times)
