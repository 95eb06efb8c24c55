"""The roster as staff keep it: every file in tests/fixtures/rosters/ gives the report written beside it; the
checks, the reload while the bot runs and `subbot roster check` on real files.

The files and their answers come from tests/fixtures/make_rosters.py.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from config import ConfigError, load_roster
from config.roster import Branch, RosterSource, check_roster, check_roster_data, default_roster_path, roster_fingerprint

ROSTERS = Path(__file__).parent / "fixtures" / "rosters"
ANSWER = ".expected.json"
CASES = sorted(path for path in ROSTERS.iterdir() if not path.name.endswith(ANSWER))
HEADER = "name,kind,emails,aliases\n"


@pytest.mark.parametrize("path", CASES, ids=[path.name for path in CASES])
def test_golden_roster(path: Path) -> None:
    expected = json.loads(Path(f"{path}{ANSWER}").read_text(encoding="utf-8"))

    report = check_roster(path)

    got = [{"row": p.row, "column": p.column, "code": p.code, "severity": p.severity} for p in report.problems]
    assert got == expected["problems"]
    assert all(p.message for p in report.problems)
    branches = [_branch_json(b) for b in report.roster.branches] if report.roster else None
    assert branches == expected["branches"]


def _branch_json(branch: Branch) -> dict[str, Any]:
    return {"name": branch.name, "kind": branch.kind, "emails": list(branch.emails), "aliases": list(branch.aliases)}


def test_every_roster_has_an_answer() -> None:
    assert sorted(path.name for path in CASES) == sorted(
        p.name.removesuffix(ANSWER) for p in ROSTERS.glob(f"*{ANSWER}")
    )


def test_the_gbk_roster_is_gbk_and_finds_its_branches() -> None:
    data = (ROSTERS / "excel-gbk.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert all(ch in data.decode("gb18030") for ch in "喆堃玥")
    assert "喆" not in data.decode("gb2312", errors="replace")  # outside GB2312: the reader needs GBK at least

    roster = load_roster(ROSTERS / "excel-gbk.csv")

    engineering = roster.find_by_name("喆工程专委会")
    assert engineering is not None and engineering.name == "堃玥石油工程专业委员会"
    assert roster.find_by_address("GC.Office@example.net") == engineering


def test_the_shipped_roster_is_clean() -> None:
    report = check_roster(default_roster_path())
    assert report.problems == ()
    assert report.roster is not None and report.rows == len(report.roster.branches) == 12


@pytest.mark.parametrize(
    ("cell", "emails"),
    [
        ("a@b.cn;c@d.cn", ("a@b.cn", "c@d.cn")),
        ("a@b.cn；c@d.cn", ("a@b.cn", "c@d.cn")),
        ('"a@b.cn, c@d.cn"', ("a@b.cn", "c@d.cn")),
        ('"a@b.cn，c@d.cn"', ("a@b.cn", "c@d.cn")),
        ("a@b.cn、c@d.cn", ("a@b.cn", "c@d.cn")),
        ('"a@b.cn\r\nc@d.cn"', ("a@b.cn", "c@d.cn")),
        ("A@B.CN", ("a@b.cn",)),
        ("ａ＠ｂ．ｃｎ", ("a@b.cn",)),
        ("a。b@c。cn", ("a.b@c.cn",)),
    ],
)
def test_several_addresses_in_a_cell_however_separated(cell: str, emails: tuple[str, ...]) -> None:
    report = check_roster_data(f"{HEADER}甲,分支机构,{cell},\n".encode(), Path("roster.csv"))
    assert report.problems == ()
    assert report.roster is not None and report.roster.branches[0].emails == emails


def test_aliases_split_on_list_marks_but_keep_their_spaces() -> None:
    text = f'{HEADER}甲,分支机构,a@b.cn,"Beijing Society；北京学会、京学会,京会\n甲会"\n'
    report = check_roster_data(text.encode(), Path("roster.csv"))
    assert report.roster is not None
    assert report.roster.branches[0].aliases == ("Beijing Society", "北京学会", "京学会", "京会", "甲会")


@pytest.mark.parametrize(
    ("address", "hint"),
    [
        ("a.b.cn", "缺少 @"),
        ("a@b.cn@c.cn", "多了一个 @"),
        ("a@localhost", "域名不完整"),
        ("a..b@c.cn", ""),
    ],
)
def test_a_bad_address_says_what_is_likely_wrong(address: str, hint: str) -> None:
    report = check_roster_data(f"{HEADER}甲,分支机构,{address},\n".encode(), Path("roster.csv"))
    [problem] = report.problems
    assert (problem.row, problem.column, problem.code, problem.severity) == (2, "emails", "bad_email", "error")
    assert f"「{address}」不是有效的邮箱地址" in problem.message and hint in problem.message
    assert report.roster is None


def test_an_alias_spelled_differently_is_still_the_same_alias() -> None:
    text = f"{HEADER}甲,分支机构,a@b.cn,地质 专委会\n乙,分支机构,c@d.cn,“地质专委会”\n"
    [problem] = check_roster_data(text.encode(), Path("roster.csv")).problems
    assert (problem.row, problem.code) == (3, "duplicate_alias")


def test_load_refuses_the_first_error_and_counts_the_rest() -> None:
    with pytest.raises(ConfigError) as caught:
        load_roster(ROSTERS / "problems.csv")
    assert caught.value.key == "第3行 name"
    assert "与第2行的「石油地质专业委员会」是同一单位名称" in caught.value.problem
    assert "共 7 处错误" in caught.value.problem


def test_load_logs_warnings_and_loads(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="config.roster"):
        roster = load_roster(ROSTERS / "staff.xlsx")
    assert [b.name for b in roster.branches] == ["大庆油田科技馆", "中国石油大学（北京）科普基地", "新疆石油学会"]
    assert ["第4行 类别" in m for m in caplog.messages] == [True, False]
    assert "没有邮箱" in caplog.messages[1]


@pytest.mark.parametrize(
    ("name", "key", "words"),
    [("broken-truncated.xlsx", "", "不是有效的 .xlsx"), ("broken-no-header.csv", "表头", "找不到表头")],
)
def test_load_of_a_broken_file_names_it(name: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_roster(ROSTERS / name)
    assert (caught.value.path, caught.value.key) == (str(ROSTERS / name), key)
    assert words in caught.value.problem and str(ROSTERS / name) in str(caught.value)


def test_a_csv_named_xlsx_is_refused_and_an_xlsx_named_csv_is_read(tmp_path: Path) -> None:
    shutil.copy(ROSTERS / "excel-gbk.csv", tmp_path / "roster.xlsx")
    shutil.copy(ROSTERS / "staff.xlsx", tmp_path / "roster.csv")
    [problem] = check_roster(tmp_path / "roster.xlsx").problems
    assert problem.code == "format"
    assert check_roster(tmp_path / "roster.csv").rows == 3


def _rewrite(path: Path, source: Path) -> None:
    """Another file's bytes, with a later mtime: as a save seconds later would leave it."""
    path.write_bytes(source.read_bytes())
    later = path.stat().st_mtime_ns + 2_000_000_000
    os.utime(path, ns=(later, later))


def test_the_source_reloads_only_when_the_bytes_change(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    shutil.copy(ROSTERS / "excel-gbk.csv", path)
    source = RosterSource(path)
    assert source.changed()
    assert len(source.load().branches) == 3
    assert not source.changed()

    _rewrite(path, ROSTERS / "excel-gbk.csv")  # saved again, nothing changed
    assert not source.changed()

    _rewrite(path, ROSTERS / "excel-utf8-bom.csv")
    assert source.changed()
    assert [b.name for b in source.load().branches] == ["四川省石油学会", "黑龙江省石油学会"]
    assert not source.changed()
    assert roster_fingerprint(path) == roster_fingerprint(ROSTERS / "excel-utf8-bom.csv")


def test_a_broken_save_is_reported_once_and_the_fixed_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    shutil.copy(ROSTERS / "staff.xlsx", path)
    source = RosterSource(path)
    source.load()

    _rewrite(path, ROSTERS / "broken-truncated.xlsx")  # caught half-written
    assert source.changed()
    with pytest.raises(ConfigError, match="不是有效的"):
        source.load()
    assert not source.changed()  # the bot keeps its roster and does not say so on every loop

    path.unlink()
    assert source.changed()
    with pytest.raises(ConfigError, match="无法读取"):
        source.load()
    assert not source.changed()

    _rewrite(path, ROSTERS / "staff.xlsx")
    assert source.changed()
    assert len(source.load().branches) == 3


@pytest.mark.parametrize(("name", "code"), [("excel-gbk.csv", 0), ("staff.xlsx", 1), ("problems.csv", 2)])
def test_roster_check_exits_by_the_worst_problem(name: str, code: int) -> None:
    assert main(["roster", "check", str(ROSTERS / name)]) == code


def test_roster_check_prints_each_problem_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["roster", "check", str(ROSTERS / "problems.csv")]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{ROSTERS / 'problems.csv'}：7 处错误，4 处提醒（共 7 行）"
    assert lines[1] == "  错误 第3行 name：「石油地质 专业委员会」与第2行的「石油地质专业委员会」是同一单位名称"
    assert lines[-2] == "  提醒 第8行 emails：邮箱 bj@example.com 在本行重复"
    assert lines[-1] == "有错误的名单不会被载入，请改正后再检查。"


def test_roster_check_json_and_a_clean_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["roster", "check", str(ROSTERS / "excel-gbk.csv")]) == 0
    assert capsys.readouterr().out == f"{ROSTERS / 'excel-gbk.csv'}：3 个单位，未发现问题\n"
    assert main(["roster", "check", "--json", str(ROSTERS / "broken-binary.csv")]) == 2
    got = json.loads(capsys.readouterr().out)
    assert got["usable"] is False and got["rows"] == 0
    assert [(p["row"], p["code"], p["severity"]) for p in got["problems"]] == [(None, "encoding", "error")]
    assert "GBK" in got["problems"][0]["message"]


def test_roster_check_needs_no_settings(tmp_path: Path) -> None:
    broken = tmp_path / "bot.toml"
    broken.write_text("[bot\n", encoding="utf-8")
    assert main(["--settings", str(broken), "roster", "check", str(ROSTERS / "excel-gbk.csv")]) == 0
