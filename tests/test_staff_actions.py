"""Staff overruling the bot from a terminal (`subbot accept|ask|exempt|unexempt|assign|release|resend|note|done
--json`) on the demo's ledger as one poll left it (a real SQLite file, replies written to an outbox folder): after
each command, where the branches stand (`subbot ledger --json`), the ledger's record of who did what, when and why,
the letters it queued, the reminders due and the digest. A wrong number, name or state is refused in Chinese and
changes nothing but the record of the refusal."""

from __future__ import annotations

import datetime as dt
import email
import json
import shutil
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from standings import ledger

from bot.cli import main
from bot.demo import conversation, seed
from bot.ledger.schema import KnownAddressRow, MessageRow, ReplyRow, StaffActionRow

BEIJING = dt.timezone(dt.timedelta(hours=8))
POLLED = "2021-05-09T09:00"  # every demo mail in, the plan deadline (05-06) past
NOW = "2021-05-10T09:30"  # when staff act
ACTED = dt.datetime(2021, 5, 10, 9, 30, tzinfo=BEIJING)


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's Maildir (with its conversation: a thank-you, a question, a cloud link) polled once and answered
    (its mails not taken as a backlog): copied for each test."""
    folder = tmp_path_factory.mktemp("demo")
    settings = seed(folder, conversation())
    assert main(["--settings", str(settings), "--now", POLLED, "poll", "--reply-backlog"]) == 0
    return folder


@pytest.fixture
def demo(polled: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(polled, folder)
    settings = folder / "bot.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(str(polled), str(folder)), encoding="utf-8")
    return settings


def subbot(settings: Path, capsys: pytest.CaptureFixture[str], *args: str, now: str = NOW) -> tuple[int, dict[str, Any]]:
    """A staff command with --json: its exit status and its one JSON object."""
    capsys.readouterr()
    code = main(["--settings", str(settings), "--now", now, *args, "--json"])
    (line,) = capsys.readouterr().out.splitlines()
    return code, json.loads(line)


def status(settings: Path, capsys: pytest.CaptureFixture[str], branch: str, deliverable: str = "plan") -> str:
    return str(ledger(settings, capsys)[(branch, deliverable)]["status"])


def _session(settings: Path) -> Session:
    return Session(create_engine(f"sqlite:///{settings.parent / 'data' / 'ledger.sqlite3'}"))


def actions(settings: Path) -> list[StaffActionRow]:
    with _session(settings) as session:
        rows = list(session.execute(select(StaffActionRow).order_by(StaffActionRow.id)).scalars())
        session.expunge_all()
    return rows


def message(settings: Path, pk: int) -> MessageRow:
    with _session(settings) as session:
        row = session.get(MessageRow, pk)
        assert row is not None
        session.expunge(row)
    return row


def outbox(settings: Path) -> list[EmailMessage]:
    found = []
    for path in sorted((settings.parent / "outbox").glob("*.eml"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
        parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        found.append(parsed)
    return found


def body(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def reminded(settings: Path, capsys: pytest.CaptureFixture[str], now: str) -> list[str]:
    """Who `subbot remind --dry-run` says is due today, as its lines read."""
    capsys.readouterr()
    assert main(["--settings", str(settings), "--now", now, "remind", "--dry-run"]) == 0
    return [line.strip() for line in capsys.readouterr().out.splitlines()[1:]]


def digest_text(settings: Path, tmp_path: Path, now: str = "2021-05-11T08:00") -> str:
    preview = tmp_path / "digest.html"
    assert main(["--settings", str(settings), "--now", now, "digest", "--preview", str(preview)]) == 0
    return preview.read_text(encoding="utf-8")


# --- each verb ------------------------------------------------------------------------------------


def test_accept_stands_a_plan_with_findings_accepted_tells_the_branch_and_is_recorded(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert status(demo, capsys, "石油炼制分会") == "needs_correction"
    letters = len(outbox(demo))
    code, said = subbot(demo, capsys, "accept", "p2021-11", "--note", "电话已确认，分机号无误", "--notify")
    assert (code, said) == (0, {"done": True, "message": "P2021-0011（石油炼制分会的筹备方案）已改为已受理，并已通知单位"})
    assert status(demo, capsys, "石油炼制分会") == "accepted"
    (row,) = actions(demo)
    assert (row.verb, row.via, row.receipt, row.branch, row.deliverable) == ("accept", "cli", "P2021-0011", "石油炼制分会", "plan")
    assert row.who.startswith("命令行（") and row.text == "电话已确认，分机号无误"
    assert (row.before, row.refused, row.message_pk) == ("needs_correction", "", 11)
    assert row.at.replace(tzinfo=dt.UTC) == ACTED
    # The branch's receipt, in answer to its own mail.
    (notice,) = outbox(demo)[letters:]
    original = message(demo, 11)
    assert notice["To"].addresses[0].addr_spec == original.sender
    assert notice["In-Reply-To"] == original.message_id
    assert "经审核已受理，回执号 P2021-0011" in str(notice["Subject"])
    assert "工作人员说明：电话已确认，分机号无误" in body(notice)
    # The digest says who accepted it; its activity is counted accepted in the 汇总表's source.
    page = digest_text(demo, tmp_path)
    assert "工作人员处理记录" in page and "通过 P2021-0011 电话已确认，分机号无误" in page
    # A second time is a wrong state: refused, recorded, nothing sent.
    code, said = subbot(demo, capsys, "accept", "P2021-0011")
    assert (code, said["message"]) == (1, "P2021-0011 已是已受理")
    assert actions(demo)[-1].refused == "P2021-0011 已是已受理"
    assert len(outbox(demo)) == letters + 1


def test_ask_sends_the_branch_staff_words_threaded_and_leaves_its_standing(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    letters = len(outbox(demo))
    code, said = subbot(demo, capsys, "ask", "P2021-0011", "请在联系电话中补上区号，例如 010-62067126")
    assert (code, said["message"]) == (0, "已向石油炼制分会发送修改意见（回复其 P2021-0011）")
    (letter,) = outbox(demo)[letters:]
    assert letter["In-Reply-To"] == message(demo, 11).message_id
    assert "请修改后重新发送，登记号 P2021-0011" in str(letter["Subject"])
    assert "请在联系电话中补上区号，例如 010-62067126" in body(letter)
    assert status(demo, capsys, "石油炼制分会") == "needs_correction"
    (row,) = actions(demo)
    assert (row.verb, row.text, row.refused) == ("ask", "请在联系电话中补上区号，例如 010-62067126", "")
    code, said = subbot(demo, capsys, "ask", "P2021-0011", "  ")
    assert (code, said["message"]) == (1, "请写明要单位修改的内容")


def test_exempt_shows_status_exempt_stops_reminders_and_unexempt_undoes_it(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Three days before the summary deadline, the branches with an accepted plan are reminded of their summary.
    day = "2021-06-15T09:00"
    assert "北京石油学会：活动总结未报送，距截止 3 天" in reminded(demo, capsys, day)
    code, said = subbot(demo, capsys, "exempt", "北京市石油学会", "summary", "--note", "今年只办活动不报总结")
    assert (code, said["message"]) == (0, "北京石油学会的活动总结已豁免（不再提醒）")
    assert status(demo, capsys, "北京石油学会", "summary") == "exempt"
    assert not [line for line in reminded(demo, capsys, day) if line.startswith("北京石油学会")]
    (row,) = actions(demo)
    assert (row.verb, row.branch, row.deliverable, row.text, row.receipt) == (
        "exempt", "北京石油学会", "summary", "今年只办活动不报总结", None
    )
    page = digest_text(demo, tmp_path)
    assert "豁免 北京石油学会 活动总结 今年只办活动不报总结" in page
    # Twice is a wrong state; the undo brings the reminders back.
    assert subbot(demo, capsys, "exempt", "北京石油学会", "summary")[1]["message"] == "北京石油学会的活动总结已是豁免"
    code, said = subbot(demo, capsys, "unexempt", "北京石油学会", "summary")
    assert (code, said["message"]) == (0, "北京石油学会的活动总结已取消豁免")
    assert status(demo, capsys, "北京石油学会", "summary") == "missing"
    assert "北京石油学会：活动总结未报送，距截止 3 天" in reminded(demo, capsys, day)
    code, said = subbot(demo, capsys, "unexempt", "北京石油学会", "summary")
    assert (code, said["message"]) == (1, "北京石油学会的活动总结并未豁免")
    assert [(a.verb, a.refused != "") for a in actions(demo)] == [
        ("exempt", False), ("exempt", True), ("unexempt", False), ("unexempt", True)
    ]


def test_exempt_of_a_plan_not_sent_counts_it_exempt_in_the_digest(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _ = subbot(demo, capsys, "exempt", "青工委", "plan")
    assert code == 0 and status(demo, capsys, "青年工作委员会") == "exempt"
    assert "豁免" in digest_text(demo, tmp_path).split("工作人员处理记录")[0]  # the counts' 豁免 row


def test_assign_credits_an_unknown_senders_plan_and_learns_its_address(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = ledger(demo, capsys)
    assert before[("（未知发件人）office@kexie.example.net", "plan")]["status"] == "accepted"
    assert before[("四川省石油学会", "plan")]["status"] == "missing"
    code, said = subbot(demo, capsys, "assign", "P2021-0009", "四川石油学会", "--add-address")
    assert (code, said["message"]) == (0, "P2021-0009 已记在四川省石油学会名下，并将其发件地址登记为四川省石油学会的地址")
    after = ledger(demo, capsys)
    assert ("（未知发件人）office@kexie.example.net", "plan") not in after
    assert (after[("四川省石油学会", "plan")]["status"], after[("四川省石油学会", "plan")]["versions"]) == ("accepted", 1)
    (row,) = actions(demo)
    assert (row.verb, row.branch, row.before) == ("assign", "四川省石油学会", "sender:office@kexie.example.net")
    with _session(demo) as session:
        (known,) = session.execute(select(KnownAddressRow)).scalars()
        assert (known.address, known.branch, known.how, known.message_pk) == (
            "office@kexie.example.net", "四川省石油学会", "staff", 9
        )
    assert subbot(demo, capsys, "assign", "P2021-0009", "四川省石油学会")[1]["message"] == "P2021-0009 已记在四川省石油学会名下"


def test_release_lets_a_held_question_go_on_and_its_number_still_names_it(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert message(demo, 4).kind == "for_person"
    assert "已处理 M2021-0004" in digest_text(demo, tmp_path)  # the line that resolves it
    code, said = subbot(demo, capsys, "release", "M2021-0004")
    assert (code, said["message"]) == (0, "M2021-0004（转工作人员）已放行，按普通来信重新处理")
    # Taken in again as an ordinary mail: a plan with no file, which is what its subject claims.
    released = message(demo, 4)
    assert (released.kind, released.receipt) == ("submission", "P2021-0004")
    assert "已处理 M2021-0004" not in digest_text(demo, tmp_path)
    # Staff keep the number they read: the letter follows what the mail became, the number names it.
    code, said = subbot(demo, capsys, "note", "M2021-0004", "已电话联系张堃")
    assert (code, said["message"]) == (0, "已为P2021-0004添加备注")
    assert subbot(demo, capsys, "release", "M2021-0004")[1]["message"] == "P2021-0004 没有被暂扣，无需放行"
    assert [(a.verb, a.message_pk, a.before) for a in actions(demo)] == [
        ("release", 4, "for_person"), ("note", 4, ""), ("release", 4, "")
    ]


def test_resend_queues_the_last_letter_again_with_a_new_message_id(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    letters = outbox(demo)
    (correction,) = [m for m in letters if m["To"].addresses[0].addr_spec == "lianzhi@example.com"]
    code, said = subbot(demo, capsys, "resend", "P2021-0011")
    assert (code, said["message"]) == (0, "已重发P2021-0011的修改通知")
    (again,) = outbox(demo)[len(letters):]
    assert (again["Subject"], again["To"], again["In-Reply-To"]) == (correction["Subject"], correction["To"], correction["In-Reply-To"])
    assert body(again) == body(correction) and again["Message-ID"] != correction["Message-ID"]
    with _session(demo) as session:
        last = session.execute(select(ReplyRow).order_by(ReplyRow.id.desc()).limit(1)).scalar_one()
        assert (last.about_pk, last.kind, last.status) == (11, "correction", "sent")
        assert last.reason.startswith("resent by 命令行（")


def test_done_marks_a_mail_for_a_person_handled_once(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, said = subbot(demo, capsys, "done", "M2021-0004")
    assert (code, said["message"]) == (0, "M2021-0004 已标记为已处理")
    page = digest_text(demo, tmp_path)
    assert "已处理 M2021-0004" in page.split("工作人员处理记录")[1]  # in the record, no longer among the waiting
    assert "处理后回复一行：</span><code style=\"font-size:12px;word-break:break-all\">已处理 M2021-0004" not in page
    assert subbot(demo, capsys, "done", "M2021-0004")[1]["message"] == "M2021-0004 已标记为已处理"
    assert [(a.verb, a.refused) for a in actions(demo)] == [("done", ""), ("done", "M2021-0004 已标记为已处理")]
    assert message(demo, 4).kind == "for_person"  # nothing about the mail itself changed


# --- refusals --------------------------------------------------------------------------------------

REFUSED = [
    (("accept", "P2021-9999"), "账本中没有回执号 P2021-9999"),
    (("accept", "X12"), "回执号的格式应为 P2021-0009（筹备方案）、S2021-0012（活动总结）或 M2021-0007"),
    (("accept", "M2021-0002"), "M2021-0002 不是一份报送的材料（没有可受理的文件），无法通过"),
    (("accept", "P2021-0001"), "P2021-0001 已是已受理"),
    (("exempt", "不存在的学会", "plan"), "名单中没有单位「不存在的学会」（可用单位全称或别名）"),
    (("exempt", "北京石油学会", "plan"), "北京石油学会的筹备方案已受理，无需豁免"),
    (("assign", "P2021-0009", "某市科协"), "名单中没有单位「某市科协」（可用单位全称或别名）"),
    (("assign", "P2021-0001", "北京石油学会"), "P2021-0001 已记在北京石油学会名下"),
    (
        ("assign", "P2021-0003", "北京石油学会", "--add-address"),
        "地址 dizhi.zwh@example.com 已属于石油地质专业委员会，不能再添加给北京石油学会",
    ),
    (("release", "P2021-0001"), "P2021-0001 没有被暂扣，无需放行"),
    (("resend", "M2021-0002"), "M2021-0002 没有发过回复，无可重发"),
    (("note", "P2021-0001", " "), "请写明备注内容"),
    (("done", "P2021-0001"), "P2021-0001 不是等待人工处理的邮件，无需标记已处理"),
]


def test_a_wrong_number_name_or_state_is_refused_in_chinese_and_changes_nothing(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, letters = ledger(demo, capsys), len(outbox(demo))
    for args, why in REFUSED:
        assert subbot(demo, capsys, *args) == (1, {"done": False, "message": why}), args
    assert ledger(demo, capsys) == before and len(outbox(demo)) == letters
    with _session(demo) as session:
        assert session.execute(select(KnownAddressRow)).first() is None
    # What reached the ledger is recorded as refused, with why; a malformed number or an unknown name does not.
    recorded = [(a.verb, a.refused) for a in actions(demo)]
    assert recorded == [(args[0], why) for args, why in REFUSED if "名单中没有" not in why and "格式" not in why]


def test_without_json_the_answer_is_one_chinese_line(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--settings", str(demo), "--now", NOW, "note", "P2021-0001", "已电话确认收到"]) == 0
    assert capsys.readouterr().out == "已完成：已为P2021-0001添加备注\n"
    assert main(["--settings", str(demo), "--now", NOW, "done", "P2021-0001"]) == 1
    assert capsys.readouterr().err == "未执行：P2021-0001 不是等待人工处理的邮件，无需标记已处理\n"


def test_the_rollup_workbook_keeps_every_staff_action_with_its_result(
    demo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert subbot(demo, capsys, "accept", "P2021-0011", "--note", "分机号经电话确认")[0] == 0
    assert subbot(demo, capsys, "exempt", "青年工作委员会", "summary", now="2021-05-10T10:15")[0] == 0
    assert subbot(demo, capsys, "release", "P2021-0001", now="2021-05-10T10:20")[0] == 1
    workbook = tmp_path / "汇总表.xlsx"
    assert main(["--settings", str(demo), "--now", "2021-05-11T08:00", "export", "--xlsx", str(workbook)]) == 0
    book = openpyxl.load_workbook(workbook)
    sheet = book["工作人员处理记录"]
    assert sheet["A1"].value.endswith("工作人员处理记录") and "共3条，其中未执行1条" in sheet["A2"].value
    assert [c.value for c in sheet[3]] == ["序号", "时间", "操作人", "方式", "操作", "回执号", "单位", "材料", "说明", "结果"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=5)]
    who = rows[0][2]
    assert who.startswith("命令行（")
    assert rows == [
        [1, dt.datetime(2021, 5, 10, 9, 30), who, "命令行", "通过", "P2021-0011", "石油炼制分会", "筹备方案", "分机号经电话确认", "已执行"],
        [2, dt.datetime(2021, 5, 10, 10, 15), who, "命令行", "豁免", None, "青年工作委员会", "活动总结", None, "已执行"],
        [3, dt.datetime(2021, 5, 10, 10, 20), who, "命令行", "放行", "P2021-0001", "北京石油学会", "筹备方案", None,
         "未执行：P2021-0001 没有被暂扣，无需放行"],
    ]
