"""The staff-facing mail commands as staff run them: `subbot inspect`, `poll` (dry run, first run with a
backlog, the reply cap), `retry` and `ledger`, on the demo's Maildir with replies written to an outbox
folder. Time is always given with `--now`, so "today" and "the next day" are the campaign's days."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import json
import os
import subprocess
import sys
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.demo import Sample, samples, seed, write_message
from bot.ledger.schema import MessageRow, RefRow, ReplyRow
from config import Roster

ROOT = Path(__file__).resolve().parents[1]
MAILS = Path(__file__).parent / "fixtures" / "mail"
ZONE = dt.timezone(dt.timedelta(hours=8))
LEDGER_KEYS = {"branch", "in_roster", "deliverable", "status", "newer", "versions", "late", "last_arrived", "last_reply"}
# After the demo mails were written, before the plan deadline's reminders matter: a quiet day.
AFTER_DEMO = "2021-05-09T09:00"


# --- helpers ---------------------------------------------------------------------------------------


def _demo(folder: Path, **bot: object) -> Path:
    """The demo's Maildir and settings, with extra [bot] settings (TOML values) when given."""
    settings = seed(folder)
    extra = "".join(f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in bot.items())
    settings.write_text(settings.read_text(encoding="utf-8").replace("[bot]\n", f"[bot]\n{extra}"), encoding="utf-8")
    return settings


def subbot(settings: Path, *args: str, now: str | None = None) -> int:
    clock = ["--now", now] if now else []
    return main(["--settings", str(settings), *clock, *args])


def _deliver(folder: Path, sample: Sample, name: str) -> None:
    path = folder / "inbox" / "new" / name
    path.write_bytes(write_message(sample))
    os.utime(path, (sample.arrived.timestamp(), sample.arrived.timestamp()))


def _sample(sender: str, address: str, arrived: dt.datetime) -> Sample:
    """The demo's first mail (an accepted form) sent by `sender` at another time (a new Message-ID each)."""
    return dataclasses.replace(samples()[0], sender=sender, address=address, arrived=arrived)


def _outbox(folder: Path) -> list[EmailMessage]:
    found = []
    for path in sorted((folder / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def _ledger(settings: Path, capsys: pytest.CaptureFixture[str]) -> dict[tuple[str, str], dict[str, Any]]:
    capsys.readouterr()
    assert subbot(settings, "ledger", "--json") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    keyed = {(row["branch"], row["deliverable"]): row for row in rows}
    assert len(keyed) == len(rows)
    return keyed


def _engine(folder: Path) -> Any:
    return create_engine(f"sqlite:///{folder / 'data' / 'ledger.sqlite3'}")


def _count(folder: Path, table: Any) -> int:
    engine = _engine(folder)
    try:
        with Session(engine) as session:
            return int(session.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def _day(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2021, month, day, hour, minute, tzinfo=ZONE)


# --- inspect -------------------------------------------------------------------------------------

GOLDEN_MAILS = {
    # file: (kind, reply, verdicts of the attachments in order)
    "auto-reply-auto-submitted.eml": ("auto_reply", "none", []),
    "bounce-multipart-report.eml": ("bounce", "none", []),
    "own-header.eml": ("own", "none", []),
    "own-address.eml": ("own", "none", []),
    "see-attachment-without-attachment.eml": ("submission", "correction", []),
    "zip-gbk-member-names.eml": ("submission", "correction", [None, "needs_correction", None]),
    "outlook-winmail-dat.eml": ("submission", "correction", ["needs_correction", "unreadable"]),
}


def test_inspect_json_says_what_the_bot_reads_and_would_do_and_touches_nothing(tmp_path: Path) -> None:
    settings = _demo(tmp_path, own_addresses=["plans@society.org.cn"])
    inbox_before = sorted((p.name, p.read_bytes()) for p in (tmp_path / "inbox" / "new").iterdir())
    demo = samples()
    (tmp_path / "accepted.eml").write_bytes(write_message(demo[0]))
    (tmp_path / "bad-mobile.eml").write_bytes(write_message(demo[2]))
    files = [MAILS / name for name in GOLDEN_MAILS] + [tmp_path / "accepted.eml", tmp_path / "bad-mobile.eml"]
    # The real command, as staff type it.
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--settings", str(settings), "inspect", "--json", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    reports = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["file"] for r in reports] == [str(f) for f in files]
    for report in reports:
        assert {"from", "subject", "kind", "attachments", "reply", "findings"} <= set(report)
        assert set(report["from"]) == {"name", "address"}
        for attachment in report["attachments"]:
            assert {"name", "type", "size", "verdict"} <= set(attachment)
    by_name = {Path(r["file"]).name: r for r in reports}
    for name, (kind, reply, verdicts) in GOLDEN_MAILS.items():
        report, expected = by_name[name], json.loads((MAILS / name).with_suffix(".expected.json").read_text("utf-8"))
        assert report["from"] == expected["sender"], name
        assert report["subject"] == expected.get("subject", report["subject"]), name
        assert (report["kind"], report["reply"]) == (kind, reply), name
        assert [a["verdict"] for a in report["attachments"]] == verdicts, name
        assert [a["name"] for a in report["attachments"]] == [a["name"] for a in expected.get("attachments", [])]
        if reply == "none":
            assert report["findings"] == [], name
    assert [f["code"] for f in by_name["see-attachment-without-attachment.eml"]["findings"]] == ["no_attachment"]
    accepted = by_name["accepted.eml"]
    assert (accepted["kind"], accepted["reply"], accepted["branch"]) == ("submission", "ack", "北京石油学会")
    assert accepted["attachments"][0]["verdict"] == "accepted" and accepted["attachments"][0]["size"] > 0
    bad = by_name["bad-mobile.eml"]
    assert bad["reply"] == "correction" and "bad_number" in [f["code"] for f in bad["findings"]]
    # Neither ledger nor mailbox: no data folder, no outbox, the inbox as it was.
    assert not (tmp_path / "data").exists() and not (tmp_path / "outbox").exists()
    assert sorted((p.name, p.read_bytes()) for p in (tmp_path / "inbox" / "new").iterdir()) == inbox_before


def test_inspect_without_json_speaks_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = _demo(tmp_path)
    assert subbot(settings, "inspect", str(MAILS / "bounce-multipart-report.eml")) == 0
    out = capsys.readouterr().out
    assert "发件人：Mail Delivery System <mailer-daemon@mx.branch8.org.cn>（名单外）" in out
    assert "类型：bounce" in out and "将回复：none" in out
    assert not (tmp_path / "data").exists()


# --- poll --------------------------------------------------------------------------------------------


def test_dry_run_reads_and_decides_but_records_and_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _demo(tmp_path)
    inbox_before = sorted((p.name, p.read_bytes()) for p in (tmp_path / "inbox" / "new").iterdir())
    assert subbot(settings, "poll", "--dry-run", "--reply-backlog", now=AFTER_DEMO) == 0
    dry = capsys.readouterr().out
    assert dry.startswith("试运行（未记录、未发送）：邮箱共12封，新邮件12封：处理12封，重复0封，失败0封；回执")
    assert not (tmp_path / "outbox").exists()
    assert [_count(tmp_path, table) for table in (MessageRow, RefRow, ReplyRow)] == [0, 0, 0]
    assert {row["status"] for row in _ledger(settings, capsys).values()} == {"missing"}
    assert sorted((p.name, p.read_bytes()) for p in (tmp_path / "inbox" / "new").iterdir()) == inbox_before
    # Nothing was taken as seen: the real poll finds all twelve new, and does what the dry run said.
    capsys.readouterr()
    assert subbot(settings, "poll", "--reply-backlog", now=AFTER_DEMO) == 0
    assert "试运行（未记录、未发送）：" + capsys.readouterr().out == dry
    assert len(_outbox(tmp_path)) == 10  # twelve mails less an auto-reply and a bounce


def test_dry_run_leaves_no_copy_of_the_mail_on_disk(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = _demo(tmp_path)
    assert subbot(settings, "poll", "--dry-run", now=AFTER_DEMO) == 0
    assert "试运行" in capsys.readouterr().out
    assert not list((tmp_path / "data").glob("raw/*/*.eml"))


def test_first_poll_records_the_backlog_without_replies_and_answers_what_comes_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _demo(tmp_path)
    assert subbot(settings, "poll", now=AFTER_DEMO) == 0
    out = capsys.readouterr().out
    assert "新邮件12封：处理12封" in out and "首次运行，已有邮件只登记不回复" in out
    assert "不回复（启用前的旧邮件）10封" in out
    assert _outbox(tmp_path) == []
    ledger = _ledger(settings, capsys)
    answered = {key: row["last_reply"] for key, row in ledger.items() if row["last_reply"]}
    assert len(answered) == 9 and set(answered.values()) == {"ack suppressed", "correction suppressed"}
    # 四川's mail said 「方案见附件」 with nothing attached: answered with a correction, still without a plan.
    assert ledger[("四川省石油学会", "plan")]["status"] == "missing" and ledger[("四川省石油学会", "plan")]["versions"] == 0
    # A mail that arrives once the bot runs is answered.
    _deliver(tmp_path, _sample("大庆油田科技馆", "dqkjg@example.com", _day(5, 9, 10)), "new.1.demo")
    assert subbot(settings, "poll", now="2021-05-09T10:30") == 0
    out = capsys.readouterr().out
    assert "新邮件1封：处理1封" in out and "回执1封" in out and "首次运行" not in out
    (reply,) = _outbox(tmp_path)
    assert reply["To"] == "dqkjg@example.com" and "已收到" in str(reply["Subject"])
    ledger = _ledger(settings, capsys)
    assert ledger[("大庆油田科技馆", "plan")]["last_reply"] == "ack sent"
    assert ledger[("北京石油学会", "plan")]["last_reply"] == "ack suppressed"  # the backlog stays unanswered


def test_mail_after_a_first_poll_of_an_empty_mailbox_is_no_backlog(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _demo(tmp_path)
    for demo in (tmp_path / "inbox" / "new").iterdir():
        demo.unlink()
    assert subbot(settings, "poll", now=AFTER_DEMO) == 0
    assert "邮箱共0封" in capsys.readouterr().out
    _deliver(tmp_path, _sample("北京石油学会", "bjsyxh@example.com", _day(5, 9, 10)), "first.demo")
    assert subbot(settings, "poll", now="2021-05-09T10:30") == 0
    out = capsys.readouterr().out
    assert "回执1封" in out and "首次运行" not in out
    assert [m["To"] for m in _outbox(tmp_path)] == ["bjsyxh@example.com"]


def test_reply_cap_stops_replies_to_a_sender_for_the_day_and_they_resume_the_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _demo(tmp_path, reply_cap_per_day=2)
    assert subbot(settings, "poll", "--reply-backlog", now=AFTER_DEMO) == 0
    answered_before = len(_outbox(tmp_path))
    # A loop, or an eager sender: three mails in one morning, each of which would get an ack.
    for minute in (0, 10, 20):
        _deliver(tmp_path, _sample("北京石油学会", "bjsyxh@example.com", _day(5, 10, 9, minute)), f"10.{minute}.demo")
    capsys.readouterr()
    assert subbot(settings, "poll", now="2021-05-10T10:00") == 0
    assert "处理3封" in capsys.readouterr().out
    today = _outbox(tmp_path)[answered_before:]
    assert [m["To"] for m in today] == ["bjsyxh@example.com"] * 2
    row = _ledger(settings, capsys)[("北京石油学会", "plan")]
    assert (row["versions"], row["last_reply"]) == (4, "none")
    assert subbot(settings, "ledger") == 0
    assert "未回复（已达当日上限）" in capsys.readouterr().out
    # The next day the sender is answered again.
    _deliver(tmp_path, _sample("北京石油学会", "bjsyxh@example.com", _day(5, 11, 9)), "11.0.demo")
    assert subbot(settings, "poll", now="2021-05-11T10:00") == 0
    assert "回执1封" in capsys.readouterr().out
    assert [m["To"] for m in _outbox(tmp_path)[answered_before + 2 :]] == ["bjsyxh@example.com"]
    row = _ledger(settings, capsys)[("北京石油学会", "plan")]
    assert (row["versions"], row["last_reply"]) == (5, "ack sent")


# --- retry -----------------------------------------------------------------------------------------


def _failed(folder: Path) -> list[MessageRow]:
    engine = _engine(folder)
    try:
        with Session(engine) as session:
            query = select(MessageRow).where(MessageRow.status == "failed").order_by(MessageRow.id)
            return list(session.execute(query).scalars())
    finally:
        engine.dispose()


def test_a_message_that_failed_is_kept_with_its_traceback_and_retried_once_the_cause_is_gone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An honest cause: staff's own ack template names a field the bot does not have.
    templates = tmp_path / "templates"
    templates.mkdir()
    broken = templates / "ack.txt"
    broken.write_text("{{ sender_name }}：已收到。{{ branch_secretary }}\n", encoding="utf-8")
    settings = _demo(tmp_path, templates_dir=str(templates))
    assert subbot(settings, "poll", "--reply-backlog", now=AFTER_DEMO) == 0
    out = capsys.readouterr().out
    failed = _failed(tmp_path)
    # Every plan form that would have been acknowledged failed; the corrections went out.
    assert {m.sender for m in failed} >= {
        "bjsyxh@example.com",
        "dizhi.zwh@example.com",
        "gongcheng@example.com",
        "office@kexie.example.net",
        "xjsyxh@example.com",
    }
    assert f"失败{len(failed)}封" in out
    assert len(_outbox(tmp_path)) == 10 - len(failed)
    for message in failed:
        assert message.error.startswith("Traceback")
        assert "UndefinedError: 'branch_secretary' is undefined" in message.error
    first = failed[0].id
    assert subbot(settings, "ledger") == 0
    table = capsys.readouterr().out
    assert "处理失败" in table and "subbot retry" in table and "'branch_secretary' is undefined" in table
    # Retried while the cause is still there: still failed, tried twice, nothing sent.
    assert subbot(settings, "retry", str(first), now=AFTER_DEMO) == 1
    assert f"邮件 {first} 重试仍失败" in capsys.readouterr().err
    assert [m.attempts for m in _failed(tmp_path) if m.id == first] == [2]
    # Staff fix the template (here: drop the override); the retry processes the mail and answers it.
    broken.unlink()
    assert subbot(settings, "retry", str(first), now=AFTER_DEMO) == 0
    assert f"邮件 {first} 已重新处理：processed，回复：回执" in capsys.readouterr().out
    assert first not in [m.id for m in _failed(tmp_path)]
    (reply,) = _outbox(tmp_path)[10 - len(failed) :]
    assert "已收到" in str(reply["Subject"]) and reply["To"] == "bjsyxh@example.com"  # the first mail's sender
    assert _ledger(settings, capsys)[("北京石油学会", "plan")]["last_reply"] == "ack sent"
    # A processed message is not processed twice; an unknown one is said to be unknown.
    assert subbot(settings, "retry", str(first), now=AFTER_DEMO) == 1
    assert f"邮件 {first} 已处理" in capsys.readouterr().err
    assert subbot(settings, "retry", "9999", now=AFTER_DEMO) == 1
    assert "账本中没有邮件 9999" in capsys.readouterr().err
    assert len(_outbox(tmp_path)) == 11 - len(failed)


# --- ledger ----------------------------------------------------------------------------------------


def test_ledger_json_has_one_row_per_roster_branch_and_deliverable_as_the_poll_left_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], roster: Roster
) -> None:
    settings = _demo(tmp_path)
    assert subbot(settings, "poll", "--reply-backlog", now=AFTER_DEMO) == 0
    capsys.readouterr()
    ledger = _ledger(settings, capsys)
    names = [branch.name for branch in roster.branches]
    assert all(set(row) == LEDGER_KEYS for row in ledger.values())
    assert {key for key, row in ledger.items() if row["in_roster"]} == {
        (n, d) for n in names for d in ("plan", "summary")
    }
    # Beyond the roster: the one sender it does not list, shown so staff can add or answer it.
    assert [key for key, row in ledger.items() if not row["in_roster"]] == [
        ("（未知发件人）office@kexie.example.net", "plan")
    ]
    expected = {
        ("北京石油学会", "plan"): ("accepted", 1, False, "ack sent", "2021-04-28T10:00:00+08:00"),
        ("石油地质专业委员会", "plan"): ("accepted", 1, False, "ack sent", "2021-04-30T10:00:00+08:00"),
        ("石油工程专业委员会", "plan"): ("accepted", 2, False, "ack sent", "2021-05-05T10:00:00+08:00"),
        # 「方案见附件」 with nothing attached: answered with a correction, and no version of a plan yet.
        ("四川省石油学会", "plan"): ("missing", 0, False, "correction sent", "2021-05-04T10:00:00+08:00"),
        ("黑龙江省石油学会", "plan"): ("unreadable", 1, False, "correction sent", "2021-05-04T16:00:00+08:00"),
        ("石油炼制分会", "plan"): ("needs_correction", 1, False, "correction sent", "2021-05-06T09:00:00+08:00"),
        ("新疆石油学会", "plan"): ("accepted", 1, True, "ack sent", "2021-05-08T10:00:00+08:00"),
        ("（未知发件人）office@kexie.example.net", "plan"): (
            "accepted",
            1,
            False,
            "ack sent",
            "2021-05-05T11:00:00+08:00",
        ),
    }
    for key, (status, versions, late, last_reply, arrived) in expected.items():
        row = ledger[key]
        assert (row["status"], row["versions"], row["late"], row["last_reply"], row["last_arrived"]) == (
            status,
            versions,
            late,
            last_reply,
            arrived,
        ), key
    # The summary (its checks are the summary round's): recorded and answered, whatever the verdict.
    summary = ledger[("胜利油田科技展览馆", "summary")]
    assert (summary["versions"], summary["last_arrived"]) == (1, "2021-06-15T10:00:00+08:00")
    assert summary["last_reply"] in ("ack sent", "correction sent")
    # Every other row is missing: the auto-reply from 青年工作委员会 and the bounce are no submissions.
    for key, row in ledger.items():
        if key not in {*expected, ("胜利油田科技展览馆", "summary")}:
            assert (row["status"], row["versions"], row["last_reply"], row["last_arrived"]) == ("missing", 0, "", None)
    # What the ledger says was sent is what the outbox holds: one reply per mail, to its sender.
    sent_to = sorted(str(m["To"]) for m in _outbox(tmp_path))
    assert len(sent_to) == 10 and sent_to.count("gongcheng@example.com") == 2
    for (branch, _), row in ledger.items():
        if row["last_reply"].endswith(" sent") and row["in_roster"]:
            emails = next(b.emails for b in roster.branches if b.name == branch)
            assert set(emails) & set(sent_to), branch
    assert subbot(settings, "ledger") == 0
    table = capsys.readouterr().out
    assert "新疆石油学会" in table and "已受理（逾期）" in table and "修改通知已发送" in table


def test_a_mailbox_that_cannot_work_is_a_clear_message_and_exit_3_not_a_traceback(tmp_path: Path) -> None:
    settings = tmp_path / "bot.toml"
    settings.write_text(
        f'[bot]\ndata_dir = "{tmp_path / "data"}"\n[mailbox]\ntype = "maildir"\npath = "{tmp_path / "nope"}"\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--settings", settings, "poll"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 3
    assert "邮箱设置有误，需要人工处理" in done.stderr and "Traceback" not in done.stderr
    assert "alembic" not in done.stderr  # migrations are quiet unless -v
    assert oct((tmp_path / "data" / "ledger.sqlite3").stat().st_mode & 0o777) == "0o600"
