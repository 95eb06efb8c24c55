"""Staff acting by mail, end to end over Dovecot and aiosmtpd: a staff member's mail, vouched for by the receiving
server, with one command a line, is carried out (the ledger and the digest after it) and answered with what was
done and what was refused; a forged one (DMARC failed) changes nothing, gets no answer, and is shown in the digest;
the same commands from a branch's address are a branch's mail, never commands. The roster staff keep in Excel (a
GBK CSV, an .xlsx), changed while `subbot run` runs, is used from the next poll, and an address added to a branch
moves the mail already recorded from it."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import openpyxl
import pytest
import standings
from imap_bot import Bot, sent, write_settings
from servers.dovecot import PASSWORD, Dovecot
from servers.smtp import SmtpServer
from sqlalchemy.orm import Session

from bot.demo import conversation, samples, write_message
from bot.jobs.digest.mail import current_digest
from bot.ledger.schema import MessageRow, StaffActionRow
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
    return {key: row["status"] for key, row in standings.ledger(settings, capsys).items()}


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


# --- the roster, changed while `subbot run` runs -------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 30.0  # seconds: a guard against a hang, never a measurement
HEADER = ("单位名称", "类型", "电子邮箱", "简称")


def _rows(ctx: Context, more: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """The shipped roster's rows, with an address added to some branches."""
    return [
        (b.name, b.kind, "；".join([*b.emails, *([more[b.name]] if b.name in more else [])]), "、".join(b.aliases))
        for b in ctx.roster.branches
    ]


def write_roster(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    """As Excel saves it: plain 「CSV」 on a Chinese Windows is GBK with CRLF; or a workbook."""
    if path.suffix == ".csv":
        lines = [",".join(row) for row in [HEADER, *rows]]
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
        return
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["2021年报送单位名单"])  # a title row above the header, as staff keep one
    for row in [HEADER, *rows]:
        sheet.append(list(row))
    workbook.save(path)


def _wait(check: Callable[[], bool], what: str, log: Callable[[], str]) -> None:
    end = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > end:
            pytest.fail(f"no {what} within {DEADLINE:g} s\n{log()[-3000:]}")
        time.sleep(0.1)


@pytest.mark.parametrize("name", ["roster.csv", "roster.xlsx"])
def test_a_roster_changed_while_running_is_used_at_the_next_poll_and_moves_earlier_mail(
    name: str, tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, ctx: Context,
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = tmp_path / name
    write_roster(roster, _rows(ctx, {}))
    settings = write_settings(tmp_path, dovecot, imap_user, smtp_server)
    text = settings.read_text(encoding="utf-8").replace("[bot]\n", f'[bot]\nroster = "{roster}"\npoll_minutes = 60\n')
    settings.write_text(text, encoding="utf-8")
    unknown = next(s for s in samples() if s.address == "office@kexie.example.net")
    dovecot.append(imap_user, write_message(unknown), internal_date=unknown.arrived)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUBBOT_")} | {"SUBBOT_IMAP_PASSWORD": PASSWORD}
    err = tmp_path / "err.txt"
    with open(err, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--settings", str(settings), "--now", "2021-05-09T09:00", "run"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log_file,
        )
    try:
        log = lambda: err.read_text(encoding="utf-8", errors="replace")  # noqa: E731
        _wait(lambda: log().count("邮箱共") == 1, "first poll", log)
        assert ledger(settings, capsys)[("（未知发件人）office@kexie.example.net", "plan")] == "accepted"
        assert ledger(settings, capsys)[("四川省石油学会", "plan")] == "missing"

        # Staff add the address to its branch and save the file; the next mail wakes the bot.
        write_roster(roster, _rows(ctx, {"四川省石油学会": "office@kexie.example.net"}))
        thanks = next(s for s in conversation() if s.address == "bjsyxh@example.com")
        dovecot.append(imap_user, write_message(thanks), internal_date=thanks.arrived)
        _wait(lambda: log().count("邮箱共") == 2, "second poll", log)
        assert "roster reloaded: 12 branches" in log()
        after = ledger(settings, capsys)
        assert after[("四川省石油学会", "plan")] == "accepted"  # the earlier mail moved, its standing with it
        assert ("（未知发件人）office@kexie.example.net", "plan") not in after
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=DEADLINE) == 0
    assert "Traceback" not in log()


# --- staff answering a held mail themselves from the shared mailbox ----------------------------------------


def staff_answer(question: MessageRow, when: dt.datetime) -> bytes:
    """What staff's client files in Sent when they answer from the shared mailbox: threaded to the question."""
    message = EmailMessage()
    message["From"] = "中国石油学会科普咨询部 <kepu@example.org>"
    message["To"] = question.sender
    message["Subject"] = "回复：" + question.subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = make_msgid(domain="example.org")
    message["In-Reply-To"] = question.message_id
    message["References"] = f"<earlier.1@example.com> {question.message_id}"
    message.set_content("张老师好，座谈会可以延到7月2日，请在方案中改好后再发一次。")
    return message.as_bytes()


def test_a_held_mail_staff_answered_from_the_shared_mailbox_is_marked_handled(
    world: tuple[Bot, Path], dovecot: Dovecot, imap_user: str, ctx: Context
) -> None:
    bot, _ = world
    with dovecot.client(imap_user) as client:
        client.create_folder("Sent Messages")  # the SPECIAL-USE \Sent folder, as staff's client has it
    (question,) = [s for s in conversation() if "请问" in s.body]
    other = replace(question, sender="青年工作委员会", address="qingnian@example.com", body="请问总结要附几张照片？")
    for sample in (question, other):
        dovecot.append(imap_user, write_message(sample), internal_date=sample.arrived)
    bot.poll(at(5, 9))
    messages = {m.sender: m for m in bot.messages()}
    asked, unanswered = messages[question.address], messages[other.address]
    assert (asked.kind, unanswered.kind) == ("for_person", "for_person")

    def waiting(day: int) -> set[str]:
        with Session(bot.app.engine) as session:
            return {x.resolve for x in current_digest(session, ctx, at(5, day, 8)).set_aside}

    # The bot's own notes to both are in Sent, threaded to them: no person answered yet.
    copies = dovecot.messages(imap_user, "Sent Messages")
    assert len(copies) == 2 and all(asked.message_id in raw.decode() or unanswered.message_id in raw.decode() for raw in copies.values())
    bot.poll(at(5, 9, 12))
    assert waiting(10) == {f"已处理 {asked.receipt}", f"已处理 {unanswered.receipt}"}
    assert bot.rows(StaffActionRow) == []

    # Staff answer the first from the shared mailbox; their client files the answer in Sent.
    dovecot.append(imap_user, staff_answer(asked, at(5, 10, 9)), folder="Sent Messages", flags=[b"\\Seen"])
    bot.poll(at(5, 10, 10))
    (row,) = bot.rows(StaffActionRow)
    assert (row.verb, row.who, row.via, row.receipt, row.message_pk, row.refused) == (
        "done", "mailbox", "sent", asked.receipt, asked.id, ""
    )
    assert waiting(11) == {f"已处理 {unanswered.receipt}"}
    with Session(bot.app.engine) as session:
        (shown,) = current_digest(session, ctx, at(5, 11, 8)).actions
    assert (shown.who, shown.verb, shown.receipt) == ("mailbox", "done", asked.receipt)
    bot.poll(at(5, 10, 11))  # once only
    assert len(bot.rows(StaffActionRow)) == 1
    assert set(dovecot.folders(imap_user)) == {"INBOX", "Sent Messages"}
