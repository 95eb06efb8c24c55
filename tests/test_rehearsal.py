"""The 2021 campaign rehearsed end to end on a fake clock, against a real Dovecot and a real aiosmtpd, with
the real `subbot` commands: each day the digest goes to staff at 08:00, reminders at 09:00, the day's mail
is APPENDed with its arrival time and polled in the evening. What every branch received, and what each
digest says, is checked against an oracle the test keeps from the scenario itself.

The branches behave like people: they thank for receipts, ask questions, send a cloud link instead of the
file, resend with an activity renamed or dropped, and send a broken file after their plan was accepted. Only
documents move where a branch stands; the oracle knows it as a person would."""

from __future__ import annotations

import datetime as dt
import email
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from imap_bot import write_settings
from servers.dovecot import PASSWORD, Dovecot
from servers.smtp import SmtpServer
from summary_files import photo, summary_docx

from bot.cli import main
from bot.demo import filled_entry
from bot.forms.layout import form_layout
from config import Campaign, Roster
from parsers.form_writer import FormEntry, write_form

BEIJING = dt.timezone(dt.timedelta(hours=8))
STAFF = "staff@example.org"
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
# The days rehearsed: the plan round, and the summary round around its deadline.
ROUNDS = ((dt.date(2021, 4, 27), dt.date(2021, 5, 9)), (dt.date(2021, 6, 11), dt.date(2021, 6, 20)))


@dataclass(frozen=True)
class Send:
    """One branch mail of the scenario and what the bot must make of it."""

    day: dt.date
    hour: int
    branch: str
    subject: str
    forms: tuple[FormEntry, ...]  # plan forms, in one .docx; none and no files: no attachment at all
    outcome: str  # accepted | needs_correction | thanks | question | link
    files: tuple[tuple[str, bytes], ...] = ()  # other attachments: summaries, photos
    deliverable: str = "plan"
    body: str = "您好，附件是我单位的材料，请查收。"

    @property
    def document(self) -> bool:
        """A mail that brings a document for its deliverable: the only kind that moves a branch's standing."""
        return bool(self.forms) or any(name.endswith(".docx") for name, _ in self.files)

    @property
    def reply(self) -> str:
        """What the bot answers: a receipt, a correction, a note that staff have the mail, a word on the link."""
        answers = {"accepted": "ack", "needs_correction": "correction", "question": "forwarded", "link": "link"}
        return answers.get(self.outcome, "none")


def plan(branch: str, title: str, time: str = "第一阶段；5月15日—5月16日", mobile: str = "13912345678") -> FormEntry:
    text = "一、活动主题：众心向党，自立自强。\n二、主要安排：邀请老科学家作报告，组织青年科技工作者座谈。"
    return filled_entry(branch, title, time, mobile, plan=text)


def d(month: int, day: int) -> dt.date:
    return dt.date(2021, month, day)


SCENARIO: tuple[Send, ...] = (
    Send(d(4, 28), 10, "北京石油学会", "活动筹备方案", (plan("北京石油学会", "科学家精神报告会"),), "accepted"),
    Send(
        d(4, 28),
        15,
        "石油地质专业委员会",
        "方案两项",
        (plan("石油地质专业委员会", "地质科普进校园"), plan("石油地质专业委员会", "野外地质考察", "第二阶段；5月28日")),
        "accepted",
    ),
    # A landline where the mobile goes: a correction, reminded on 3 May, corrected on 4 May.
    Send(
        d(4, 30),
        11,
        "石油工程专业委员会",
        "筹备方案",
        (plan("石油工程专业委员会", "钻井开放日", mobile="62067126"),),
        "needs_correction",
    ),
    Send(
        d(5, 4),
        16,
        "石油工程专业委员会",
        "回复：筹备方案（已修改）",
        (plan("石油工程专业委员会", "钻井开放日"),),
        "accepted",
    ),
    # "See attachment", none attached: a correction, and still no plan.
    Send(d(5, 4), 17, "四川省石油学会", "活动方案", (), "needs_correction"),
    Send(
        d(5, 6),
        23,
        "石油化工专业委员会",
        "方案（截止日当晚）",
        (plan("石油化工专业委员会", "化工安全开放周"),),
        "accepted",
    ),
    Send(
        d(5, 8),
        10,
        "新疆石油学会",
        "活动筹备方案（迟交）",
        (plan("新疆石油学会", "石油精神主题展览", "第三阶段；6月10日"),),
        "accepted",
    ),
)
# As people write: a thank-you under the receipt, a question, a resend with an activity renamed, one with an
# activity dropped, a cloud link instead of the file, a broken file after the plan was accepted.
SCENARIO += (
    Send(d(4, 29), 9, "北京石油学会", "回复：活动筹备方案（已收到，回执号 P2021-0001）", (), "thanks", body="收到，谢谢！"),
    Send(
        d(4, 30),
        15,
        "石油地质专业委员会",
        "回复：方案两项（已收到，回执号 P2021-0002）",
        (),
        "question",
        body="请问第二阶段的野外地质考察能否延到6月8日举办？",
    ),
    Send(
        d(5, 2),
        10,
        "北京石油学会",
        "回复：活动筹备方案（已收到，回执号 P2021-0001）",
        (plan("北京石油学会", "“众心向党”科学家精神报告会"),),
        "accepted",
        body="活动名称改了一下，请以此版为准。",
    ),
    Send(
        d(5, 5),
        11,
        "石油地质专业委员会",
        "方案（修改）",
        (plan("石油地质专业委员会", "地质科普进校园"),),
        "accepted",
        body="野外考察取消，只报一项。",
    ),
    Send(
        d(5, 5),
        15,
        "青年工作委员会",
        "青年工作委员会活动方案",
        (),
        "link",
        body="方案用超大附件发送：https://pan.baidu.com/s/1qingnian2021 提取码：qn21",
    ),
    Send(
        d(5, 7),
        10,
        "北京石油学会",
        "活动筹备方案（再发一版）",
        (),
        "needs_correction",
        files=(("方案.docx", b"PK\x03\x04 not a whole file"),),
    ),
)
SUMMARY_DOCX = summary_docx("活动总结", "5月15日，我会举办科学家精神报告会，到场约150人。")


def summary(day: dt.date, hour: int, branch: str, outcome: str, *files: tuple[str, bytes]) -> Send:
    return Send(day, hour, branch, "活动总结及照片", (), outcome, files, "summary")


SCENARIO += (
    summary(
        d(6, 12),
        10,
        "北京石油学会",
        "accepted",
        ("总结.docx", SUMMARY_DOCX),
        ("现场.jpg", photo((200, 30, 30), dt.datetime(2021, 5, 15, 10))),
    ),
    summary(d(6, 16), 10, "石油地质专业委员会", "needs_correction", ("总结.docx", SUMMARY_DOCX)),  # no photo, no link
    summary(
        d(6, 18), 9, "石油地质专业委员会", "accepted", ("总结.docx", SUMMARY_DOCX), ("考察.jpg", photo((30, 200, 30)))
    ),
    summary(
        d(6, 18),
        20,
        "石油工程专业委员会",
        "accepted",
        ("总结.docx", SUMMARY_DOCX),
        ("开放日.png", photo((30, 30, 200), form="PNG")),
    ),
    summary(d(6, 19), 10, "新疆石油学会", "accepted", ("总结.docx", SUMMARY_DOCX), ("展览.jpg", photo((90, 90, 9)))),
    Send(d(6, 12), 11, "北京石油学会", "回复：活动总结及照片（已收到，回执号 S2021-0013）", (), "thanks", body="好的，谢谢！"),
)
# The day a resent form dropped an activity, and the activity: its receipt says it is withdrawn.
WITHDRAWN = {d(5, 5): ("石油地质专业委员会", "野外地质考察")}
# Reminder days: 3 and 1 days before each deadline (6 May, 18 June).
REMINDER_DAYS = {d(5, 3): "plan", d(5, 5): "plan", d(6, 15): "summary", d(6, 17): "summary"}


@dataclass
class Oracle:
    """What the ledger must say, kept from the scenario: each roster branch's status and lateness per deliverable."""

    roster: Roster
    campaign: Campaign
    status: dict[tuple[str, str], str] = field(default_factory=dict)
    late: set[tuple[str, str]] = field(default_factory=set)

    def take(self, send: Send, arrived: dt.datetime) -> None:
        """Only a document moves a branch: a thank-you, a question, a link or a mail whose file is missing do
        not; once accepted, a branch stays accepted whatever newer file it sends."""
        key = (send.branch, send.deliverable)
        if not send.document or self.status.get(key) == "accepted":
            return
        self.status[key] = send.outcome
        if arrived >= self.campaign.deadline(send.deliverable):
            self.late.add(key)

    def state(self, branch: str, deliverable: str) -> str:
        return self.status.get((branch, deliverable), "missing")

    def counts(self, deliverable: str) -> dict[str, int]:
        states = Counter(self.state(b.name, deliverable) for b in self.roster.branches)
        return {
            "已受理": states["accepted"],
            "待修改": states["needs_correction"],
            "未报送": states["missing"],
            "逾期报送": sum(1 for _, kind in self.late if kind == deliverable),
            "名单外来信": 0,
        }

    def owed_reminder(self, deliverable: str) -> set[str]:
        owed = {b.name for b in self.roster.branches if self.state(b.name, deliverable) != "accepted"}
        if deliverable == "summary":  # asked only of branches whose plan was accepted
            owed = {name for name in owed if self.state(name, "plan") == "accepted"}
        return owed


class Rehearsal:
    def __init__(self, settings: Path, dovecot: Dovecot, user: str, smtp: SmtpServer) -> None:
        self.settings, self.dovecot, self.user, self.smtp = settings, dovecot, user, smtp
        self.seen = 0

    def subbot(self, at: dt.datetime, *args: str) -> None:
        assert main(["--settings", str(self.settings), "--now", at.isoformat(), *args]) == 0

    def deliver(self, send: Send, roster: Roster, plan_forms: bytes | None) -> dt.datetime:
        branch = next(b for b in roster.branches if b.name == send.branch)
        message = EmailMessage()
        message["From"] = f"{send.branch} <{branch.emails[0]}>"
        message["To"] = "kepu@example.org"
        message["Subject"] = send.subject
        message["Message-ID"] = f"<{send.day:%m%d}.{send.hour}.{abs(hash(send.branch))}@example.com>"
        message.set_content(send.body)
        if plan_forms is not None:
            message.add_attachment(plan_forms, maintype=DOCX[0], subtype=DOCX[1], filename=f"{send.branch}.docx")
        for name, data in send.files:
            kind = DOCX if name.endswith(".docx") else ("image", name.rpartition(".")[2].replace("jpg", "jpeg"))
            message.add_attachment(data, maintype=kind[0], subtype=kind[1], filename=name)
        arrived = dt.datetime.combine(send.day, dt.time(send.hour), tzinfo=BEIJING)
        self.dovecot.append(self.user, message.as_bytes(), internal_date=arrived)
        return arrived

    def received(self) -> list[email.message.EmailMessage]:
        """Mail that reached the SMTP server since the last call."""
        new = self.smtp.received[self.seen :]
        self.seen = len(self.smtp.received)
        return [email.message_from_bytes(r.raw, policy=default) for r in new]


def days() -> Iterator[dt.date]:
    for first, last in ROUNDS:
        day = first
        while day <= last:
            yield day
            day += dt.timedelta(days=1)


def digest_counts(message: email.message.EmailMessage, column: str) -> dict[str, int]:
    """One column (筹备方案, 活动总结) of the digest's 【报送情况】 table, from its plain-text part."""
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    table = text.split("【报送情况】", 1)[1].split("【", 1)[0]
    found = {}
    for label, number in re.findall(rf"^\s*(\S+)：.*?{column} (\d+)", table, re.M):
        found[label] = int(number)
    return found


@pytest.fixture
def rehearsal(
    tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Rehearsal:
    monkeypatch.setenv("SUBBOT_IMAP_PASSWORD", PASSWORD)
    settings = write_settings(tmp_path, dovecot, imap_user, smtp_server)
    settings.write_text(settings.read_text(encoding="utf-8") + f'\n[digest]\nto = ["{STAFF}"]\n', encoding="utf-8")
    return Rehearsal(settings, dovecot, imap_user, smtp_server)


def test_the_2021_campaign_day_by_day(rehearsal: Rehearsal, roster: Roster, campaign: Campaign) -> None:
    layout = form_layout(campaign)
    oracle = Oracle(roster, campaign)
    addresses = {b.emails[0]: b.name for b in roster.branches}
    questions: dict[str, dt.date] = {}  # a question asked, and the day it came: the next digest holds it for staff
    for day in days():
        morning = dt.datetime.combine(day, dt.time(8), tzinfo=BEIJING)
        rehearsal.subbot(morning, "digest", "--send")
        digests = rehearsal.received()
        assert [str(m["To"]) for m in digests] == [STAFF], day
        assert digest_counts(digests[0], "筹备方案") == oracle.counts("plan"), day
        assert digest_counts(digests[0], "活动总结") == oracle.counts("summary"), day
        text = digests[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for question, asked in questions.items():  # held for staff until a person handles it
            assert question in text.split("【需要人工处理的邮件】", 1)[1], (day, asked)

        rehearsal.subbot(morning.replace(hour=9), "remind")
        reminded = {addresses[str(m["To"])] for m in rehearsal.received()}
        assert reminded == (oracle.owed_reminder(REMINDER_DAYS[day]) if day in REMINDER_DAYS else set()), day

        sends = [s for s in SCENARIO if s.day == day]
        for send in sends:
            forms = write_form(layout, list(send.forms)) if send.forms else None
            oracle.take(send, rehearsal.deliver(send, roster, forms))
        rehearsal.subbot(morning.replace(hour=23, minute=30), "poll")
        replies = rehearsal.received()
        expected = Counter((s.branch, s.reply) for s in sends if s.reply != "none")
        assert Counter((addresses[str(m["To"])], _answer(m)) for m in replies) == expected, day
        assert all(m["In-Reply-To"] for m in replies)
        if day in WITHDRAWN:
            branch, title = WITHDRAWN[day]
            (receipt,) = [m for m in replies if addresses[str(m["To"])] == branch]
            body = receipt.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            assert f"上一版中的「{title}」本次未包含，已视为撤销" in body, day
        for send in (s for s in sends if s.outcome == "question"):
            questions[send.body] = day


def _answer(message: email.message.EmailMessage) -> str:
    subject = str(message["Subject"])
    if "已转工作人员" in subject:
        return "forwarded"
    if "网盘链接无法读取" in subject:
        return "link"
    return "correction" if any(word in subject for word in ("请修改", "请补充")) else "ack"
