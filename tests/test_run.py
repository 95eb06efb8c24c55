"""`subbot run`: its loop with fake mailboxes (reconnecting, the lock, a failing poll), then the real
command as a process of its own against Dovecot (IDLE) and aiosmtpd, and against a Maildir: mail that
arrives while it runs is answered, SIGTERM and SIGINT stop it cleanly, a server restart is ridden out."""

from __future__ import annotations

import datetime as dt
import email
import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest
from servers.dovecot import PASSWORD, Dovecot
from servers.smtp import SmtpServer
from test_scheduler import BEIJING, set_next_run

from bot.demo import samples, write_message
from bot.intake.runner import Backoff, Runner
from bot.ledger.database import open_engine, sqlite_url
from bot.mailbox.port import Fetched, Mailbox, MailboxUnavailable, MessageRef
from bot.mailbox.stop import Stop
from bot.store.lock import Busy, exclusive
from parsers.message import parse_message

ROOT = Path(__file__).resolve().parents[1]
SUBBOT = ROOT / ".venv" / "bin" / "subbot"
DEADLINE = 30.0  # seconds: a guard against a hang, never a measurement
QUICK = Backoff(first=0.01, longest=0.02)


# --- the loop, with fake mailboxes -------------------------------------------------------------------


class FakeBox:
    """A Mailbox whose wait runs what the test gives it (which may set stop, raise, or look at the lock)."""

    name = "fake"

    def __init__(self, wait: Callable[[Stop], bool]) -> None:
        self._wait = wait
        self.closed = False

    def list_refs(self) -> list[MessageRef]:
        return []

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[Fetched]:
        return iter(())

    def mark_processed(self, ref: MessageRef) -> None:
        pass

    def append_sent(self, raw: bytes) -> None:
        pass

    def answered_in_sent(self) -> frozenset[str]:
        return frozenset()

    def wait_for_mail(self, timeout: float, stop: Stop) -> bool:
        return self._wait(stop)

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def stop_waiting(stop: Stop) -> bool:
    stop.set()
    return False


def refuse() -> Mailbox:
    raise MailboxUnavailable("fake", "connection refused")


@pytest.fixture
def stop() -> Iterator[Stop]:
    with Stop() as flag:
        yield flag


def runner(tmp_path: Path, stop: Stop, connect: Callable[[], Mailbox], poll: Callable[[Mailbox], None]) -> Runner:
    return Runner(connect, poll, tmp_path / "subbot.lock", 0.01, stop, QUICK)


def test_reconnects_after_failed_connections_and_a_dropped_wait(tmp_path: Path, stop: Stop) -> None:
    events: list[str] = []

    def drop(stop: Stop) -> bool:
        events.append("wait, dropped")
        raise MailboxUnavailable("fake", "connection reset")

    def finish(stop: Stop) -> bool:
        events.append("wait, stopped")
        return stop_waiting(stop)

    outcomes: list[Callable[[], Mailbox]] = [lambda: FakeBox(drop), refuse, lambda: FakeBox(finish)]
    boxes: list[Mailbox] = []

    def connect() -> Mailbox:
        events.append("connect")
        box = outcomes.pop(0)()
        boxes.append(box)
        return box

    loop = runner(tmp_path, stop, connect, lambda box: events.append("poll"))
    loop.run()
    assert events == ["connect", "poll", "wait, dropped", "connect", "connect", "poll", "wait, stopped"]
    assert all(isinstance(box, FakeBox) and box.closed for box in boxes)


def test_a_failed_poll_is_logged_and_tried_again(tmp_path: Path, stop: Stop, caplog: pytest.LogCaptureFixture) -> None:
    polls: list[int] = []

    def poll(box: Mailbox) -> None:
        polls.append(len(polls))
        if len(polls) == 1:
            raise RuntimeError("disk full")
        loop.stop.set()

    loop = runner(tmp_path, stop, lambda: FakeBox(lambda stop: True), poll)
    with caplog.at_level(logging.ERROR):
        loop.run()
    assert polls == [0, 1]
    assert "poll failed" in caplog.text and "disk full" in caplog.text


def test_holds_the_lock_only_while_polling(tmp_path: Path, stop: Stop) -> None:
    seen: list[str] = []

    def poll(box: Mailbox) -> None:
        with pytest.raises(Busy), exclusive(tmp_path / "subbot.lock"):
            pass
        seen.append("poll held the lock")

    def wait(stop: Stop) -> bool:
        with exclusive(tmp_path / "subbot.lock"):
            seen.append("free while waiting")
        stop.set()
        return False

    runner(tmp_path, stop, lambda: FakeBox(wait), poll).run()
    assert seen == ["poll held the lock", "free while waiting"]


def test_waits_for_another_process_polling(tmp_path: Path, stop: Stop, caplog: pytest.LogCaptureFixture) -> None:
    polled = threading.Event()
    loop = runner(tmp_path, stop, lambda: FakeBox(stop_waiting), lambda box: polled.set())
    thread = threading.Thread(target=loop.run)
    with caplog.at_level(logging.INFO), exclusive(tmp_path / "subbot.lock"):
        thread.start()
        eventually(lambda: "another subbot process is polling" in caplog.text, "the runner to find the lock held")
        assert not polled.is_set()
    thread.join(DEADLINE)
    assert polled.is_set() and not thread.is_alive()


def test_stop_during_backoff_ends_the_loop(tmp_path: Path, stop: Stop) -> None:
    attempts: list[int] = []

    def connect() -> Mailbox:
        attempts.append(1)
        stop.set()  # as SIGTERM would, while the first wait of a minute has not begun
        return refuse()

    Runner(connect, lambda box: None, tmp_path / "subbot.lock", 60, stop, Backoff(first=60)).run()
    assert attempts == [1]


def test_a_signal_handler_setting_stop_ends_a_wait_at_once(stop: Stop) -> None:
    previous = signal.signal(signal.SIGUSR1, lambda *_: stop.set())
    try:
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        assert stop.wait(DEADLINE) is True  # returns on the signal, not at the deadline
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert stop.is_set() and stop.wait(60) is True


# --- the command, as a process -----------------------------------------------------------------------


def eventually(check: Callable[[], bool], what: str, log: Callable[[], str] = str) -> None:
    end = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > end:
            pytest.fail(f"no {what} within {DEADLINE:g} s\n{log()[-4000:]}")
        time.sleep(0.1)


class Bot:
    """`subbot --settings FILE run` in a process of its own, its output in files the test reads."""

    def __init__(self, settings: Path) -> None:
        self._folder = settings.parent
        self._settings = settings
        env = {k: v for k, v in os.environ.items() if not k.startswith("SUBBOT_")}
        self._env = {**env, "SUBBOT_IMAP_PASSWORD": PASSWORD}
        with open(self._folder / "out.txt", "wb") as out, open(self._folder / "err.txt", "wb") as err:
            self.process = subprocess.Popen(
                [SUBBOT, "--settings", settings, "run"], stdout=out, stderr=err, env=self._env, cwd=self._folder
            )

    def log(self) -> str:
        return (self._folder / "err.txt").read_text(encoding="utf-8", errors="replace")

    def polls(self) -> int:
        return self.log().count("邮箱共")

    def wait_for(self, check: Callable[[], bool], what: str) -> None:
        eventually(lambda: check() or self.process.poll() is not None, what, self.log)
        assert self.process.poll() is None, f"subbot run exited early\n{self.log()[-4000:]}"

    def poll_once(self) -> int:
        """`subbot poll` in another process while this one runs."""
        command = [SUBBOT, "--settings", self._settings, "poll"]
        return subprocess.run(command, env=self._env, capture_output=True, timeout=DEADLINE).returncode

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str]:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=DEADLINE)
        return code, (self._folder / "out.txt").read_text(encoding="utf-8")


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[[Path], Bot]]:
    bots: list[Bot] = []

    def run(settings: Path) -> Bot:
        bots.append(Bot(settings))
        return bots[-1]

    yield run
    for bot in bots:
        if bot.process.poll() is None:
            bot.process.kill()
            bot.process.wait()


def write_settings(folder: Path, smtp: SmtpServer, mailbox: dict[str, Any], poll_minutes: float = 60) -> Path:
    """bot.toml as staff write it; poll_minutes is long, so only news of mail can wake the bot in time."""
    lines = "".join(f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in mailbox.items())
    path = folder / "bot.toml"
    path.write_text(
        f'[bot]\ndata_dir = "{folder / "data"}"\nfrom_address = "kepu@example.org"\npoll_minutes = {poll_minutes}\n\n'
        f"[mailbox]\n{lines}\n"
        f'[smtp]\ntype = "smtp"\nhost = "{smtp.host}"\nport = {smtp.port}\nusername = ""\nsecurity = "plain"\n'
        "timeout = 5\n",
        encoding="utf-8",
    )
    return path


def imap(dovecot: Dovecot, user: str, **extra: Any) -> dict[str, Any]:
    keys = {"type": "imap", "host": dovecot.host, "port": dovecot.port, "username": user, "security": "plain"}
    return {**keys, "timeout": 5, **extra}


def plan_mail() -> tuple[bytes, str]:
    """The demo's first mail: a branch on the roster sends a good plan form (a new Message-ID each call)."""
    raw = write_message(samples()[0])
    return raw, str(email.message_from_bytes(raw)["Message-ID"])


def answered(smtp: SmtpServer, message_id: str) -> bool:
    return any(email.message_from_bytes(r.raw)["In-Reply-To"] == message_id for r in smtp.received)


def test_answers_mail_as_it_arrives_over_idle_and_stops_on_sigterm(
    tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start: Callable[[Path], Bot]
) -> None:
    bot = start(write_settings(tmp_path, smtp_server, imap(dovecot, imap_user)))
    bot.wait_for(lambda: bot.polls() == 1, "first poll")

    raw, message_id = plan_mail()
    dovecot.append(imap_user, raw)
    bot.wait_for(lambda: answered(smtp_server, message_id), "reply to mail appended while running")
    bot.wait_for(lambda: bot.polls() == 2, "end of the poll IDLE started")
    assert [r.rcpt_tos for r in smtp_server.received] == [("bjsyxh@example.com",)]
    assert bot.poll_once() == 0  # the lock is free while the bot waits

    code, out = bot.stop()
    assert code == 0
    assert out.splitlines()[-1] == "subbot 已停止"
    assert "Traceback" not in bot.log()


def test_rides_out_a_server_restart(
    tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start: Callable[[Path], Bot]
) -> None:
    bot = start(write_settings(tmp_path, smtp_server, imap(dovecot, imap_user)))
    bot.wait_for(lambda: bot.polls() == 1, "first poll")

    dovecot.restart()
    raw, message_id = plan_mail()
    dovecot.append(imap_user, raw)
    bot.wait_for(lambda: answered(smtp_server, message_id), "reply to mail appended after the restart")
    assert "mailbox: " in bot.log()  # it saw the connection go and came back

    code, out = bot.stop()
    assert (code, out.splitlines()[-1]) == (0, "subbot 已停止")


def test_polls_on_a_timer_when_idle_is_off(
    tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start: Callable[[Path], Bot]
) -> None:
    settings = write_settings(tmp_path, smtp_server, imap(dovecot, imap_user, idle=False), poll_minutes=0.02)
    bot = start(settings)
    bot.wait_for(lambda: bot.polls() >= 1, "first poll")
    raw, message_id = plan_mail()
    dovecot.append(imap_user, raw)
    bot.wait_for(lambda: answered(smtp_server, message_id), "reply on the next timed poll")
    assert bot.stop()[0] == 0


def test_watches_a_maildir_marks_what_it_answered_and_stops_on_sigint(
    tmp_path: Path, smtp_server: SmtpServer, start: Callable[[Path], Bot]
) -> None:
    inbox = tmp_path / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True)
    mailbox = {"type": "maildir", "path": str(inbox), "processed_flag": "a", "processed_folder": "已处理"}
    bot = start(write_settings(tmp_path, smtp_server, mailbox))
    bot.wait_for(lambda: bot.polls() == 1, "first poll")

    raw, message_id = plan_mail()
    (inbox / "tmp" / "1.M1.test").write_bytes(raw)
    (inbox / "tmp" / "1.M1.test").rename(inbox / "new" / "1.M1.test")
    bot.wait_for(lambda: answered(smtp_server, message_id), "reply to mail delivered while running")
    bot.wait_for(lambda: bot.polls() == 2, "end of the poll")

    assert [p.name for p in (inbox / ".&XfJZBHQG-" / "cur").iterdir()] == ["1.M1.test:2,a"]
    assert len(list((inbox / ".Sent" / "cur").iterdir())) == 1
    code, out = bot.stop(signal.SIGINT)
    assert (code, out.splitlines()[-1]) == (0, "subbot 已停止")


def test_a_digest_missed_while_the_bot_was_down_is_sent_once_when_it_comes_back(
    tmp_path: Path, smtp_server: SmtpServer, start: Callable[[Path], Bot]
) -> None:
    inbox = tmp_path / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True)
    settings = write_settings(tmp_path, smtp_server, {"type": "maildir", "path": str(inbox)})
    hours_away = (dt.datetime.now(BEIJING) + dt.timedelta(hours=6)).strftime("%H:%M:00")
    settings.write_text(
        settings.read_text(encoding="utf-8") + f'\n[digest]\nto = ["staff@example.org"]\nhour = {hours_away}\n',
        encoding="utf-8",
    )
    bot = start(settings)
    bot.wait_for(lambda: bot.polls() == 1, "first poll")
    assert bot.stop()[0] == 0
    assert smtp_server.received == []  # not yet due
    engine = open_engine(sqlite_url(tmp_path / "data" / "ledger.sqlite3"))
    set_next_run(engine, "digest", dt.datetime.now(BEIJING) - dt.timedelta(days=2))  # down for two days

    bot = start(settings)
    bot.wait_for(lambda: len(smtp_server.received) == 1, "the missed digest")
    bot.wait_for(lambda: bot.polls() >= 1, "first poll")
    assert bot.stop()[0] == 0
    bot = start(settings)  # and a restart sends no second one
    bot.wait_for(lambda: bot.polls() == 1, "first poll")
    assert bot.stop()[0] == 0
    assert [r.rcpt_tos for r in smtp_server.received] == [("staff@example.org",)]
    assert "摘要" in parse_message(smtp_server.received[0].raw).subject
