"""Staff acting by mail, end to end over Dovecot and aiosmtpd: a staff member's mail, vouched for by the receiving
server, with one command a line, is carried out (the ledger and the digest after it) and answered with what was
done and what was refused; a forged one (DMARC failed) changes nothing, gets no answer, and is shown in the digest;
the same commands from a branch's address are a branch's mail, never commands."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from imap_bot import Bot, sent, write_settings
from servers.dovecot import PASSWORD, Dovecot
from servers.smtp import SmtpServer
from sqlalchemy.orm import Session

from bot.cli import main
from bot.demo import conversation, samples, write_message
from bot.jobs.digest.mail import current_digest
from bot.ledger.schema import StaffActionRow
from config import Context

BEIJING = dt.timezone(dt.timedelta(hours=8))
AUTHSERV = "mx.example.org"
STAFF = ("王芳", "wangfang@cpsoffice.example.cn")
VOUCHED = (
    f"{AUTHSERV}; dkim=pass header.d=cpsoffice.example.cn header.s=default; "
    "spf=pass smtp.mailfrom=cpsoffice.example.cn; dmarc=pass header.from=cpsoffice.example.cn"
)
FORGED = (
    f"{AUTHSERV}; dkim=none; spf=fail smtp.mailfrom=cpsoffice.example.cn; "
    "dmarc=fail (p=none dis=none) header.from=cpsoffice.example.cn"
)


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2021, month, day, hour, tzinfo=BEIJING)


def command_mail(sender: tuple[str, str], results: str, body: str, when: dt.datetime) -> bytes:
    message = EmailMessage()
    message["Authentication-Results"] = results  # the receiving server's, on top
    message["From"] = f"{sender[0]} <{sender[1]}>"
    message["To"] = "报送机器人 <kepu@example.org>"
    message["Subject"] = "处理意见"
    message["Date"] = format_datetime(when)
    message["Message-ID"] = make_msgid(domain=sender[1].rpartition("@")[2])
    message.set_content(body)
    return message.as_bytes()


def ledger(settings: Path, capsys: pytest.CaptureFixture[str]) -> dict[tuple[str, str], str]:
    capsys.readouterr()
    assert main(["--settings", str(settings), "ledger", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {(row["branch"], row["deliverable"]): row["status"] for row in rows}


@pytest.fixture
def world(
    tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, ctx: Context,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Bot, Path]]:
    monkeypatch.setenv("SUBBOT_IMAP_PASSWORD", PASSWORD)
    settings = write_settings(tmp_path, dovecot, imap_user, smtp_server, authserv_ids=[AUTHSERV])  # type: ignore[arg-type]
    settings.write_text(
        settings.read_text(encoding="utf-8") + f'\n[staff]\naddresses = ["{STAFF[1]}"]\n', encoding="utf-8"
    )
    bot = Bot(settings, ctx)
    yield bot, settings
    bot.close()


def test_staff_commands_by_mail_are_carried_out_answered_and_a_forged_one_changes_nothing(
    world: tuple[Bot, Path], dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, ctx: Context,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bot, settings = world
    # A plan with a finding, a plan from an address the roster does not know, a question for a person.
    plans = {s.address: s for s in reversed(samples())}  # each address's first
    (question_mail,) = [s for s in conversation() if "请问" in s.body]
    for mail in (plans["gongcheng@example.com"], plans["office@kexie.example.net"], question_mail):
        dovecot.append(imap_user, write_message(mail), internal_date=mail.arrived)
    bot.poll(at(5, 9))
    receipts = {m.sender: m.receipt for m in bot.messages()}
    fix, unknown, question = receipts["gongcheng@example.com"], receipts["office@kexie.example.net"], receipts["dizhi.zwh@example.com"]
    assert (fix[0], unknown[0], question[0]) == ("P", "P", "M")
    before = ledger(settings, capsys)
    assert before[("石油工程专业委员会", "plan")] == "needs_correction"
    assert before[("青年工作委员会", "plan")] == "missing"
    assert before[("（未知发件人）office@kexie.example.net", "plan")] == "accepted"
    with Session(bot.app.engine) as session:
        waiting = current_digest(session, ctx, at(5, 10, 8))
    # Each item that needs a person with the line that resolves it.
    assert {x.resolve for x in waiting.set_aside} == {f"已处理 {question}", f"转给 单位名称 {unknown} 并添加地址"}

    # A forged staff mail first: the same From, but the receiving server says DMARC failed.
    forged = f"豁免 石油化工专业委员会 筹备方案\n通过 {fix}\n"
    dovecot.append(imap_user, command_mail(STAFF, FORGED, forged, at(5, 10, 9)), internal_date=at(5, 10, 9))
    # The same commands from a branch's own address are its mail, not commands.
    branch = ("北京石油学会", "bjsyxh@example.com")
    dovecot.append(imap_user, command_mail(branch, "", forged, at(5, 10, 9)), internal_date=at(5, 10, 9))
    received = len(smtp_server.received)
    bot.poll(at(5, 10, 9))
    assert ledger(settings, capsys) == before
    # The branch's mail names a plan and carries none: it is asked for the file, as any branch would be.
    assert [s.rcpt for s in sent(smtp_server)[received:]] == [(branch[1],)]
    by_kind = {m.sender: (m.kind, m.verdict) for m in bot.messages()}
    assert (by_kind[STAFF[1]], by_kind[branch[1]]) == (("staff_refused", None), ("submission", "no_attachment"))
    (refused,) = bot.rows(StaffActionRow)
    assert (refused.verb, refused.who, refused.via, refused.refused != "") == ("refused_mail", STAFF[1], "mail", True)
    with Session(bot.app.engine) as session:
        digest = current_digest(session, ctx, at(5, 11, 8))
    (shown,) = [x for x in digest.set_aside if x.reason == "staff_refused"]
    assert STAFF[1] in shown.who
    assert [a.verb for a in digest.actions] == ["refused_mail"]

    # The real staff member, vouched for by DKIM and DMARC, one command a line, one of them wrong.
    commands = (
        f"通过 {fix} 电话已确认\n"
        "豁免 青工委 筹备方案\n"
        f"转给 四川省石油学会 {unknown} 并添加地址\n"
        f"已处理 {question}\n"
        "通过 P2021-9999\n"
    )
    dovecot.append(imap_user, command_mail(STAFF, VOUCHED, commands, at(5, 11, 9)), internal_date=at(5, 11, 9))
    received = len(smtp_server.received)
    bot.poll(at(5, 11, 9))
    after = ledger(settings, capsys)
    assert after[("石油工程专业委员会", "plan")] == "accepted"
    assert after[("青年工作委员会", "plan")] == "exempt"
    assert after[("四川省石油学会", "plan")] == "accepted"
    assert ("（未知发件人）office@kexie.example.net", "plan") not in after
    assert after[("石油化工专业委员会", "plan")] == "missing"  # the forged exemption stayed undone
    (answer,) = [s for s in sent(smtp_server)[received:] if s.rcpt == (STAFF[1],)]
    assert "指令已处理：执行4条，未执行1条" in answer.mail.subject
    text = answer.mail.body_text
    assert f"✓ 通过 {fix} 电话已确认" in text and "已改为已受理" in text
    assert "✓ 豁免 青工委 筹备方案" in text and "青年工作委员会的筹备方案已豁免（不再提醒）" in text
    assert f"{unknown} 已记在四川省石油学会名下，并将其发件地址登记为四川省石油学会的地址" in text
    assert f"{question} 已标记为已处理" in text
    assert "✗ 通过 P2021-9999" in text and "账本中没有回执号 P2021-9999" in text
    assert answer.in_reply_to.strip("<>") in str(bot.messages()[-1].message_id)

    with Session(bot.app.engine) as session:
        digest = current_digest(session, ctx, at(5, 12, 8))
    assert {x.reason for x in digest.set_aside} == {"staff_refused"}  # the question is handled
    done = [(a.verb, a.who, a.refused == "") for a in digest.actions]
    assert done == [
        ("accept", STAFF[1], True), ("exempt", STAFF[1], True), ("assign", STAFF[1], True),
        ("done", STAFF[1], True), ("accept", STAFF[1], False),
    ]
    assert next(c for c in digest.counts if c.deliverable == "plan").exempt == 1
