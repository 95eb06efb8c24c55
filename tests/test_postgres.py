"""The ledger on a real PostgreSQL server: the schema migrated by instances starting at once, the database
lock (held by one session at a time, and freed when its holder is killed), an outbox flushed by two
instances at once sending each reply once, and the daily digest sent from two machines at once queued once."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from servers.smtp import SmtpServer
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from bot.app import App, build_app, open_mailbox, open_mailer
from bot.demo import seed
from bot.intake.poll import poll_once
from bot.ledger.database import MIGRATIONS, database_url, lock_engine, migrate, open_engine
from bot.ledger.schema import MessageRow, ReplyRow
from bot.outgoing.outbox import flush_outbox
from bot.store.lock import AdvisoryLock, Busy
from config import Context
from config.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
SUBBOT = ROOT / ".venv" / "bin" / "subbot"
DEADLINE = 30.0  # seconds: a guard against a hang, never a measurement
BEIJING = dt.timezone(dt.timedelta(hours=8))
POLLED = dt.datetime(2021, 5, 9, 9, 0, tzinfo=BEIJING)


def eventually(check: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > end:
            pytest.fail(f"no {what} within {DEADLINE:g} s")
        time.sleep(0.05)


def test_postgresql_urls_use_psycopg_3() -> None:
    assert database_url("postgresql://u@db/ledger").drivername == "postgresql+psycopg"
    assert database_url("postgres://u@db/ledger").drivername == "postgresql+psycopg"
    assert database_url("postgresql+psycopg://u@db/ledger").drivername == "postgresql+psycopg"
    assert database_url("sqlite:///data/ledger.sqlite3").drivername == "sqlite"
    assert lock_engine("sqlite:///data/ledger.sqlite3") is None


def test_instances_starting_at_once_migrate_one_after_the_other(postgres_url: str) -> None:
    failures: list[BaseException] = []

    def start() -> None:
        engine = open_engine(postgres_url)
        try:
            migrate(engine)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            failures.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)
    assert failures == []
    engine = open_engine(postgres_url)
    with engine.connect() as connection:
        head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    assert {"messages", "message_refs", "replies", "media", "bot_state"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_lock_is_held_by_one_session_at_a_time_per_name(postgres_url: str) -> None:
    engine = lock_engine(postgres_url)
    assert engine is not None
    poll, other_instance = (
        AdvisoryLock(engine, "poll:imap://a@host/INBOX"),
        AdvisoryLock(engine, "poll:imap://a@host/INBOX"),
    )
    with poll.hold():
        with pytest.raises(Busy) as busy, other_instance.hold():
            pass
        assert "数据库锁 poll:imap://a@host/INBOX" in str(busy.value)
        with AdvisoryLock(engine, "poll:imap://b@host/INBOX").hold(), AdvisoryLock(engine, "jobs").hold():
            pass  # another mailbox, and the jobs, are free meanwhile
    with other_instance.hold():
        pass  # free once released
    engine.dispose()


def test_a_lock_waited_for_is_had_once_released(postgres_url: str) -> None:
    engine = lock_engine(postgres_url)
    assert engine is not None
    order: list[str] = []
    first_holds, done = threading.Event(), threading.Event()

    def waiter() -> None:
        first_holds.wait(DEADLINE)
        with AdvisoryLock(engine, "jobs").hold(wait=True):
            order.append("second")
        done.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    with AdvisoryLock(engine, "jobs").hold():
        first_holds.set()
        eventually(lambda: _waiting_for_a_lock(postgres_url), "second session waiting for the lock")
        order.append("first")
    thread.join(DEADLINE)
    assert done.is_set() and order == ["first", "second"]
    engine.dispose()


def _waiting_for_a_lock(url: str) -> bool:
    engine = open_engine(url)
    with engine.connect() as connection:
        waiting = connection.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        ).scalar_one()
    engine.dispose()
    return bool(waiting)


HOLDER = """
import sys, time
from bot.ledger.database import lock_engine
from bot.store.lock import AdvisoryLock
with AdvisoryLock(lock_engine(sys.argv[1]), "poll:imap://a@host/INBOX").hold():
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_killed_instance_leaves_its_lock_to_the_next(postgres_url: str) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, postgres_url], stdout=subprocess.PIPE, cwd=ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        engine = lock_engine(postgres_url)
        assert engine is not None
        lock = AdvisoryLock(engine, "poll:imap://a@host/INBOX")
        with pytest.raises(Busy), lock.hold():
            pass
        os.kill(holder.pid, signal.SIGKILL)  # no unlock, no goodbye: the kernel closes its socket
        holder.wait(DEADLINE)
        eventually(lambda: _can_hold(lock), "lock free after its holder was killed")
        engine.dispose()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def _can_hold(lock: AdvisoryLock) -> bool:
    try:
        with lock.hold():
            return True
    except Busy:
        return False


# --- the demo's Maildir, on a PostgreSQL ledger --------------------------------------------------------


def seeded_app(folder: Path, ctx: Context, url: str, smtp: SmtpServer | None = None, **bot: object) -> App:
    """The demo's Maildir of a dozen branch mails, its ledger on PostgreSQL, replies to `smtp` when given."""
    path = seed(folder)
    extra = "".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in bot.items())
    settings = path.read_text(encoding="utf-8").replace("[bot]\n", f'[bot]\ndatabase_url = "{url}"\n{extra}', 1)
    if smtp is not None:
        head, _, _ = settings.partition("[smtp]")
        settings = head + (
            f'[smtp]\ntype = "smtp"\nhost = "{smtp.host}"\nport = {smtp.port}\nusername = ""\nsecurity = "plain"\n'
        )
    path.write_text(settings, encoding="utf-8")
    return build_app(load_settings(path, {}), ctx)


def test_a_poll_on_postgresql_records_what_it_does_on_sqlite(tmp_path: Path, ctx: Context, postgres_url: str) -> None:
    on_postgres = seeded_app(tmp_path / "pg", ctx, postgres_url)
    on_sqlite = build_app(load_settings(seed(tmp_path / "lite"), {}), ctx)
    outcomes = []
    for app in (on_postgres, on_sqlite):
        with open_mailbox(app.settings) as mailbox:
            poll_once(mailbox, app.engine, app.store, app.services, lambda: POLLED, reply_backlog=True)
        with Session(app.engine) as session:
            rows = session.execute(select(MessageRow).order_by(MessageRow.arrived_at, MessageRow.sender)).scalars()
            outcomes.append([(m.sender, m.status, m.kind, m.branch, m.verdict, m.receipt) for m in rows])
        app.engine.dispose()
    assert len(outcomes[0]) == 12
    assert outcomes[0] == outcomes[1]


def test_two_instances_flushing_one_outbox_at_once_send_each_reply_once(
    tmp_path: Path, ctx: Context, postgres_url: str, smtp_server: SmtpServer
) -> None:
    app = seeded_app(tmp_path, ctx, postgres_url, smtp_server)
    with open_mailbox(app.settings) as mailbox:
        poll_once(mailbox, app.engine, app.store, app.services, lambda: POLLED, reply_backlog=True)
    with Session(app.engine) as session:
        pending = session.execute(select(ReplyRow.outgoing_id).where(ReplyRow.status == "pending")).scalars().all()
    assert len(pending) >= 10
    # Two instances: an engine each, both flushing the same pending replies at the same moment.
    engines = [open_engine(app.settings.database()) for _ in range(2)]
    ready = threading.Barrier(2)

    def flush(engine: object) -> None:
        ready.wait(DEADLINE)
        flush_outbox(engine, open_mailer(app.settings), app.settings.bot.from_address, lambda: POLLED)  # type: ignore[arg-type]

    threads = [threading.Thread(target=flush, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)
    received = Counter(str(email.message_from_bytes(r.raw)["Message-ID"]) for r in smtp_server.received)
    assert received == Counter(pending)  # each once, none left out
    with Session(app.engine) as session:
        assert set(session.execute(select(ReplyRow.status)).scalars()) == {"sent"}
    for engine in [*engines, app.engine]:
        engine.dispose()


def test_the_digest_sent_from_two_machines_at_once_goes_once_to_each_address(
    tmp_path: Path, ctx: Context, postgres_url: str, smtp_server: SmtpServer
) -> None:
    app = seeded_app(tmp_path / "a", ctx, postgres_url, smtp_server)
    with open_mailbox(app.settings) as mailbox:
        poll_once(mailbox, app.engine, app.store, app.services, lambda: POLLED)
    app.engine.dispose()
    staff = ["office@example.org", "chief@example.org"]
    digest = f"\n[digest]\nto = {staff!r}\n".replace("'", '"')
    # Two data folders, as on two machines: only the database is shared, so only its lock can keep order.
    settings = []
    for name in ("a", "b"):
        if name == "b":
            seeded_app(tmp_path / name, ctx, postgres_url, smtp_server).engine.dispose()
        path = tmp_path / name / "bot.toml"
        path.write_text(path.read_text(encoding="utf-8") + digest, encoding="utf-8")
        settings.append(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUBBOT_")}
    command = ["--now", "2021-05-09T10:00", "digest", "--send"]
    runs = [
        subprocess.Popen(
            [SUBBOT, "--settings", path, *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for path in settings
    ]
    outputs = [run.communicate(timeout=DEADLINE * 2) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    digests = [r for r in smtp_server.received if "摘要" in _subject(r.raw)]
    assert sorted(r.rcpt_tos for r in digests) == sorted((address,) for address in staff)
    told = "".join(out.decode() for out, _ in outputs)
    assert "新排队2封" in told and "2位今天已发过" in told  # one queued both, the other found them queued


def _subject(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return str(message["Subject"])


def test_one_flush_sends_every_reply_due_however_many(
    tmp_path: Path, ctx: Context, postgres_url: str, smtp_server: SmtpServer
) -> None:
    app = seeded_app(tmp_path, ctx, postgres_url, smtp_server)
    # A deadline day's poll queues more replies than the outbox reads at once (it used to send 100 a round).
    with Session(app.engine) as session, session.begin():
        for number in range(250):
            session.add(
                ReplyRow(
                    kind="ack",
                    to_address=f"branch{number}@example.org",
                    subject="回执",
                    outgoing_id=f"<r{number}@example.org>",
                    raw=f"Message-ID: <r{number}@example.org>\r\nSubject: x\r\n\r\nok\r\n".encode(),
                    status="pending",
                    created_at=POLLED.replace(tzinfo=None),
                )
            )
    report = flush_outbox(app.engine, open_mailer(app.settings), app.settings.bot.from_address, lambda: POLLED)
    assert (report.sent, report.deferred) == (250, 0)
    assert len(smtp_server.received) == 250
    app.engine.dispose()
