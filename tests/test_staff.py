"""What staff write to the bot: every mail in tests/fixtures/staff/ reads, through `parse_message`, `new_text`,
`staff_sender` and `read_commands`, as the commands and the verdict on its sender written beside it; then each
command's words, arguments and options, and who may give them, one at a time.

The mails and their answers come from tests/fixtures/staff/make_staff.py."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from config.roster import load_roster
from parsers.auth import check_sender
from parsers.message import parse_message
from parsers.quotes import new_text
from parsers.staff import MAX_COMMANDS, USAGE, VERBS, CommandLine, Refusal, StaffCommand, read_commands, staff_sender

MAILS = Path(__file__).parent / "fixtures" / "staff"
CASES = sorted(MAILS.glob("*.eml"))
ROSTER = load_roster(MAILS / "roster.csv")
NAMES = {b.name: b.aliases for b in ROSTER.branches}
STAFF = ("liming_kepu@qq.com", "WangFang@cpsoffice.example.cn", "zhaolei@cpsoffice.example.cn")
REQUIRE = ("dmarc", "dkim")


def as_data(found: CommandLine) -> dict[str, Any]:
    if isinstance(found, Refusal):
        return {"refused": found.code, "line": found.line}
    return {
        "verb": found.verb,
        "receipt": found.receipt,
        "branch": found.branch,
        "deliverable": found.deliverable,
        "text": found.text,
        "flags": sorted(found.flags),
        "line": found.line,
    } | ({"address": found.address} if found.address else {})


def read(text: str) -> tuple[CommandLine, ...]:
    return read_commands(text, NAMES)


def one(text: str) -> StaffCommand:
    found = read(text)
    assert len(found) == 1 and isinstance(found[0], StaffCommand), found
    return found[0]


def refusal(text: str) -> Refusal:
    found = read(text)
    assert len(found) == 1 and isinstance(found[0], Refusal), found
    return found[0]


def test_there_are_golden_staff_mails_of_each_kind() -> None:
    expected = [json.loads(p.with_suffix(".expected.json").read_text(encoding="utf-8")) for p in CASES]
    assert len(CASES) >= 15
    assert {e["staff"]["ok"] for e in expected} == {True, False}
    verbs = {c["verb"] for e in expected for c in e["commands"] if "verb" in c}
    assert verbs == set(VERBS)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_staff_mail(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    mail = parse_message(path.read_bytes(), frozenset({"kepu@example.org"}), frozenset({"mx.example.org"}))
    assert not mail.problems
    check = staff_sender(mail, STAFF, REQUIRE)
    assert {"staff_address": check.staff_address, "ok": check.ok, "method": check.method} == expected["staff"], (
        check.reason
    )
    assert check.reason and (check.ok or check.reason_zh)
    assert [as_data(c) for c in read(new_text(mail.body_text))] == expected["commands"]


# --- each command's words ------------------------------------------------------------------------


@pytest.mark.parametrize(("verb", "word"), [(verb, word) for verb, words in VERBS.items() for word in words])
def test_each_word_gives_its_command(verb: str, word: str) -> None:
    if verb in ("exempt", "unexempt"):
        line = f"{word} 北京石油学会 筹备方案"
        expected: tuple[str | None, str | None] = (None, "北京石油学会")
    elif verb == "assign":
        line = f"{word} 北京石油学会 M2021-0007"
        expected = ("M2021-0007", "北京石油学会")
    elif verb == "forget":
        line = f"{word} zhang.san@qq.com 说明"
        assert one(line).address == "zhang.san@qq.com"
        expected = (None, None)
    else:
        line = f"{word} P2021-0009 说明"
        expected = ("P2021-0009", None)
    command = one(line)
    assert (command.verb, command.receipt, command.branch, command.line) == (verb, *expected, line)


def test_the_longest_word_wins() -> None:
    assert one("取消豁免 北京石油学会 方案").verb == "unexempt"
    assert one("解除暂扣 M2021-0003").text == ""
    assert one("退回修改 P2021-0009 请补全日期").text == "请补全日期"
    assert one("已处理完毕 M2021-0014").verb == "done"


@pytest.mark.parametrize(
    "line",
    [
        "通过P2021-0009",
        "通过 p2021-0009",
        "通过：P2021-0009",
        "通过:P2021-0009",
        "通过　Ｐ２０２１－０００９",
        "通过 P2021—0009",  # an em dash from a Chinese input method
        "通过 P2021-9",
        "通过 P 2021-0009",
        "P2021-0009 通过",
        "- 通过 P2021-0009",
        "1、通过 P2021-0009",
        "（1）通过 P2021-0009",
        "① 通过 P2021-0009",
        "subbot accept P2021-0009",
    ],
)
def test_a_receipt_is_read_however_it_is_written(line: str) -> None:
    command = one(line)
    assert (command.verb, command.receipt, command.text) == ("accept", "P2021-0009", "")


def test_several_receipts_on_one_line_are_several_commands() -> None:
    found = read("已处理 M2021-0014、M2021-0015和M2021-0016，P2021-0020 已电话答复")
    assert [c.receipt for c in found if isinstance(c, StaffCommand)] == [
        "M2021-0014",
        "M2021-0015",
        "M2021-0016",
        "P2021-0020",
    ]
    assert {c.text for c in found if isinstance(c, StaffCommand)} == {"已电话答复"}
    # A receipt further on is the staff's words, not an argument.
    assert one("备注 P2021-0010 同一活动见P2021-0003").text == "同一活动见P2021-0003"


def test_staffs_words_are_kept_as_written() -> None:
    assert (
        one("请修改 P2021-0009 第三阶段日期请写具体日期，如“6月12日”。").text
        == "第三阶段日期请写具体日期，如“6月12日”。"
    )
    assert one("通过P2021-0009电话已确认").text == "电话已确认"
    assert one("accept P2021-0009 --note confirmed by phone").text == "confirmed by phone"


@pytest.mark.parametrize(
    ("line", "flags", "text"),
    [
        ("通过 P2021-0009 电话已确认，并通知单位", {"notify"}, "电话已确认"),
        ("通过 P2021-0009 并通知 电话已确认", {"notify"}, "电话已确认"),
        ("通过 P2021-0009 电话已确认并通知单位，谢谢", {"notify"}, "电话已确认，谢谢"),
        ("通过 P2021-0009 通知对方", {"notify"}, ""),
        ("通过 P2021-0009 不通知单位", set(), "不通知单位"),
        ("通过 P2021-0009 无需通知单位", set(), "无需通知单位"),
        ("通过 P2021-0009 单位已来电并通知了我们", set(), "单位已来电并通知了我们"),
        ("accept P2021-0009 --notify", {"notify"}, ""),
        ("accept P2021-0009 --no-notify", set(), "--no-notify"),
        ("通过 P2021-0009 已通知单位", set(), "已通知单位"),  # staff did it themselves
        ("accept P2021-0009 we will notify them", set(), "we will notify them"),
        ("请修改 P2021-0009 日期并通知单位", set(), "日期并通知单位"),  # an option of accept only
    ],
)
def test_notify_is_an_option_of_accept(line: str, flags: set[str], text: str) -> None:
    command = one(line)
    assert (set(command.flags), command.text) == (flags, text)


@pytest.mark.parametrize(
    "line",
    [
        "转给 四川省石油学会 M2021-0007 并添加地址",
        "转给 M2021-0007 四川省石油学会 添加地址",
        "M2021-0007 转给 四川石油学会，并加入名单",
        "归属「四川省石油学会」M2021-0007 并添加邮箱",
        "assign M2021-0007 四川省石油学会 --add-address",
    ],
)
def test_assign_takes_the_branch_and_the_receipt_in_either_order(line: str) -> None:
    command = one(line)
    assert (command.verb, command.receipt, command.branch, command.flags) == (
        "assign",
        "M2021-0007",
        "四川省石油学会",
        frozenset({"add_address"}),
    )
    assert command.text == ""


@pytest.mark.parametrize(
    ("line", "deliverables"),
    [
        ("豁免 青年工作委员会 筹备方案", ["plan"]),
        ("豁免青年工作委员会筹备方案", ["plan"]),
        ("免报 青工委 方案", ["plan"]),
        ("豁免 “青年工作委员会” 计划", ["plan"]),
        ("豁免 青年工作委员会的活动总结", ["summary"]),
        ("豁免 青年 工作委员会 总结", ["summary"]),
        ("豁免 青年工作委员会 方案和总结", ["plan", "summary"]),
        ("豁免 活动总结 青年工作委员会", ["summary"]),
        ("exempt 青年工作委员会 plan", ["plan"]),
    ],
)
def test_exempt_names_a_branch_and_what_it_need_not_send(line: str, deliverables: list[str]) -> None:
    found = read(line)
    assert [(c.verb, c.branch) for c in found if isinstance(c, StaffCommand)] == [("exempt", "青年工作委员会")] * len(
        deliverables
    )
    assert [c.deliverable for c in found if isinstance(c, StaffCommand)] == deliverables


def test_a_branch_is_found_by_the_longest_roster_name_it_begins_with() -> None:
    roster = {"中国石油": (), "中国石油大学": ("石大",)}
    assert read_commands("豁免 中国石油大学 方案", roster)[0] == StaffCommand(
        "exempt", None, "中国石油大学", "plan", "", "豁免 中国石油大学 方案"
    )
    assert isinstance(one_of(read_commands("豁免 石大 总结", roster)), StaffCommand)
    shared = read_commands("豁免 石大 总结", {"中国石油大学": ("石大",), "石油大学科普基地": ("石大",)})
    assert isinstance(shared[0], Refusal) and shared[0].code == "ambiguous_branch"


def one_of(found: tuple[CommandLine, ...]) -> CommandLine:
    assert len(found) == 1, found
    return found[0]


# --- what is refused, and what is not read -------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("通过 X2021-0009", "bad_receipt"),
        ("通过 2021-0009", "bad_receipt"),
        ("通过 P21-0009", "bad_receipt"),
        ("通过 电话确认 P2021-0009", "receipt_position"),
        ("通过", "missing_receipt"),
        ("已处理。", "missing_receipt"),
        ("请修改 P2021-0009", "missing_text"),
        ("备注 P2021-0009", "missing_text"),
        ("请修改 P2021-0009 以下几点：", "text_continues"),
        ("豁免 青年工委 方案", "unknown_branch"),
        ("豁免 「第三支部」 方案", "unknown_branch"),
        ("豁免 青年工作委员会", "missing_deliverable"),
        ("豁免 筹备方案", "missing_branch"),
        ("豁免", "missing_branch"),
        ("转给 四川省石油学会", "missing_receipt"),
        ("转给 四川 M2021-0007", "unknown_branch"),
        ("删除 P2021-0009", "unknown_verb"),
        ("P2021-0009 删除", "unknown_verb"),
        ("P2021-0009 豁免", "unknown_verb"),
    ],
)
def test_a_line_that_looks_like_a_command_but_cannot_be_done_is_refused(line: str, code: str) -> None:
    refused = refusal(line)
    assert (refused.code, refused.line) == (code, line)
    assert refused.reason_zh


def test_a_refusal_says_why_and_how_in_chinese() -> None:
    assert "是否指“青年工作委员会”" in refusal("豁免 青年工委 方案").reason_zh
    assert "“X2021-0009”不是回执号" in refusal("通过 X2021-0009").reason_zh
    assert USAGE["accept"] in refusal("通过").reason_zh
    assert "通过、请修改、豁免" in refusal("删除 P2021-0009").reason_zh


def test_usage_commands_nothing() -> None:
    """The answer to staff prints how each command is written: quoted back, that commands nothing."""
    text = "\n".join(USAGE.values())
    assert all(isinstance(c, Refusal) for c in read(text))
    assert not [c for c in read(text) if isinstance(c, StaffCommand)]


@pytest.mark.parametrize(
    "line",
    [
        "谢谢",
        "收到，谢谢！",
        "同意，谢谢",
        "通过率很高",
        "注：明天我不在办公室",
        "注意查收",
        "完成情况良好",
        "转给您看一下",
        "豁免，是指免于报送",
        "记录一下",
        "Done, thanks",
        "Note that the deadline moved",
        "accepted",
        "王芳",
        "电话：010-84562370",
        "回复本邮件一行：通过 P2021-0009",  # the digest's hint, pasted whole
        "单位已电话确认时，回复本邮件一行：通过 P2021-0009",
    ],
)
def test_lines_that_are_not_commands_are_not_read(line: str) -> None:
    assert read(line) == ()


def test_a_long_or_hostile_text_is_read_in_linear_time() -> None:
    roster = {f"第{n}支部": (f"{n}支",) for n in range(500)}
    receipts = " ".join(f"P2021-{n:04d}" for n in range(1, 180))  # 1,970 characters: still a line
    started = time.perf_counter()
    assert len(read_commands("已处理 " + receipts, roster)) == 179
    assert read_commands("通过 " + "P2021-0009、" * 20_000, roster) == ()  # no command is that long
    refused = read_commands(("豁免 「第1支」 方案\n") * 5000, roster)
    assert [c.code for c in refused if isinstance(c, Refusal)] == ["unknown_branch"] * MAX_COMMANDS + ["too_many"]
    assert read_commands(("豁免 " + "第1" * 900 + "\n") * 500, roster) == ()
    assert read_commands("注" * 200_000 + "\n" + "注 " * 900, roster) == ()
    assert time.perf_counter() - started < 5


# --- who may command -----------------------------------------------------------------------------


def mail_from(sender: str, *results: str, headers: tuple[str, ...] = ()) -> bytes:
    lines = [f"Authentication-Results: {r}" for r in results]
    return "\r\n".join([*lines, *headers, f"From: <{sender}>", "Subject: x", "", "通过 P2021-0009", ""]).encode()


def check(raw: bytes, require: tuple[str, ...] = REQUIRE) -> tuple[bool, str]:
    result = staff_sender(parse_message(raw, authserv_ids=frozenset({"mx.example.org"})), STAFF, require)
    return result.ok, result.method


def test_a_staff_address_is_compared_without_case() -> None:
    dkim = "mx.example.org; dkim=pass header.d=cpsoffice.example.cn"
    assert check(mail_from("wangfang@cpsoffice.example.cn", dkim)) == (True, "dkim")
    assert check(mail_from("WANGFANG@CPSOFFICE.EXAMPLE.CN", "mx.example.org; dmarc=pass")) == (True, "dmarc")


def test_only_the_required_methods_count() -> None:
    dkim = mail_from("liming_kepu@qq.com", "mx.example.org; dkim=pass header.d=qq.com; dmarc=none")
    assert check(dkim) == (True, "dkim")
    assert check(dkim, ("dmarc",)) == (False, "")
    both = mail_from("liming_kepu@qq.com", "mx.example.org; dkim=pass header.d=qq.com; dmarc=pass header.from=qq.com")
    assert check(both, ("dkim", "dmarc")) == (True, "dkim")  # the settings' order names the method


def test_a_pass_for_another_domain_does_not_vouch_for_staff() -> None:
    other = "mx.example.org; dkim=pass header.d=forger.example; dmarc=pass header.from=forger.example"
    assert check(mail_from("liming_kepu@qq.com", other)) == (False, "")
    assert check(mail_from("liming_kepu@qq.com", "mx.example.org; dkim=pass header.d=com")) == (False, "")


def test_a_failure_refuses_whatever_else_passed() -> None:
    raw = mail_from("liming_kepu@qq.com", "mx.example.org; dkim=pass header.d=qq.com; dmarc=fail header.from=qq.com")
    result = staff_sender(parse_message(raw, authserv_ids=frozenset({"mx.example.org"})), STAFF, REQUIRE)
    assert (result.ok, result.staff_address, result.address) == (False, True, "liming_kepu@qq.com")
    assert "dmarc=fail" in result.reason and "冒名" in result.reason_zh


def test_not_staff_and_automatic_mail_are_refused_with_reasons() -> None:
    results = "mx.example.org; dmarc=pass"
    stranger = staff_sender(parse_message(mail_from("someone@qq.com", results)), STAFF, REQUIRE)
    assert (stranger.ok, stranger.staff_address, stranger.reason_zh) == (False, False, "发件地址不是工作人员地址")
    auto = mail_from("liming_kepu@qq.com", results, headers=("Auto-Submitted: auto-replied",))
    assert check(auto) == (False, "")


def test_the_methods_that_passed_are_those_for_the_from_domain() -> None:
    header = "mx; dkim=pass header.d=qq.com; spf=pass smtp.mailfrom=bounce@mail.qq.com; dmarc=pass header.from=qq.com"
    assert check_sender([header], "a@qq.com").methods == frozenset({"dkim", "spf", "dmarc"})
    assert check_sender([header], "a@163.com").methods == frozenset()
    assert check_sender(["mx; dmarc=pass"], "a@qq.com").methods == frozenset({"dmarc"})
    failed = check_sender(["mx; dkim=pass header.d=qq.com; dmarc=fail"], "a@qq.com")
    assert (failed.result, failed.methods) == ("fail", frozenset({"dkim"}))
