"""Intake throughput: `subbot poll --once` over a mailbox of N submissions, end to end (fetch, store, parse,
decide, record, reply through aiosmtpd), beside the floor (bench/floor.py) over the same mailbox."""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.process import PYTHON, ROOT, SUBBOT, Timing, measure, subbot_env
from bench.servers import PASSWORD, Servers
from bench.workload import Mix, Workload


@dataclass(frozen=True)
class Round:
    count: int
    bot: Timing
    floor: Timing
    replies: int
    answering: Timing | None = None  # the floor with the least answering takes (floor.py --answer)


@dataclass(frozen=True)
class Result:
    count: int
    mix: Mix
    rounds: list[Round]

    @property
    def bot_wall(self) -> float:
        return statistics.median(r.bot.wall for r in self.rounds)

    @property
    def floor_wall(self) -> float:
        return statistics.median(r.floor.wall for r in self.rounds)

    @property
    def answering_wall(self) -> float | None:
        walls = [r.answering.wall for r in self.rounds if r.answering]
        return statistics.median(walls) if walls else None

    @property
    def answering_ratio(self) -> float | None:
        ratios = [r.bot.wall / r.answering.wall for r in self.rounds if r.answering]
        return statistics.median(ratios) if ratios else None

    @property
    def bot_cpu(self) -> float:
        return statistics.median(r.bot.cpu for r in self.rounds)

    @property
    def ratio(self) -> float:
        return statistics.median(r.bot.wall / r.floor.wall for r in self.rounds)

    @property
    def peak_rss_mb(self) -> float:
        return max(r.bot.peak_rss_mb for r in self.rounds)


def measure_intake(
    servers: Servers, workload: Workload, count: int, mix: Mix, rounds: int, floor: bool = True
) -> Result:
    mails = workload.mails(count, mix)
    done = []
    for _ in range(rounds):
        done.append(one_round(servers, mails, floor))
    return Result(count, mix, done)


def one_round(servers: Servers, mails: list[bytes], floor: bool) -> Round:
    user = servers.new_user()
    for start in range(0, len(mails), 500):
        servers.dovecot.append_many(user, mails[start : start + 500])
    servers.reset_smtp()
    with tempfile.TemporaryDirectory(prefix="subbot-bench-run-") as tmp:
        folder = Path(tmp)
        settings = servers.settings(folder, user)
        dovecot = servers.dovecot
        # Untimed: Dovecot builds its index on the first look, which neither measured reader should pay for.
        floor_command = [PYTHON, ROOT / "bench" / "floor.py", dovecot.host, str(dovecot.port), user, PASSWORD]
        measure(floor_command)
        floor_timing = measure(floor_command) if floor else Timing(0.0, 0.0, 0.0, "")
        answering = None
        if floor:
            stored = folder / "floor-stored"
            stored.mkdir()
            answering = measure([*floor_command, "--answer", str(servers.smtp.port), str(stored)])
        servers.reset_smtp()
        bot = measure([SUBBOT, "--settings", settings, "poll", "--once", "--reply-backlog"], subbot_env(), folder)
        recorded = _recorded(folder / "data" / "ledger.sqlite3")
        if recorded != len(mails):
            raise RuntimeError(f"the bot recorded {recorded} of {len(mails)} messages: {bot.output}")
        replies = len(servers.smtp.received)
    return Round(len(mails), bot, floor_timing, replies, answering)


def _recorded(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM messages WHERE status = 'processed'").fetchone()[0])
