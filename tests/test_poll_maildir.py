"""The whole bot on a Maildir inbox (the demo's setup): every mail recorded once, the right replies,
threaded and marked automatic; a second poll and a restart change nothing."""

from __future__ import annotations

import datetime as dt
import email
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App, build_app, open_mailbox, open_mailer
from bot.demo import seed
from bot.ledger.schema import MessageRow, ReplyRow
from bot.outbox import FlushReport, flush_outbox
from bot.poll import PollReport, poll_once
from bot.rules import Context
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
