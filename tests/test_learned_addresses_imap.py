"""Who sent it, over Dovecot and aiosmtpd (issue 15): a branch's staff member writes from a personal address.
Its plan is credited by the form's organiser cell and the address learned; six weeks later its summary from the
same address is the branch's (ledger, digest, no summary reminder). A summary from a new unknown address is
matched by the branch named in its subject and flagged for staff. A learned address that sends for another
branch is held for a person; one whose mail fails DMARC is held as a roster address's would be. Staff take a
learned address back with `subbot forget`, and what it alone credited goes back to an unknown sender."""

from __future__ import annotations

import datetime as dt
import json
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import openpyxl
import pytest
from imap_bot import Bot, Sent, sent, write_settings
from servers.dovecot import PASSWORD, Dovecot
from servers.smtp import SmtpServer
from sqlalchemy.orm import Session
from standings import ledger
from summary_files import photo, summary_docx

from bot.cli import main
from bot.demo import filled_entry
from bot.forms.layout import form_layout
from bot.jobs.digest.mail import current_digest
from bot.jobs.digest.model import Digest
from config import Context
from parsers.form_writer import write_form

BEIJING = dt.timezone(dt.timedelta(hours=8))
SHIHUA = "石油化工专业委员会"  # roster address shihua.zwh@example.org
GONGCHENG = "石油工程专业委员会"
DIZHI = "石油地质专业委员会"
BJ = ("北京石油学会", "bjsyxh@example.com")
PERSONAL = "zhang.san.1984@qq.com"
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
MX = "mx.example.org"  # the receiving server whose Authentication-Results count


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2021, month, day, hour, tzinfo=BEIJING)


def write(
    dovecot: Dovecot, user: str, sender: tuple[str, str], subject: str, when: dt.datetime,
    files: list[tuple[str, bytes, tuple[str, str]]], auth: str = "",
) -> None:
    message = EmailMessage()
    if auth:
        message["Authentication-Results"] = f"{MX}; {auth}"
    message["From"] = f"{sender[0]} <{sender[1]}>"
    message["To"] = "中国石油学会科普咨询部 <kepu@example.org>"
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = make_msgid(domain=sender[1].rpartition("@")[2])
    message.set_content("您好，附件请查收。")
    for name, data, (maintype, subtype) in files:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    dovecot.append(user, message.as_bytes(), internal_date=when)


def plan(ctx: Context, organiser: str, title: str) -> list[tuple[str, bytes, tuple[str, str]]]:
    data = write_form(form_layout(ctx.campaign), [filled_entry(organiser, title, "第一阶段；5月20日")])
    return [("筹备方案.docx", data, DOCX)]


def summary(title: str) -> list[tuple[str, bytes, tuple[str, str]]]:
    document = summary_docx(title, "5月20日，我会在社区举办科普讲座，听众约二百人。", pictures=1)
    pictures = [(f"现场{i}.jpg", photo((40 * i, 90, 120), at(5, 20)), ("image", "jpeg")) for i in range(1, 3)]
    return [(f"{title}.docx", document, DOCX), *pictures]


def cli(settings: Path, now: dt.datetime, *args: str) -> int:
    return main(["--settings", str(settings), "--now", now.isoformat(), *args])


@pytest.fixture
def world(
    tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, ctx: Context,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Bot, Path]:
    monkeypatch.setenv("SUBBOT_IMAP_PASSWORD", PASSWORD)
    settings = write_settings(tmp_path, dovecot, imap_user, smtp_server, authserv_ids=[MX])  # type: ignore[arg-type]
    return Bot(settings, ctx), settings


def test_a_personal_address_learned_from_the_plan_brings_the_summary_home(
    world: tuple[Bot, Path], dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, ctx: Context,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bot, settings = world

    def poll(when: dt.datetime) -> list[Sent]:
        before = len(smtp_server.received)
        bot.poll(when + dt.timedelta(minutes=5))
        return sent(smtp_server)[before:]

    def digest(when: dt.datetime) -> Digest:
        with Session(bot.app.engine) as session:
            return current_digest(session, ctx, when)

    # The plan from a personal address, credited by its organiser cell; 北京石油学会's from its roster address.
    write(dovecot, imap_user, ("张三", PERSONAL), "科技工作者日活动筹备方案", at(4, 28), plan(ctx, SHIHUA, "炼化开放日"))
    write(dovecot, imap_user, BJ, "筹备方案", at(4, 28, 11), plan(ctx, BJ[0], "社区科普讲座"))
    replies = poll(at(4, 28, 11))
    assert sorted(r.rcpt[0] for r in replies) == sorted([PERSONAL, BJ[1]])
    rows = ledger(settings, capsys)
    assert rows[(SHIHUA, "plan")]["status"] == "accepted"
    learned = digest(at(4, 29, 8)).learned
    assert [(a.address, a.branch, a.how) for a in learned] == [(PERSONAL, SHIHUA, "organiser")]

    # Six weeks later the summary from the same address is the branch's: no row for an unknown sender.
    write(dovecot, imap_user, ("张三", PERSONAL), f"{SHIHUA}科技工作者日活动总结", at(6, 10), summary("活动总结"))
    (ack,) = poll(at(6, 10))
    assert ack.rcpt == (PERSONAL,) and "已收到" in ack.mail.subject
    rows = ledger(settings, capsys)
    assert rows[(SHIHUA, "summary")]["status"] == "accepted"
    assert not [key for key in rows if PERSONAL in key[0]]
    (message,) = [m for m in bot.messages() if m.deliverable == "summary"]
    assert (message.branch, message.matched_by) == (SHIHUA, "learned")

    # The summary reminder three days before the deadline goes to 北京石油学会, which owes one, not to 石化.
    capsys.readouterr()
    assert cli(settings, at(6, 15, 9), "remind", "--dry-run") == 0
    due = capsys.readouterr().out
    assert BJ[0] in due and SHIHUA not in due

    # A summary from a new unknown address, named in its subject: matched to that branch, flagged for staff.
    stranger = ("李四", "lisi.kepu@163.com")
    write(dovecot, imap_user, stranger, f"{GONGCHENG}活动总结", at(6, 11), summary("科普活动总结"))
    (named,) = poll(at(6, 11))
    assert "已按邮件中的单位名称记为「石油工程专业委员会」的活动总结" in named.mail.body_text
    (row,) = [m for m in bot.messages() if m.sender == stranger[1]]
    assert (row.branch, row.matched_by) == (GONGCHENG, "named")
    assert [(a.address, a.how) for a in digest(at(6, 12, 8)).learned] == [(stranger[1], "summary")]

    # The learned address sends a plan for another roster branch: held for a person, credited to neither.
    write(dovecot, imap_user, ("张三", PERSONAL), "地质专委会方案", at(6, 12), plan(ctx, DIZHI, "地质科普进校园"))
    (note,) = poll(at(6, 12))
    assert "已转工作人员" in note.mail.subject
    rows = ledger(settings, capsys)
    assert rows[(DIZHI, "plan")]["status"] == "missing"
    (held,) = [x for x in digest(at(6, 13, 8)).set_aside if x.reason == "for_person"]
    assert SHIHUA in held.detail and DIZHI in held.detail

    # A mail from the learned address that the receiving server failed: held as a roster address's would be.
    forged = ("张三", PERSONAL)
    write(dovecot, imap_user, forged, "活动总结补充", at(6, 13), summary("补充总结"), auth="dmarc=fail header.from=qq.com")
    assert poll(at(6, 13)) == []
    (suspect,) = [x for x in digest(at(6, 14, 8)).set_aside if x.reason == "unauthenticated"]
    assert PERSONAL in suspect.who

    # The 汇总表 keeps every address learned, with how and the line that takes it back.
    workbook = settings.parent / "汇总表.xlsx"
    assert cli(settings, at(6, 14, 8), "export", "--xlsx", str(workbook)) == 0
    sheet = openpyxl.load_workbook(workbook)["单位地址（系统记下）"]
    rows_read = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=5) if row[0].value]
    assert [(r[1], r[2], r[4], r[6]) for r in rows_read] == [
        (SHIHUA, PERSONAL, "P2021-0001", f"移除地址 {PERSONAL}"),
        (GONGCHENG, stranger[1], row.receipt, f"移除地址 {stranger[1]}"),
    ]

    # Staff take the address back: the summary it alone credited is an unknown sender's again, and the branch
    # owes its summary once more; the plan stays the branch's (its form names it).
    capsys.readouterr()
    assert cli(settings, at(6, 14), "forget", PERSONAL, "--json") == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["done"] and SHIHUA in answer["message"]
    rows = ledger(settings, capsys)
    assert rows[(SHIHUA, "plan")]["status"] == "accepted"
    assert rows[(SHIHUA, "summary")]["status"] == "missing"
    assert [a.address for a in digest(at(6, 15, 8)).learned] == []
    assert cli(settings, at(6, 14), "forget", PERSONAL) == 1  # nothing left to take back
