"""The bot's own storage fails: the data folder fills up, turns read-only, or the ledger is locked by another
writer. The poll fails loudly (a non-zero exit, the reason in the log) and takes nothing as processed: what
it had not finished is neither in the ledger nor marked in the mailbox nor answered; the next poll after the
fault takes it in, as an uninterrupted run would have.

The data folder is a small tmpfs where the machine allows mounting one (ENOSPC and EROFS as a full or
read-only disk gives them); elsewhere the disk-full case falls back to a file-size limit (EFBIG) on the
bot's process."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from fault_results import Result, record
from faults_world import (
    Delivery,
    ForkServer,
    Ledger,
    Reference,
    Stopwatch,
    deliver,
    keyworded,
    log_text,
    new_mailbox,
    reply_ids,
    subbot,
)
from servers.dovecot import PASSWORD, Dovecot
from servers.smtp import SmtpServer

from bot.app import build_app
from bot.commands import mail
from bot.ledger.database import open_engine
from config import Context
from config.settings import load_settings

ZONE = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2021, 5, 9, 9, 0, tzinfo=ZONE)


class Tmpfs:
    """A tmpfs of `size` bytes mounted at `path`, grown, made read-only or writable again on request."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        _mount("-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path))

    def resize(self, size: int) -> None:
        _mount("-o", f"remount,size={size}", str(self.path))

    def read_only(self) -> None:
        _mount("-o", "remount,ro", str(self.path))

    def writable(self) -> None:
        _mount("-o", "remount,rw", str(self.path))

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False, capture_output=True)


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def can_mount(folder: Path) -> bool:
    try:
        Tmpfs(folder / "probe", 1 << 20).unmount()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return False
    return True


@pytest.fixture
def mounts(tmp_path: Path) -> Iterator[list[Tmpfs]]:
    made: list[Tmpfs] = []
    yield made
    for tmpfs in reversed(made):
        tmpfs.unmount()


def recorded_whole(ledger: Ledger, reference: Reference) -> bool:
    """Every message the ledger holds is recorded as the uninterrupted run recorded it, its reply queued
    (pending: the outbox comes after the intake)."""
    queued, outcome = {"sent": "pending"}, ledger.outcome()
    return all(
        (*facts[:5], queued.get(facts[5], facts[5]), *facts[6:]) == outcome[sha]
        for sha, facts in reference.outcome.items()
        if sha in outcome
    )


def test_disk_full_stops_the_poll_and_nothing_half_done_is_taken_as_processed(
    tmp_path: Path,
    forks: ForkServer,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    mails: list[Delivery],
    reference: Reference,
    mounts: list[Tmpfs],
) -> None:
    settings, user = new_mailbox(tmp_path, dovecot, smtp_server, mails)
    data, log = settings.parent / "data", settings.parent / "subbot.log"
    argv = subbot(settings, "poll", "--reply-backlog")
    if can_mount(tmp_path):
        mounts.append(Tmpfs(data, 1536 << 10))  # the empty ledger and the first dozen mails fit
        how = "a 1.5 MB tmpfs as the data folder (ENOSPC)"
        code = forks.run(argv, log)
    else:
        how = "a 1.5 MB file-size limit on the bot's process (EFBIG)"
        code = forks.run(argv, log, limits={"fsize": 1536 << 10})
    assert code != 0, log_text(log)[-3000:]
    # ENOSPC reads "disk is full" in SQLite and "No space left on device" elsewhere; EFBIG "disk I/O error".
    reasons = ("No space left on device", "File too large", "disk is full", "disk I/O error")
    assert any(why in log_text(log) for why in reasons)

    ledger = Ledger.read(data)
    recorded = len(ledger.messages)
    assert 0 < recorded < len(mails), recorded
    assert recorded_whole(ledger, reference)
    assert all(m["status"] != "failed" for m in ledger.messages)
    assert keyworded(dovecot, user) == (len(mails), recorded)  # marked: exactly what is recorded
    assert reply_ids(smtp_server) == []  # it stopped before the outbox

    if mounts:
        mounts[0].resize(256 << 20)
    clock = Stopwatch()
    assert forks.run(argv, log) == 0, log_text(log)[-3000:]
    took = clock.seconds()
    assert Ledger.read(data).outcome() == reference.outcome
    assert Counter(reply_ids(smtp_server)) == Counter(reference.replies)
    assert keyworded(dovecot, user) == (len(mails), len(mails))
    record(
        Result(
            suite="faults",
            order=9,
            fault="Disk full",
            tried=f"`subbot poll` over {len(mails)} mails with {how}",
            times=1,
            lost=0,
            duplicated=0,
            recovery=f"the next poll once there is room ({took:.1f} s)",
            outcome=(
                f"the poll stopped with the error after recording {recorded} mails whole; the rest were neither "
                "recorded, marked nor answered, nor set aside as failed; all taken in by the next poll"
            ),
        )
    )


def test_read_only_storage_stops_the_poll_before_anything_is_taken(
    tmp_path: Path,
    forks: ForkServer,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    mails: list[Delivery],
    mounts: list[Tmpfs],
) -> None:
    if not can_mount(tmp_path):
        pytest.skip("mounting a tmpfs is not allowed here: no read-only storage to make")
    half = len(mails) // 2
    settings, user = new_mailbox(tmp_path, dovecot, smtp_server, mails[:half])
    data, log = settings.parent / "data", settings.parent / "subbot.log"
    argv = subbot(settings, "poll", "--reply-backlog")
    mounts.append(Tmpfs(data, 64 << 20))
    mounts.append(Tmpfs(data / "raw", 64 << 20))
    assert forks.run(argv, log) == 0, log_text(log)
    before, sent = Ledger.read(data), len(reply_ids(smtp_server))
    deliver(dovecot, user, mails[half:])

    results = []
    for where, tmpfs in (("the raw-mail folder", mounts[1]), ("the whole data folder", mounts[0])):
        tmpfs.read_only()
        assert forks.run(argv, log) != 0
        tmpfs.writable()  # (SQLite reads a WAL ledger only where it may write its index beside it)
        assert any(why in log_text(log) for why in ("Read-only file system", "readonly database"))
        assert Ledger.read(data) == before
        assert keyworded(dovecot, user) == (len(mails), half)
        assert len(reply_ids(smtp_server)) == sent
        results.append(where)

    assert forks.run(argv, log) == 0, log_text(log)
    after = Ledger.read(data)
    assert len(after.messages) == len(mails) and all(m["status"] != "failed" for m in after.messages)
    assert keyworded(dovecot, user) == (len(mails), len(mails))
    assert Counter(reply_ids(smtp_server)) == Counter(r["outgoing_id"] for r in after.replies if r["status"] == "sent")
    assert all(n == 1 for n in Counter(reply_ids(smtp_server)).values())
    record(
        Result(
            suite="faults",
            order=10,
            fault="Storage read-only",
            tried=f"{' and '.join(results)} remounted read-only with {len(mails) - half} new mails waiting",
            times=len(results),
            lost=0,
            duplicated=0,
            recovery="the next poll once writable",
            outcome=(
                "the poll failed at once with the error (raw folder: at the first new mail; whole folder: opening "
                "the ledger); the ledger unchanged, nothing marked or sent; all taken in by the next poll"
            ),
        )
    )


def test_a_locked_ledger_is_waited_for_briefly_and_then_fails_the_poll_loudly(
    tmp_path: Path,
    forks: ForkServer,
    ctx: Context,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    mails: list[Delivery],
) -> None:
    some = mails[:20]
    settings_path, user = new_mailbox(tmp_path, dovecot, smtp_server, some[:10])
    data, log = settings_path.parent / "data", settings_path.parent / "subbot.log"
    assert forks.run(subbot(settings_path, "ledger"), log) == 0  # the ledger made, empty

    # Held for a second and a half: the poll waits (SQLite's busy timeout, 30 s) and goes through.
    with closing(sqlite3.connect(data / "ledger.sqlite3", isolation_level=None, check_same_thread=False)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        release = threading.Timer(1.5, lambda: holder.execute("ROLLBACK"))
        release.start()
        clock = Stopwatch()
        assert forks.run(subbot(settings_path, "poll", "--reply-backlog"), log) == 0, log_text(log)
        waited = clock.seconds()
        release.join()
    assert len(Ledger.read(data).messages) == 10

    # Held for longer than the bot waits (shortened to half a second here): the poll fails, loudly.
    deliver(dovecot, user, some[10:])
    settings = load_settings(settings_path, {"SUBBOT_IMAP_PASSWORD": PASSWORD})
    built = build_app(settings, ctx)
    built.engine.dispose()
    app = dataclasses.replace(built, engine=open_engine(settings.database(), busy_timeout=0.5))
    before, sent = Ledger.read(data), len(reply_ids(smtp_server))
    try:
        with closing(sqlite3.connect(data / "ledger.sqlite3", isolation_level=None)) as holder:
            holder.execute("BEGIN IMMEDIATE")
            assert mail.poll(app, lambda: NOW, False, True) == 6  # said in Chinese, not a traceback
            holder.execute("ROLLBACK")
        assert Ledger.read(data) == before
        assert keyworded(dovecot, user) == (20, 10)
        assert len(reply_ids(smtp_server)) == sent
        assert mail.poll(app, lambda: NOW, False, True) == 0
    finally:
        app.engine.dispose()
    after = Ledger.read(data)
    assert len(after.messages) == 20 and all(m["status"] != "failed" for m in after.messages)
    assert keyworded(dovecot, user) == (20, 20)
    assert all(n == 1 for n in Counter(reply_ids(smtp_server)).values())
    record(
        Result(
            suite="faults",
            order=11,
            fault="Ledger locked by another writer",
            tried="a write transaction held on the SQLite ledger for 1.5 s, then for longer than the bot waits",
            times=2,
            lost=0,
            duplicated=0,
            recovery=f"brief: waited {waited:.1f} s and went on; long: the next poll once released",
            outcome=(
                "a brief lock is waited out (busy timeout 30 s); a longer one fails the poll with "
                "'database is locked', the message in hand neither recorded, marked nor set aside as failed"
            ),
        )
    )
