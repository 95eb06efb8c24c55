"""The whole bot on a Maildir inbox (the demo's setup): every mail recorded once, the right replies,
threaded and marked automatic; a second poll and a restart change nothing."""

from __future__ import annotations

import datetime as dt
import email
import os
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App, build_app, open_mailbox, open_mailer
from bot.demo import Sample, day, seed, write_message
from bot.intake.poll import PollReport, poll_once
from bot.ledger.schema import MessageRow, ReplyRow
from bot.outgoing.outbox import FlushReport, flush_outbox
from config import Context
from config.settings import load_settings

NOW = dt.datetime(2021, 5, 9, 1, 0, tzinfo=dt.UTC)


def _poll(settings_path: Path, ctx: Context) -> tuple[App, tuple[PollReport, FlushReport]]:
    settings = load_settings(settings_path, {})
    app = build_app(settings, ctx)
    with open_mailbox(settings) as mailbox:
        report = poll_once(mailbox, app.engine, app.store, app.services, lambda: NOW, reply_backlog=True)
        flushed = flush_outbox(
            app.engine, open_mailer(settings), settings.bot.from_address, lambda: NOW, mailbox.append_sent
        )
    return app, (report, flushed)


def test_seeded_inbox_is_recorded_once_and_answered_right(tmp_path: Path, ctx: Context) -> None:
    settings_path = seed(tmp_path)
    app, (report, flushed) = _poll(settings_path, ctx)
    assert (report.new, report.processed, report.failed) == (12, 12, 0)
    assert flushed.sent == 10
    with Session(app.engine) as session:
        rows = {m.sender: m for m in session.execute(select(MessageRow)).scalars()}
        replies = {r.to_address: r for r in session.execute(select(ReplyRow)).scalars()}
    assert rows["qingnian@example.com"].kind == "auto_reply" and "qingnian@example.com" not in replies
    assert rows["mailer-daemon@example.org"].kind == "bounce"
    assert rows["xjsyxh@example.com"].late and rows["xjsyxh@example.com"].verdict == "accepted"
    assert rows["bjsyxh@example.com"].late is False
    assert rows["office@kexie.example.net"].branch is None
    assert replies["scsyxh@example.org"].kind == "correction"  # no attachment
    assert replies["hljsyxh@example.net"].kind == "correction"  # a photo of the form
    assert replies["lianzhi@example.com"].kind == "correction"  # the blank form sent back
    outbox = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(outbox) == 10
    sent = [email.message_from_bytes(p.read_bytes()) for p in outbox]
    for message in sent:
        assert message["Auto-Submitted"] == "auto-replied"
        assert message["In-Reply-To"] and message["X-Subbot-Reply"]
    _, (report2, flushed2) = _poll(settings_path, ctx)
    assert (report2.new, flushed2.sent) == (0, 0)
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 10


def test_the_reply_cap_counts_by_the_day_mail_arrived_so_a_backlog_after_an_outage_is_answered(
    tmp_path: Path, ctx: Context
) -> None:
    """Six mails from one sender on one day: five answers (a loop is stopped). Six spread over three
    days and polled together after an outage: six answers."""
    settings_path = seed(tmp_path)
    inbox = tmp_path / "inbox" / "new"
    for path in inbox.iterdir():
        path.unlink()
    same_day = [day(5, 3, h) for h in range(9, 15)]
    spread = [day(5, 3, 9), day(5, 3, 10), day(5, 4, 9), day(5, 4, 10), day(5, 5, 9), day(5, 5, 10)]
    for n, (when, address) in enumerate(
        [(t, "loop@example.com") for t in same_day] + [(t, "outage@example.com") for t in spread]
    ):
        sample = Sample("某学会", address, f"方案 {n}", when, "方案见附件。")  # no attachment: a correction each
        path = inbox / f"{int(when.timestamp())}.{n:03d}.test"
        path.write_bytes(write_message(sample))
        os.utime(path, (when.timestamp(), when.timestamp()))
    app, (report, _) = _poll(settings_path, ctx)
    assert report.processed == 12
    with Session(app.engine) as session:
        replies = [r.to_address for r in session.execute(select(ReplyRow)).scalars()]
    assert replies.count("loop@example.com") == 5
    assert replies.count("outage@example.com") == 6
