"""`subbot form` and `subbot check` as staff use them: files in, words or JSON lines out, exit codes."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import docx
import pytest
from annotated_files import anchors, by_message

from bot.cli import main
from bot.forms.check import check_form
from config import Context
from parsers.annotate import ERROR_FILL
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


FORMS = Path(__file__).parent / "fixtures" / "forms"


def test_check_annotate_writes_the_copy_a_correction_would_attach(
    tmp_path: Path, ctx: Context, layout: FormLayout, capsys: pytest.CaptureFixture[str]
) -> None:
    form = tmp_path / "faulty-contact.docx"
    shutil.copy(FORMS / form.name, form)
    out = tmp_path / "看看.docx"

    assert main(["--now", "2021-05-09T09:00", "check", str(form), "--annotate", str(out)]) == 1

    assert f"{form}：已写出批注文件 {out}" in capsys.readouterr().out
    findings = check_form(form.read_bytes(), form.name, ctx, None).findings
    comments = docx.Document(io.BytesIO(out.read_bytes())).comments
    assert [c.text for c in comments] == [f.message for f in findings]
    assert {c.timestamp for c in comments} == {dt.datetime(2021, 5, 9, 1, 0, tzinfo=dt.UTC)}
    placed = by_message(anchors(out.read_bytes(), layout))
    assert [(placed[f.message].table, placed[f.message].fill) for f in findings] == [
        (f.activity, ERROR_FILL) for f in findings
    ]


def test_check_annotate_with_several_files_fills_a_folder_and_keeps_json_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.docx"
    empty.write_bytes(b"")
    files = [str(FORMS / "faulty-dates.docx"), str(FORMS / "official-standard.docx"), str(empty)]
    folder = tmp_path / "批注"

    assert main(["check", "--json", *files, "--annotate", str(folder)]) == 2

    captured = capsys.readouterr()
    assert [json.loads(line)["file"] for line in captured.out.splitlines()] == files
    assert [p.name for p in folder.iterdir()] == ["faulty-dates（请按批注修改）.docx"]
    said = captured.err.splitlines()
    assert said[0].endswith(f"已写出批注文件 {folder / 'faulty-dates（请按批注修改）.docx'}")
    assert said[1:] == [f"{files[1]}：没有发现问题，无需批注", f"{files[2]}：只批注读出了表格的 .docx 文件（.doc、.wps、PDF 等不批注）"]
