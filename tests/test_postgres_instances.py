"""Two `subbot run` processes, as on two machines (a data folder each), sharing one PostgreSQL ledger and
polling one Dovecot mailbox, replying through aiosmtpd: every message is taken in once and answered once,
whether it was there when they started or arrived while they ran, and when the instance polling is killed
half-way the other takes over the rest."""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from servers.dovecot import PASSWORD, Dovecot
from servers.smtp import SmtpServer
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.demo import samples, write_message
from bot.ledger.database import migrate, open_engine
from bot.ledger.schema import MessageRow, RefRow, ReplyRow

ROOT = Path(__file__).resolve().parents[1]
SUBBOT = ROOT / ".venv" / "bin" / "subbot"
DEADLINE = 60.0  # seconds: a guard against a hang, never a measurement


def eventually(check: Callable[[], bool], what: str, log: Callable[[], str] = str) -> None:
    end = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > end:
            pytest.fail(f"no {what} within {DEADLINE:g} s\n{log()[-4000:]}")
        time.sleep(0.05)


class Instance:
    """`subbot --settings FILE run --reply-backlog` in a process of its own, with a data folder of its own."""

    def __init__(self, folder: Path, dovecot: Dovecot, user: str, smtp: SmtpServer, database_url: str) -> None:
        folder.mkdir(parents=True)
        self.folder = folder
        mailbox = {"type": "imap", "host": dovecot.host, "port": dovecot.port, "username": user}
        settings = folder / "bot.toml"
        settings.write_text(
            f'[bot]\ndata_dir = "{folder / "data"}"\ndatabase_url = "{database_url}"\n'
            'from_address = "kepu@example.org"\npoll_minutes = 60\nreply_cap_per_day = 1000\n\n'
            + "[mailbox]\n"
            + "".join(f"{key} = {json.dumps(value)}\n" for key, value in mailbox.items())
            + 'security = "plain"\ntimeout = 5\n\n'
            f'[smtp]\ntype = "smtp"\nhost = "{smtp.host}"\nport = {smtp.port}\nusername = ""\nsecurity = "plain"\n',
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("SUBBOT_")}
        with open(folder / "out.txt", "wb") as out, open(folder / "err.txt", "wb") as err:
            self.process = subprocess.Popen(
                [SUBBOT, "--settings", settings, "run", "--reply-backlog"],
                stdout=out,
                stderr=err,
                env={**env, "SUBBOT_IMAP_PASSWORD": PASSWORD},
                cwd=folder,
            )

    def log(self) -> str:
        return (self.folder / "err.txt").read_text(encoding="utf-8", errors="replace")

    def polls(self) -> int:
        return self.log().count("邮箱共")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=DEADLINE)


@pytest.fixture
def instances(
    tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, postgres_url: str
) -> Iterator[Callable[[str], Instance]]:
    started: list[Instance] = []

    def start(name: str) -> Instance:
        started.append(Instance(tmp_path / name, dovecot, imap_user, smtp_server, postgres_url))
        return started[-1]

    yield start
    for instance in started:
        if instance.process.poll() is None:
            instance.process.kill()
            instance.process.wait()


@pytest.fixture
def ledger(postgres_url: str) -> Iterator[Engine]:
    engine = open_engine(postgres_url)
    migrate(engine)  # as the first instance would: the test reads the ledger before they start
    yield engine
    engine.dispose()


def mails(count: int) -> list[bytes]:
    """Branch mails as the demo's branches send them (plans, summaries, photos...), each a new Message-ID."""
    demo = samples()
    return [write_message(demo[n % len(demo)]) for n in range(count)]


def recorded(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count(MessageRow.id))).scalar_one())


def all_answered(engine: Engine, count: int) -> bool:
    """`count` messages recorded, and no reply left to send."""
    with Session(engine) as session:
        pending = session.execute(select(func.count(ReplyRow.id)).where(ReplyRow.status == "pending")).scalar_one()
    return recorded(engine) == count and pending == 0


def assert_each_taken_in_and_answered_once(engine: Engine, smtp: SmtpServer, uids: list[int]) -> None:
    with Session(engine) as session:
        refs = Counter(int(uid) for uid in session.execute(select(RefRow.uid)).scalars())
        statuses = Counter(session.execute(select(MessageRow.status)).scalars())
        replies = session.execute(select(ReplyRow.outgoing_id, ReplyRow.status)).all()
    assert refs == Counter(uids)  # every UID recorded, once
    assert statuses == Counter({"processed": len(uids)})  # one row each, none failed, none a duplicate
    assert {status for _, status in replies} == {"sent"}
    received = Counter(str(email.message_from_bytes(r.raw)["Message-ID"]) for r in smtp.received)
    assert received == Counter(outgoing for outgoing, _ in replies)  # each reply once


def test_two_instances_on_one_mailbox_take_each_message_once(
    dovecot: Dovecot,
    imap_user: str,
    smtp_server: SmtpServer,
    ledger: Engine,
    instances: Callable[[str], Instance],
) -> None:
    uids = dovecot.append_many(imap_user, mails(24))
    first, second = instances("first"), instances("second")
    eventually(lambda: first.polls() >= 1 and second.polls() >= 1, "a poll by each", lambda: first.log() + second.log())
    eventually(lambda: recorded(ledger) == 24, "the mail already there recorded")

    # Mail arriving while both wait in IDLE: both wake, one polls, the other finds nothing left.
    uids += dovecot.append_many(imap_user, mails(12))
    eventually(lambda: all_answered(ledger, 36), "the mail that arrived taken in and answered", first.log)
    eventually(lambda: first.polls() >= 2 and second.polls() >= 2, "both back in IDLE", second.log)
    assert first.stop() == 0 and second.stop() == 0
    assert_each_taken_in_and_answered_once(ledger, smtp_server, uids)
    logs = first.log() + second.log()
    assert "Traceback" not in logs
    # Each process's polls took in some of it, or found it taken: together, every message once.
    taken = [sum(int(n) for n in _new_per_poll(instance.log())) for instance in (first, second)]
    assert sum(taken) >= 36


def _new_per_poll(log: str) -> list[str]:
    return [line.split("新邮件")[1].split("封")[0] for line in log.splitlines() if "新邮件" in line]


def test_an_instance_killed_while_polling_leaves_the_rest_to_the_other(
    dovecot: Dovecot,
    imap_user: str,
    smtp_server: SmtpServer,
    ledger: Engine,
    instances: Callable[[str], Instance],
) -> None:
    count = 120
    uids = dovecot.append_many(imap_user, mails(count))
    killed = instances("killed")
    eventually(lambda: recorded(ledger) >= 1, "the first instance polling", killed.log)
    heir = instances("heir")
    eventually(lambda: "another subbot process is polling" in heir.log(), "the second waiting", heir.log)
    killed.process.kill()  # SIGKILL: no clean-up, its database session simply ends
    killed.process.wait()
    at_kill = recorded(ledger)
    assert 0 < at_kill < count, "the first instance was not killed half-way: nothing was taken over"
    assert smtp_server.received == []  # it died before sending: replies go after a poll

    eventually(lambda: all_answered(ledger, count), "the rest taken in and everything answered", heir.log)
    eventually(lambda: heir.polls() >= 1, "the second's poll finished", heir.log)
    assert heir.stop() == 0
    assert_each_taken_in_and_answered_once(ledger, smtp_server, uids)
    assert [int(n) for n in _new_per_poll(heir.log())][:1] == [count - at_kill]
