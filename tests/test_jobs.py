"""Reminders queued from the ledger of a real poll: the right branches, the right addresses, threaded to
their last mail, never twice on one day, and sent through the outbox like every other reply."""

from __future__ import annotations

import datetime as dt
import email
from email.message import Message
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App, build_app, open_mailbox, open_mailer
from bot.cli import main
from bot.demo import seed
from bot.intake.poll import poll_once
from bot.jobs.remind import queue_reminders
from bot.ledger.schema import MessageRow, ReplyRow
from bot.outgoing.outbox import flush_outbox
from config import Context
from config.settings import load_settings

BEIJING = dt.timezone(dt.timedelta(hours=8))
POLLED = dt.datetime(2021, 5, 9, 9, 0, tzinfo=BEIJING)
MISSING = {
    "四川省石油学会",  # wrote 「方案见附件」 with nothing attached: still no plan
    "石油化工专业委员会",
    "青年工作委员会",
    "大庆油田科技馆",
    "中国石油大学（北京）科普基地",
    "胜利油田科技展览馆",
}
TO_CORRECT = {"石油炼制分会", "黑龙江省石油学会"}


@pytest.fixture
def app(tmp_path: Path, ctx: Context) -> App:
    settings = load_settings(seed(tmp_path), {})
    app = build_app(settings, ctx)
    with open_mailbox(settings) as mailbox:
        poll_once(mailbox, app.engine, app.store, app.services, lambda: POLLED)
    return app


def remind(app: App, now: dt.datetime) -> list[Message]:
    with Session(app.engine) as session, session.begin():
        queue_reminders(session, app.ctx, app.services.letterhead, now)
    outbox = app.settings.smtp.outbox_dir
    before = set(outbox.glob("*.eml"))
    flush_outbox(app.engine, open_mailer(app.settings), app.settings.bot.from_address, lambda: now)
    return [
        email.message_from_bytes(p.read_bytes(), policy=default) for p in sorted(set(outbox.glob("*.eml")) - before)
    ]


def test_one_day_before_the_deadline_missing_and_uncorrected_branches_are_reminded(app: App) -> None:
    sent = remind(app, dt.datetime(2021, 5, 5, 9, 30, tzinfo=BEIJING))
    with Session(app.engine) as session:
        rows = list(session.execute(select(ReplyRow).where(ReplyRow.kind == "reminder")).scalars())
        submissions = select(MessageRow).where(MessageRow.kind == "submission").order_by(MessageRow.arrived_at)
        last_ids = {m.branch: m.message_id for m in session.execute(submissions).scalars() if m.branch}
    assert {r.branch: r.reason for r in rows} == {b: "missing" for b in MISSING} | {b: "correction" for b in TO_CORRECT}
    assert {(r.status, r.deliverable, r.for_day) for r in rows} == {("sent", "plan", dt.date(2021, 5, 5))}
    roster = {b.name: b for b in app.roster.branches}
    by_to = {str(m["To"]): m for m in sent}
    assert len(sent) == 8
    for row in rows:
        message = by_to[row.to_address]
        assert message["Auto-Submitted"] == "auto-replied"
        assert "提醒" in str(message["Subject"]) and "2021年05月06日24时" in str(message["Subject"])
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert row.branch in text and "还有 1 天" in text
        # Threaded to the branch's last mail, when it sent one (a summary, here, for a missing plan).
        assert message["In-Reply-To"] == last_ids.get(row.branch)
        if row.reason == "missing":
            assert row.to_address == roster[row.branch].emails[0]
            assert "尚未收到" in text
        else:
            assert "还需修改" in text


def test_never_twice_on_one_day_and_only_on_reminder_days(app: App) -> None:
    assert len(remind(app, dt.datetime(2021, 5, 3, 9, 0, tzinfo=BEIJING))) == 8  # three days before
    assert remind(app, dt.datetime(2021, 5, 3, 17, 0, tzinfo=BEIJING)) == []
    assert remind(app, dt.datetime(2021, 5, 4, 9, 0, tzinfo=BEIJING)) == []
    assert remind(app, dt.datetime(2021, 5, 5, 8, 59, tzinfo=BEIJING)) == []  # before the hour
    assert len(remind(app, dt.datetime(2021, 5, 5, 9, 0, tzinfo=BEIJING))) == 8
    assert remind(app, dt.datetime(2021, 5, 6, 9, 0, tzinfo=BEIJING)) == []  # the deadline day is not listed
    assert remind(app, dt.datetime(2021, 5, 7, 9, 0, tzinfo=BEIJING)) == []  # nor any day after it


def test_the_remind_command_lists_in_a_dry_run_and_sends_once(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def subbot(*args: str) -> str:
        assert main(["--settings", str(tmp_path / "bot.toml"), "--now", "2021-05-05T09:30", *args]) == 0
        return capsys.readouterr().out

    listed = subbot("remind", "--dry-run")
    assert "今天应提醒 8 个单位" in listed and "石油炼制分会：活动筹备方案待修改，距截止 1 天" in listed
    outbox = tmp_path / "outbox"
    assert not outbox.exists() or not list(outbox.glob("*.eml"))
    assert "新排队 8 封；发件箱本次发出 8 封" in subbot("remind")
    assert "新排队 0 封；发件箱本次发出 0 封" in subbot("remind")
    assert len(list(outbox.glob("*.eml"))) == 8
