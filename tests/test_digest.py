"""The staff's daily digest over a ledger filled by really polling the demo's Maildir, in two rounds with a
digest between them: what it counts and lists (checked against the ledger), what staff read, and that each
staff address gets it once a day, through the outbox and a real SMTP server."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import json
import shutil
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest
from servers.smtp import SmtpServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import wording
from bot.app import App, build_app, open_mailbox
from bot.cli import main
from bot.demo import seed
from bot.intake.poll import poll_once
from bot.intake.take import keep_raw, record_failure
from bot.jobs.digest.facts import Snapshot
from bot.jobs.digest.mail import digest_key, queue_digest
from bot.jobs.digest.model import Digest, build_digest
from bot.jobs.digest.query import read_snapshot
from bot.jobs.digest.rollup import rollup_name
from bot.jobs.digest.view import render_digest
from bot.jobs.remind import queue_reminders
from bot.ledger.schema import ActivityRow, FindingRow, MessageRow, ReplyRow
from bot.ledger.status import branch_statuses
from bot.mailbox.port import Fetched, MessageRef
from bot.outgoing.mailer import OutboxDir, SmtpMailer, SmtpSettings
from bot.outgoing.outbox import flush_outbox
from config import ConfigError, Context
from config.settings import load_settings

ZONE = dt.timezone(dt.timedelta(hours=8))
FIRST_POLL = dt.datetime(2021, 5, 5, 10, 30, tzinfo=ZONE)  # mails up to 5 May 10:00 are in the inbox
FIRST_DIGEST = dt.datetime(2021, 5, 6, 8, 0, tzinfo=ZONE)
SECOND_POLL = dt.datetime(2021, 5, 9, 8, 30, tzinfo=ZONE)  # the rest, up to the summary of 15 June
SECOND_DIGEST = dt.datetime(2021, 5, 9, 9, 0, tzinfo=ZONE)
STAFF = ("kepu@example.org", "yezhang@example.org")


@dataclass(frozen=True)
class Rounds:
    app: App
    settings: Path
    first: Digest  # as queued on 6 May
    second: Digest  # as it would be sent on 9 May


def _poll(app: App, now: dt.datetime, outbox: Path) -> None:
    with open_mailbox(app.settings) as mailbox:
        poll_once(mailbox, app.engine, app.store, app.services, lambda: now, reply_backlog=True)
    flush_outbox(app.engine, OutboxDir(outbox), app.settings.bot.from_address, lambda: now)


def _digest(app: App, now: dt.datetime) -> Digest:
    with Session(app.engine) as session:
        snapshot = read_snapshot(session, app.roster, now)
    return build_digest(snapshot, app.roster, app.campaign, now)


@pytest.fixture
def rounds(tmp_path: Path, ctx: Context) -> Rounds:
    settings_path = seed(tmp_path)
    with settings_path.open("a", encoding="utf-8") as out:
        out.write(f"\n[digest]\nto = {json.dumps(list(STAFF))}\n")
    later = tmp_path / "later"
    later.mkdir()
    for path in (tmp_path / "inbox" / "new").iterdir():
        if path.stat().st_mtime > FIRST_POLL.timestamp():
            shutil.move(path, later / path.name)
    app = build_app(load_settings(settings_path, {}), ctx)
    _poll(app, FIRST_POLL, tmp_path / "outbox")
    with Session(app.engine) as session, session.begin():
        reminded = queue_reminders(session, app.ctx, app.services.letterhead, FIRST_POLL)
    assert reminded.queued > 0
    first = _digest(app, FIRST_DIGEST)
    with Session(app.engine) as session, session.begin():
        queue_digest(session, app.ctx, app.services.letterhead, STAFF, FIRST_DIGEST)
    flush_outbox(app.engine, OutboxDir(tmp_path / "outbox"), "kepu@example.org", lambda: FIRST_DIGEST)
    for path in later.iterdir():
        shutil.move(path, tmp_path / "inbox" / "new" / path.name)
    _poll(app, SECOND_POLL, tmp_path / "outbox")
    return Rounds(app, settings_path, first, _digest(app, SECOND_DIGEST))


def test_counts_agree_with_the_ledgers_branch_statuses(rounds: Rounds) -> None:
    with Session(rounds.app.engine) as session:
        statuses = branch_statuses(session, rounds.app.roster)
    digest = rounds.second
    # On 9 May the plan's deadline (6 May) has passed: the summary is current, the plan comes second.
    assert [c.deliverable for c in digest.counts] == ["summary", "plan"]
    plan = digest.counts[1]
    known = [s for s in statuses if s.known and s.deliverable == "plan"]
    assert plan.accepted == sum(s.status == "accepted" for s in known) > 0
    assert plan.missing == sum(s.status == "missing" for s in known) > 0
    assert plan.correcting == len(known) - plan.accepted - plan.missing > 0
    assert plan.late == 1  # 新疆石油学会, two days after the deadline
    assert plan.unknown == 1  # 某市科协
    assert (plan.deadline_day, plan.days_left) == (dt.date(2021, 5, 6), -3)
    assert (digest.counts[0].days_left, rounds.first.counts[0].days_left) == (40, 0)
    assert rounds.first.current == "plan"


def test_arrivals_are_what_came_since_the_last_digest_newest_first(rounds: Rounds) -> None:
    with Session(rounds.app.engine) as session:
        first_digest = session.execute(select(ReplyRow).where(ReplyRow.kind == "digest")).scalars().first()
        assert first_digest is not None
        since = first_digest.created_at.replace(tzinfo=dt.UTC)
        recorded = session.execute(select(MessageRow.arrived_at, MessageRow.recorded_at)).all()
    later = sorted((a for a, r in recorded if r.replace(tzinfo=dt.UTC) > since), reverse=True)
    digest = rounds.second
    assert digest.since == FIRST_DIGEST
    assert [a.at.replace(tzinfo=None) for a in digest.arrivals] == [
        a.replace(tzinfo=dt.UTC).astimezone(ZONE).replace(tzinfo=None) for a in later
    ]
    assert len(digest.arrivals) == 6 and len(rounds.first.arrivals) == 6
    outcomes = {a.who: a.outcome for a in digest.arrivals}
    assert outcomes["新疆石油学会"] == "accepted" and outcomes["石油炼制分会"] == "needs_correction"
    assert outcomes["青年工作委员会"] == "auto_reply"
    assert [a.late for a in digest.arrivals if a.who == "新疆石油学会"] == [True]


def test_corrections_waiting_carry_the_ledgers_findings_and_how_long(rounds: Rounds) -> None:
    digest = rounds.second
    with Session(rounds.app.engine) as session:
        for waiting in digest.waiting:
            message = session.execute(
                select(MessageRow)
                .where(MessageRow.branch == waiting.branch, MessageRow.deliverable == waiting.deliverable)
                .order_by(MessageRow.arrived_at.desc())
            ).scalar_one_or_none() or pytest.fail(waiting.branch)
            errors = session.execute(
                select(FindingRow.message).where(FindingRow.message_pk == message.id, FindingRow.severity == "error")
            ).scalars()
            assert waiting.problems == tuple(errors) != ()
            assert waiting.waited == SECOND_DIGEST - message.arrived_at.replace(tzinfo=dt.UTC)
    with Session(rounds.app.engine) as session:
        statuses = branch_statuses(session, rounds.app.roster)
    correcting = {"needs_correction", "unreadable", "no_attachment"}
    assert {(w.branch, w.deliverable) for w in digest.waiting} == {
        (s.branch, s.deliverable) for s in statuses if s.known and s.status in correcting
    }
    # The photo and the blank form wait; 工程专委会 corrected its form on 5 May; 四川's mail without its file
    # brought no plan: it is missing, not waiting.
    assert {"黑龙江省石油学会", "石油炼制分会"} <= {w.branch for w in digest.waiting}
    assert "四川省石油学会" not in {w.branch for w in digest.waiting}
    assert "石油工程专业委员会" not in {w.branch for w in digest.waiting}
    assert [w.asked for w in digest.waiting] == sorted((w.asked for w in digest.waiting), reverse=True)


def test_missing_branches_come_with_roster_addresses_and_their_forms_contact(rounds: Rounds) -> None:
    digest = rounds.second
    # Both deliverables are within two weeks of 9 May? Only the plan (overdue); the summary is 40 days away.
    assert digest.missing_listed == ("plan",)
    missing = {m.branch: m for m in digest.missing}
    roster = {b.name: b for b in rounds.app.roster.branches}
    assert set(missing) == {
        "四川省石油学会",  # its mail said 「方案见附件」 and carried nothing
        "石油化工专业委员会",
        "青年工作委员会",
        "大庆油田科技馆",
        "中国石油大学（北京）科普基地",
        "胜利油田科技展览馆",
    }
    for name, row in missing.items():
        assert row.emails == roster[name].emails and row.overdue
    # Before the plan's deadline the summary is far: the first digest names only plan branches.
    assert {m.deliverable for m in rounds.first.missing} == {"plan"}
    # A branch that sent a form has its contact from it, for the summary list that comes later.
    later = build_digest(
        _snapshot(rounds.app, dt.datetime(2021, 6, 10, 9, tzinfo=ZONE)),
        rounds.app.roster,
        rounds.app.campaign,
        dt.datetime(2021, 6, 10, 9, tzinfo=ZONE),
    )
    summary = {m.branch: m for m in later.missing if m.deliverable == "summary"}
    contact = summary["北京石油学会"].contact
    assert contact is not None and (contact.name, contact.mobile) == ("王玥", "13912345678")


def _snapshot(app: App, now: dt.datetime) -> Snapshot:
    with Session(app.engine) as session:
        return read_snapshot(session, app.roster, now)


def test_mail_set_aside_failed_unknown_bounced_and_refused(rounds: Rounds, smtp_server: SmtpServer) -> None:
    app = rounds.app
    broken = b"From: someone\r\nSubject: x\r\n\r\nbody"
    fetched = Fetched(MessageRef("maildir:test", 1, "broken"), broken, SECOND_POLL)
    failed = record_failure(app.engine, fetched, keep_raw(app.store, fetched), "Traceback\nValueError: 坏邮件", SECOND_POLL)
    with Session(app.engine) as session, session.begin():
        queue_digest(session, app.ctx, app.services.letterhead, ("nobody@example.org",), SECOND_DIGEST)
    smtp_server.handler.refusals["RCPT"] = "550 5.1.1 no such user"
    mailer = SmtpMailer(SmtpSettings(smtp_server.host, smtp_server.port, "", "", security="plain", timeout=10))
    assert flush_outbox(app.engine, mailer, "kepu@example.org", lambda: SECOND_DIGEST).failed == 1
    digest = _digest(app, SECOND_DIGEST + dt.timedelta(minutes=1))
    reasons = {(x.reason, x.who) for x in digest.set_aside}
    assert ("unknown_sender", "某市科协 <office@kexie.example.net>") in reasons
    assert ("bounce", "Mail Delivery System <mailer-daemon@example.org>") in reasons
    assert ("reply_refused", "nobody@example.org") in reasons
    failed_row = next(x for x in digest.set_aside if x.reason == "failed")
    assert (failed_row.message_pk, failed_row.detail) == (failed.message_pk, "ValueError: 坏邮件")
    assert [x.at for x in digest.set_aside] == sorted((x.at for x in digest.set_aside), reverse=True)
    assert (digest.health.failed_mails, digest.health.refused) == (1, 1)
    text = render_digest(digest, app.services.letterhead.renderer).text
    assert f"subbot retry {failed.message_pk}" in text and "回复被拒收" in text


def test_health_shows_the_last_poll_and_replies_stuck_in_the_outbox(rounds: Rounds) -> None:
    app = rounds.app
    health = rounds.second.health
    assert [(p.mailbox, p.last_ok, p.stale) for p in health.polls] == [
        (f"maildir:{app.settings.mailbox.path}", SECOND_POLL, False)
    ]
    assert (health.pending, health.stuck, health.ok) == (0, (), True)
    # The SMTP server goes away: the digest queued on 9 May cannot leave; by noon it is stuck, the poll stale.
    with Session(app.engine) as session, session.begin():
        queue_digest(session, app.ctx, app.services.letterhead, STAFF, SECOND_DIGEST)
    down = SmtpMailer(SmtpSettings("127.0.0.1", 9, "", "", security="plain", timeout=5))
    assert flush_outbox(app.engine, down, "kepu@example.org", lambda: SECOND_DIGEST).deferred >= 1
    noon = _digest(app, dt.datetime(2021, 5, 9, 12, 0, tzinfo=ZONE)).health
    assert noon.pending == 2 and {s.kind for s in noon.stuck} == {"digest"} and noon.stuck[0].attempts >= 1
    assert noon.polls[0].stale and not noon.ok


def test_reminders_and_replies_since_the_last_digest_are_shown(rounds: Rounds) -> None:
    with Session(rounds.app.engine) as session:
        reminders = session.execute(select(ReplyRow).where(ReplyRow.kind == "reminder")).scalars().all()
        expected = sorted((r.branch, r.deliverable) for r in reminders)
    assert sorted((r.branch, r.deliverable) for r in rounds.first.reminders) == expected
    assert dict(rounds.first.sent)["reminder"] == len(expected)
    assert rounds.second.reminders == ()  # none since 6 May
    with Session(rounds.app.engine) as session:
        replies = session.execute(
            select(ReplyRow.kind).where(ReplyRow.message_pk.is_not(None), ReplyRow.created_at > FIRST_DIGEST)
        ).scalars()
        expected_sent: dict[str, int] = {}
        for kind in replies:
            expected_sent[kind] = expected_sent.get(kind, 0) + 1
    assert dict(rounds.second.sent) == expected_sent and expected_sent["ack"] >= 2
    text = render_digest(rounds.first, rounds.app.services.letterhead.renderer).text
    assert all(f"催报提醒：{branch}" in text for branch, _ in expected)


def test_module_and_stage_counts_are_the_ledgers_current_activities(rounds: Rounds) -> None:
    names = {b.name for b in rounds.app.roster.branches}
    with Session(rounds.app.engine) as session:
        rows = session.execute(
            select(ActivityRow.data, ActivityRow.accepted, MessageRow.branch)
            .join(MessageRow, MessageRow.id == ActivityRow.message_pk)
            .where(ActivityRow.current.is_(True))
        ).all()
    current = [(json.loads(data), accepted) for data, accepted, branch in rows if branch in names]
    digest = rounds.second
    for tally in digest.modules:
        assert tally.accepted == sum(ok and tally.name in d["modules"] for d, ok in current)
        assert tally.correcting == sum(not ok and tally.name in d["modules"] for d, ok in current)
    for stage in digest.stages:
        assert stage.accepted == sum(ok and d["stage"] == stage.number for d, ok in current)
    assert sum(s.accepted for s in digest.stages) == len(digest.activities) == sum(ok for _, ok in current) == 5


def test_text_and_html_say_it_in_chinese_with_everything_escaped(rounds: Rounds) -> None:
    rendered = render_digest(rounds.second, rounds.app.services.letterhead.renderer, rollup_name(rounds.second))
    assert rendered.subject.startswith("【2021科技工作者日】每日报送摘要 5月9日：活动总结已受理")
    assert "筹备方案逾期未报6家" in rendered.subject  # 四川 wrote, but sent no plan
    waiting = len(rounds.second.waiting)
    sections = (
        ("报送情况", ""),
        ("新到邮件", "6封"),
        ("待修改", f"{waiting}家"),
        ("筹备方案未报送", "6家"),
        ("逾期报送", "1家"),
    )
    for name, count in sections:
        assert f"【{name}】" + (f"（{count}" if count else "") in rendered.text
        assert f">{name}" + (f"（{count}" if count else "") in rendered.html
    for arrival in rounds.second.arrivals:
        assert arrival.who in rendered.text
    assert "活动总结距截止还有40天（6月18日24时），尚有11家未报送" in rendered.text
    assert "&lt;office@kexie.example.net&gt;" in rendered.html and "<office@" not in rendered.html
    assert "2021科技工作者日汇总表-20210509.xlsx" in rendered.html
    assert "<style" not in rendered.html  # every style inline: mail clients drop style sheets
    assert wording.duration(dt.timedelta(days=3, hours=5, minutes=7)) == "3天5小时"


def test_digest_goes_once_a_day_to_each_address_with_the_workbook(rounds: Rounds, smtp_server: SmtpServer) -> None:
    app = rounds.app
    with Session(app.engine) as session, session.begin():
        first = queue_digest(session, app.ctx, app.services.letterhead, STAFF, SECOND_DIGEST)
    with Session(app.engine) as session, session.begin():
        again = queue_digest(session, app.ctx, app.services.letterhead, STAFF, SECOND_DIGEST + dt.timedelta(hours=3))
    assert (first.queued, again.queued, again.already) == (2, 0, 2)
    mailer = SmtpMailer(SmtpSettings(smtp_server.host, smtp_server.port, "", "", security="plain", timeout=10))
    assert flush_outbox(app.engine, mailer, "kepu@example.org", lambda: SECOND_DIGEST).sent == 2
    received = [r for r in smtp_server.received if r.rcpt_tos[0] in STAFF]
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(STAFF)
    message = email.message_from_bytes(received[0].raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Message-ID"] == f"<{digest_key(dt.date(2021, 5, 9), received[0].rcpt_tos[0])}@example.org>"
    assert str(message["Subject"]).startswith("【2021科技工作者日】每日报送摘要 5月9日")
    body = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert body is not None and "每日报送摘要" in body.get_content()
    assert html is not None and "<table" in html.get_content()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "2021科技工作者日汇总表-20210509.xlsx"
    assert attachment.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert message["Auto-Submitted"] == "auto-generated"
    book = openpyxl.load_workbook(io.BytesIO(attachment.get_payload(decode=True)))
    assert book.sheetnames == ["汇总表", "活动总结", "报送情况", "统计", "工作人员处理记录", "单位地址（系统记下）"]
    with Session(app.engine) as session:
        rows = session.execute(select(ReplyRow).where(ReplyRow.kind == "digest")).scalars().all()
    assert sorted((r.for_day, r.to_address) for r in rows) == sorted(
        [(dt.date(2021, 5, 6), a) for a in STAFF] + [(dt.date(2021, 5, 9), a) for a in STAFF]
    )


def test_cli_previews_exports_and_sends_once(rounds: Rounds, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--settings", str(rounds.settings), "--now", "2021-05-09T09:00"]
    preview = rounds.settings.parent / "预览" / "digest.html"
    assert main([*base, "digest", "--preview", str(preview)]) == 0
    assert "每日报送摘要" in preview.read_text(encoding="utf-8")
    workbook = rounds.settings.parent / "汇总表.xlsx"
    assert main([*base, "export", "--xlsx", str(workbook)]) == 0
    assert openpyxl.load_workbook(workbook)["汇总表"].max_row == 4 + 5
    outbox = rounds.settings.parent / "outbox"
    before = len(list(outbox.glob("*.eml")))
    assert main([*base, "digest", "--send"]) == 0
    assert main([*base, "digest", "--send"]) == 0
    assert len(list(outbox.glob("*.eml"))) == before + len(STAFF)
    out = capsys.readouterr().out
    assert "新排队2封" in out and "2位今天已发过" in out and "汇总表已写入" in out


def test_send_without_staff_addresses_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = seed(tmp_path)
    assert main(["--settings", str(settings), "--now", "2021-05-09T09:00", "digest", "--send"]) == 3
    assert "[digest]" in capsys.readouterr().err


def test_digest_settings_from_file_and_environment() -> None:
    example = load_settings(Path(__file__).resolve().parents[1] / "config" / "bot.example.toml", {})
    assert example.digest.to == ("kepu@example.org",) and example.digest.hour == dt.time(8, 0)
    env = load_settings(None, {"SUBBOT_DIGEST_TO": "a@example.org,b@example.org", "SUBBOT_DIGEST_HOUR": "07:30"})
    assert env.digest.to == ("a@example.org", "b@example.org") and env.digest.hour == dt.time(7, 30)
    with pytest.raises(ConfigError, match=r"digest\.to"):
        load_settings(None, {"SUBBOT_DIGEST_TO": "科普部"})
