"""Two bot processes at once on one data folder: one polls, the other waits (`subbot run`, `subbot retry`) or
exits with a clear message (`subbot poll`, exit status 4). The first process is held in its outbox flush (the
SMTP server keeps its DATA waiting) while the second tries, so they do overlap, every time."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fault_results import Result, record
from faults_world import (
    Delivery,
    ForkServer,
    GateCollector,
    Ledger,
    Running,
    deliver,
    eventually,
    keyworded,
    log_text,
    new_mailbox,
    reply_ids,
    subbot,
)
from servers.dovecot import Dovecot
from servers.smtp import SmtpServer

BUSY = "另一个 subbot 进程正在处理邮箱"
SLOW = {"smtp_timeout": 60}  # the gate holds a DATA for as long as the test needs


@pytest.fixture
def gated() -> Iterator[SmtpServer]:
    server = SmtpServer("plain")
    server.handler = GateCollector()
    server.start()
    yield server
    gate(server).gate.set()
    server.stop()


def gate(server: SmtpServer) -> GateCollector:
    collector = server.handler
    assert isinstance(collector, GateCollector)
    return collector


def hold_outbox(server: SmtpServer) -> None:
    gate(server).held.clear()
    gate(server).gate.clear()


def waits_for_lock(pid: int) -> Callable[[], bool]:
    """True once the kernel lists `pid` as blocked on a flock (/proc/locks: '-> FLOCK ... WRITE pid')."""
    waiter = re.compile(rf"->\s+FLOCK\s+ADVISORY\s+WRITE\s+{pid}\s")
    return lambda: bool(waiter.search(Path("/proc/locks").read_text()))


def once_each(smtp: SmtpServer, ledger: Ledger) -> bool:
    sent = Counter(reply_ids(smtp))
    return sent == Counter(r["outgoing_id"] for r in ledger.replies if r["status"] == "sent")


def test_a_second_poll_exits_with_a_clear_message(
    tmp_path: Path, forks: ForkServer, dovecot: Dovecot, gated: SmtpServer, mails: list[Delivery]
) -> None:
    rounds = 3
    for number in range(rounds):
        some = mails[number * 10 : number * 10 + 10]
        settings, user = new_mailbox(tmp_path / f"round{number}", dovecot, gated, some, SLOW)
        loser_log = race_two_polls(forks, settings, gated)
        assert BUSY in log_text(loser_log) and "Traceback" not in log_text(loser_log)
        ledger = Ledger.read(settings.parent / "data")
        assert len(ledger.messages) == len(some) and once_each(gated, ledger)
        assert keyworded(dovecot, user) == (len(some), len(some))
        gated.reset()
    record(
        Result(
            suite="faults",
            order=12,
            fault="Two `subbot poll` at once",
            tried="two `subbot poll` started together on one data folder, the first held in its outbox",
            times=rounds,
            lost=0,
            duplicated=0,
            recovery="n/a",
            outcome=f"the second exited at once with status 4 and 「{BUSY}（锁文件 …）」; the first finished alone",
        )
    )


def race_two_polls(forks: ForkServer, settings: Path, gated: SmtpServer) -> Path:
    """Two `subbot poll` started together; returns the log of the one that found the lock taken."""
    logs = (settings.parent / "a.log", settings.parent / "b.log")
    argv = subbot(settings, "poll", "--reply-backlog")
    hold_outbox(gated)
    pids = [forks.start(argv, log) for log in logs]
    both = lambda: log_text(logs[0]) + log_text(logs[1])  # noqa: E731
    eventually(gate(gated).held.is_set, "a poll caught in its outbox", both)
    # Whichever got the lock holds it in the outbox: the other has found it taken, or will.
    ended: dict[int, int] = {}

    def one_ended() -> bool:
        for pid in pids:
            code = forks.wait(pid, 0) if pid not in ended else None
            if code is not None:
                ended[pid] = code
        return bool(ended)

    eventually(one_ended, "the second poll giving up", both)
    [(loser, code)] = ended.items()
    assert code == 4, both()
    gate(gated).gate.set()
    assert forks.wait(next(pid for pid in pids if pid != loser)) == 0, both()
    return logs[pids.index(loser)]


def test_a_second_run_waits_for_the_first_and_they_take_turns(
    tmp_path: Path, forks: ForkServer, dovecot: Dovecot, gated: SmtpServer, mails: list[Delivery]
) -> None:
    settings, user = new_mailbox(tmp_path, dovecot, gated, mails[:20], SLOW)
    hold_outbox(gated)
    first = Running(forks, settings, "--reply-backlog")
    try:
        eventually(gate(gated).held.is_set, "the first run caught in its outbox", first.log)
        second = Running(forks, settings, "--reply-backlog", log="second.log")
        try:
            eventually(lambda: "another subbot process is polling" in second.log(), "the second waiting", second.log)
            gate(gated).gate.set()
            data = settings.parent / "data"
            eventually(lambda: len(Ledger.read(data).messages) == 20 and Ledger.read(data).pending() == 0, "polls")
            deliver(dovecot, user, mails[20:30])
            eventually(lambda: len(Ledger.read(data).messages) == 30 and Ledger.read(data).pending() == 0, "new mail")
            assert second.stop() == 0 and first.stop() == 0
        finally:
            second.kill()
    finally:
        first.kill()
    ledger = Ledger.read(settings.parent / "data")
    assert once_each(gated, ledger) and all(m["status"] != "failed" for m in ledger.messages)
    assert keyworded(dovecot, user) == (30, 30)
    record(
        Result(
            suite="faults",
            order=13,
            fault="Two `subbot run` at once",
            tried="a second `subbot run` started while the first is in its outbox; then 10 more mails",
            times=1,
            lost=0,
            duplicated=0,
            recovery="n/a",
            outcome="the second waited for the lock, then the two took turns: every mail taken once, answered once",
        )
    )


def test_retry_waits_for_a_poll_in_its_outbox(
    tmp_path: Path, forks: ForkServer, dovecot: Dovecot, gated: SmtpServer, mails: list[Delivery]
) -> None:
    # Staff's own correction subject names a value the bot does not have: every correction fails.
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "correction.subject.txt").write_text("{{ secretary }}：请修改筹备方案\n", encoding="utf-8")
    settings, user = new_mailbox(tmp_path, dovecot, gated, mails[:20], {**SLOW, "templates_dir": str(templates)})
    data, log = settings.parent / "data", settings.parent / "subbot.log"
    argv = subbot(settings, "poll", "--reply-backlog")
    assert forks.run(argv, log) == 0
    failed = [m["id"] for m in Ledger.read(data).messages if m["status"] == "failed"]
    assert failed

    (templates / "correction.subject.txt").unlink()  # staff fix the template
    deliver(dovecot, user, mails[20:30])
    hold_outbox(gated)
    poll = forks.start(argv, log)
    eventually(gate(gated).held.is_set, "the poll caught in its outbox", lambda: log_text(log))
    retry = forks.start(subbot(settings, "retry", str(failed[0])), settings.parent / "retry.log")
    eventually(waits_for_lock(retry), "retry waiting for the lock", lambda: log_text(settings.parent / "retry.log"))
    gate(gated).gate.set()
    assert forks.wait(poll) == 0 and forks.wait(retry) == 0

    ledger = Ledger.read(data)
    assert once_each(gated, ledger)
    assert next(m["status"] for m in ledger.messages if m["id"] == failed[0]) == "processed"
    record(
        Result(
            suite="faults",
            order=14,
            fault="`subbot retry` during a poll",
            tried="`subbot retry` of a failed mail started while a poll is in its outbox flush",
            times=1,
            lost=0,
            duplicated=0,
            recovery="n/a",
            outcome="retry waited for the poll's lock (it used to flush beside it and could send a reply twice)",
        )
    )
