"""`subbot form` and `subbot check` as staff use them: files in, words or JSON lines out, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from parsers.form_writer import FormEntry, write_form
from parsers.records import FormLayout

FILLED = FormEntry(
    cells={
        "organiser": "北京石油学会",
        "title": "科学家精神宣讲报告会",
        "co_organiser": "无",
        "time": "第二阶段；5月28日—5月30日",
        "venue": "北京市海淀区",
        "scale": "约200人",
        "contact.name": "张喆",
        "contact.office_phone": "010-62067126",
        "contact.mobile": "15011205685",
        "contact.email": "zhang@example.com",
        "address": "北京市海淀区学院路20号",
    },
    modules=("团结引领",),
    audiences=("科技工作者",),
    plan_text="弘扬科学家精神。",
)


def test_form_writes_a_blank_form_that_check_reads_as_blank(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sub" / "空白.docx"
    assert main(["form", "--out", str(out)]) == 0
    assert out.is_file()
    assert main(["check", "--json", str(out)]) == 1
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert result["verdict"] == "needs_correction"
    assert [f["code"] for f in result["findings"]] == ["form_blank"]


def test_check_prints_activities_and_findings_in_chinese(
    tmp_path: Path, layout: FormLayout, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "好.docx"
    good.write_bytes(write_form(layout, [FILLED]))
    assert main(["check", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}：通过\n  活动1：「科学家精神宣讲报告会」 北京石油学会｜团结引领｜第2阶段 05-28至05-30\n"


def test_several_files_give_one_json_line_each_and_the_worst_exit(
    tmp_path: Path, layout: FormLayout, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.docx"
    good.write_bytes(write_form(layout, [FILLED]))
    late = tmp_path / "late.docx"
    late.write_bytes(write_form(layout, [FormEntry({**FILLED.cells, "time": "第二阶段；6月8日"}, ("团结引领",), ("科技工作者",), "x")]))
    empty = tmp_path / "empty.docx"
    empty.write_bytes(b"")
    assert main(["check", "--json", str(good), str(late)]) == 1
    assert main(["check", "--json", str(good), str(late), str(empty)]) == 2
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["verdict"] for line in lines] == [
        "accepted",
        "needs_correction",
        "accepted",
        "needs_correction",
        "unreadable",
    ]

    assert lines[1]["findings"][0]["message"].endswith("「拟举办时间」第二阶段为5月26日—6月5日，填写的6月8日不在该阶段内（所填日期属于第三阶段）")
    assert lines[4]["findings"] == [
        {"activity": None, "field": "file", "severity": "error", "code": "empty", "message": "文件为空（0字节或没有内容）"}
    ]


def test_a_missing_file_is_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "nope.docx")]) == 2
    assert "无法打开" in capsys.readouterr().err


def test_a_broken_campaign_file_stops_with_its_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "campaign.toml"
    broken.write_text("name = \n", encoding="utf-8")
    assert main(["--campaign", str(broken), "check", str(broken)]) == 3
    assert str(broken) in capsys.readouterr().err
