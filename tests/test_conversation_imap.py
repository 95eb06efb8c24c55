"""A branch that writes as people do, end to end over Dovecot and aiosmtpd: after each of its mails, the replies
the SMTP server received and the standing `subbot ledger --json` shows. A thank-you changes nothing and gets no
answer; a question goes to a person (the branch told so); a cloud link is answered that it cannot be opened; a
resent form's renamed activity is the same activity, a dropped one withdrawn; an unreadable resend leaves the
accepted version standing. Reply-To credits no branch."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from imap_bot import Bot, Sent, sent, write_settings
from servers.dovecot import PASSWORD, Dovecot
from servers.smtp import SmtpServer
from sqlalchemy.orm import Session
from standings import ledger

from bot.cli import main
from bot.demo import filled_entry
from bot.forms.layout import form_layout
from bot.jobs.digest.mail import current_digest
from bot.ledger import activities
from config import Context
from parsers.form_writer import FormEntry, write_form

BEIJING = dt.timezone(dt.timedelta(hours=8))
BJ = ("北京石油学会", "bjsyxh@example.com")
DIZHI = ("地质专委会 张堃", "dizhi.zwh@example.com")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TALK = "老科学家精神宣讲报告会"
SCHOOL = "地质科普进校园"


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2021, month, day, hour, tzinfo=BEIJING)


class Branch:
    """Mail from one address, each threaded to the bot's last answer when it replies."""

    def __init__(self, dovecot: Dovecot, user: str, who: tuple[str, str]) -> None:
        self.dovecot, self.user, self.who = dovecot, user, who

    def write(
        self,
        subject: str,
        body: str,
        when: dt.datetime,
        *files: tuple[str, bytes],
        answering: Sent | None = None,
        reply_to: str = "",
    ) -> None:
        message = EmailMessage()
        message["From"] = f"{self.who[0]} <{self.who[1]}>"
        message["To"] = "中国石油学会科普咨询部 <kepu@example.org>"
        message["Subject"] = subject
        message["Date"] = format_datetime(when)
        message["Message-ID"] = make_msgid(domain=self.who[1].rpartition("@")[2])
        if reply_to:
            message["Reply-To"] = reply_to
        if answering is not None:
            message["In-Reply-To"] = answering.header("Message-ID")
            message["References"] = answering.header("Message-ID")
            quoted = "\n".join(f"> {line}" for line in answering.mail.body_text.splitlines())
            body = f"{body}\n\n在 2021年5月4日 10:05，中国石油学会科普咨询部 <kepu@example.org> 写道：\n{quoted}\n"
        message.set_content(body)
        for name, data in files:
            message.add_attachment(data, maintype="application", subtype=DOCX.split("/")[1], filename=name)
        self.dovecot.append(self.user, message.as_bytes(), internal_date=when)


def form(ctx: Context, *entries: FormEntry) -> bytes:
    return write_form(form_layout(ctx.campaign), list(entries))


@pytest.fixture
def world(
    tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, ctx: Context,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Bot, Path]:
    monkeypatch.setenv("SUBBOT_IMAP_PASSWORD", PASSWORD)
    settings = write_settings(tmp_path, dovecot, imap_user, smtp_server)
    return Bot(settings, ctx), settings


def test_a_branch_that_thanks_asks_resends_and_renames(
    world: tuple[Bot, Path], dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, ctx: Context,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bot, settings = world
    bj = Branch(dovecot, imap_user, BJ)

    def poll(when: dt.datetime) -> list[Sent]:
        before = len(smtp_server.received)
        bot.poll(when + dt.timedelta(minutes=5))
        return sent(smtp_server)[before:]

    def standing() -> dict[str, Any]:
        return ledger(settings, capsys)[(BJ[0], "plan")]

    two = form(
        ctx,
        filled_entry(BJ[0], TALK, "第二阶段；5月28日"),
        filled_entry(BJ[0], SCHOOL, "第一阶段；5月12日—5月14日"),
    )
    bj.write("报送活动筹备方案", "附件是我会的筹备方案，请查收。", at(4, 28), ("筹备方案.docx", two))
    (ack,) = poll(at(4, 28))
    assert "已收到" in ack.mail.subject and ack.rcpt == (BJ[1],)
    assert (standing()["status"], standing()["versions"]) == ("accepted", 1)

    # 「收到，谢谢！」 above the quoted receipt: nothing answered, nothing changed.
    bj.write("回复：" + ack.mail.subject, "收到，谢谢！", at(4, 29), answering=ack)
    assert poll(at(4, 29)) == []
    row = standing()
    assert (row["status"], row["versions"], row["last_reply"]) == ("accepted", 1, "ack sent")

    # A question: held for a person, the branch told so, nothing changed.
    question = "请问第三阶段的座谈会能否延到7月2日举办？"
    bj.write("回复：" + ack.mail.subject, question, at(4, 30), answering=ack)
    (note,) = poll(at(4, 30))
    assert "已转工作人员" in note.mail.subject and "已转给工作人员" in note.mail.body_text
    assert note.in_reply_to and "请修改" not in note.mail.body_text
    assert (standing()["status"], standing()["versions"]) == ("accepted", 1)
    with Session(bot.app.engine) as session:
        digest = current_digest(session, ctx, at(5, 1, 8))
    (held,) = [x for x in digest.set_aside if x.reason == "for_person"]
    assert question in held.detail and held.who.endswith(f"<{BJ[1]}>")

    # The same form again, one activity renamed: one activity in a new version, not a third one.
    renamed = form(
        ctx,
        filled_entry(BJ[0], "“众心向党”老科学家精神报告会", "第二阶段；5月28日"),
        filled_entry(BJ[0], SCHOOL, "第一阶段；5月12日—5月14日"),
    )
    bj.write("回复：" + ack.mail.subject, "活动名称改了一下，请以此版为准。", at(5, 2), ("方案-改.docx", renamed), answering=ack)
    (ack2,) = poll(at(5, 2))
    assert "已收到" in ack2.mail.subject and "已视为撤销" not in ack2.mail.body_text
    assert (standing()["status"], standing()["versions"]) == ("accepted", 2)
    with Session(bot.app.engine) as session:
        rows = activities.standing(session, BJ[0])
        assert sorted(r.title for r in rows) == sorted(["“众心向党”老科学家精神报告会", SCHOOL])
        assert sorted(r.version for r in rows) == [2, 2]  # each the second version of its activity

    # A resend without the school activity: withdrawn, and the receipt says so.
    one = form(ctx, filled_entry(BJ[0], "“众心向党”老科学家精神报告会", "第二阶段；5月28日"))
    bj.write("回复：" + ack2.mail.subject, "进校园活动取消了。", at(5, 3), ("方案-终.docx", one), answering=ack2)
    (ack3,) = poll(at(5, 3))
    assert f"上一版中的「{SCHOOL}」本次未包含，已视为撤销；如非如此，请回复说明。" in ack3.mail.body_text
    assert (standing()["status"], standing()["versions"]) == ("accepted", 3)
    with Session(bot.app.engine) as session:
        assert [r.title for r in activities.standing(session, BJ[0])] == ["“众心向党”老科学家精神报告会"]

    # An unreadable file after acceptance: the accepted version stands; the correction speaks of the new file.
    bj.write("回复：" + ack3.mail.subject, "再发一版。", at(5, 4), ("方案.docx", b"PK\x03\x04 broken"), answering=ack3)
    (correction,) = poll(at(5, 4))
    assert "请修改后重新发送" in correction.mail.subject
    assert "此前报送的活动筹备方案已受理，仍然有效" in correction.mail.body_text
    row = standing()
    assert (row["status"], row["newer"], row["versions"]) == ("accepted", "unreadable", 4)
    capsys.readouterr()
    assert main(["--settings", str(settings), "ledger"]) == 0
    assert "已受理（新版本无法读取）" in capsys.readouterr().out


def test_a_cloud_link_is_answered_that_it_cannot_be_opened_and_reply_to_credits_no_branch(
    world: tuple[Bot, Path], dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, ctx: Context,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bot, settings = world
    link = "https://pan.baidu.com/s/1AbCdEfGhIjKlMn 提取码：k3x9"
    Branch(dovecot, imap_user, DIZHI).write("活动方案", f"方案文件较大，用网盘发送：{link}", at(5, 4))
    stranger = Branch(dovecot, imap_user, ("科协办公室", "office@stranger.example.net"))
    entry = filled_entry("某市科学技术协会", "社区科普日", "第一阶段；5月20日")
    stranger.write("活动方案", "方案见附件。", at(5, 4, 11), ("方案.docx", form(ctx, entry)), reply_to=BJ[1])
    bot.poll(at(5, 4, 12))
    by_to = {r.rcpt[0]: r for r in sent(smtp_server)}
    answer = by_to[DIZHI[1]].mail
    assert "网盘链接无法读取" in answer.subject and "无法打开链接" in answer.body_text and "过期" in answer.body_text
    rows = ledger(settings, capsys)
    assert (rows[("石油地质专业委员会", "plan")]["status"], rows[("石油地质专业委员会", "plan")]["versions"]) == (
        "missing",
        0,
    )
    # The stranger's Reply-To names 北京石油学会's address: it may be answered there, it credits nothing.
    assert "已收到" in by_to[BJ[1]].mail.subject
    assert rows[(BJ[0], "plan")]["status"] == "missing"
    assert rows[("（未知发件人）office@stranger.example.net", "plan")]["status"] == "accepted"
