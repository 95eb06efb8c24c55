"""The branch's own .docx given back with its findings on it: every comment read back from the file
sits on the cell of its field in its activity's table, the cell is shaded, LibreOffice converts the
file, and the form reads exactly as before.

The golden comments of two faulty forms are in tests/fixtures/annotate/; after a deliberate change,
`PYTHONPATH=tests .venv/bin/python -m tests.test_annotate` rewrites them (read the diff before committing it).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import pytest
from annotated_files import Anchor, anchors, by_message, pdf_notes, pdfs_with_notes
from docx.oxml.ns import qn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from bot.forms.check import CheckResult, check_form
from bot.forms.layout import form_layout
from config import Context, load_campaign, load_roster
from parsers.annotate import ERROR_FILL, WARNING_FILL, CellMark, annotate_form, annotated_name
from parsers.plan import read_plan
from parsers.records import Activity, FormLayout
from parsers.text import squash

FORMS = Path(__file__).parent / "fixtures" / "forms"
GOLDEN = Path(__file__).parent / "fixtures" / "annotate"
FAULTY = ("faulty-contact.docx", "faulty-dates.docx", "faulty-choices.docx", "faulty-missing.docx", "faulty-soft.docx")
# Layouts the reader copes with: stitched and merged cells, retyped and inline labels, symbol-font
# ticks, the 工作方案 in the table or with a table of its own, several tables.
LAYOUTS = (
    "official-standard.docx",
    "several-tables.docx",
    "merged-repeat.docx",
    "retyped-labels.docx",
    "lo-wingdings.docx",
    "plan-in-table.docx",
    "plan-with-table.docx",
    "boxes.docx",
    "checkboxes.docx",
    "empty-rows-stray.docx",
    "options-deleted.docx",
    "ticks-loose.docx",
    "wingdings.docx",
)
FIELDS = (
    "organiser",
    "title",
    "modules",
    "co_organiser",
    "stage",
    "start",
    "end",
    "venue",
    "audiences",
    "scale",
    "contact.name",
    "contact.office_phone",
    "contact.mobile",
    "contact.fax",
    "contact.email",
    "address",
    "plan_text",
)
# The label a field's cell stands right of, as the reader keys labels.
LABEL_OF = {"stage": {"time"}, "start": {"time"}, "end": {"time"}, "contact.name": {"contact.name", "contact"}}



def marks_of(result: CheckResult) -> list[CellMark]:
    """What the lead's reply code does: each finding of the file, as a mark on the file."""
    return [CellMark(f.activity, f.field, f.message, f.severity) for f in result.findings]


def activities(data: bytes, name: str, layout: FormLayout) -> tuple[Activity, ...]:
    read = read_plan(data, name, layout)
    assert read.unreadable is None
    return read.activities


@pytest.mark.parametrize("name", FAULTY)
def test_each_finding_is_a_comment_on_its_cell(name: str, ctx: Context, layout: FormLayout) -> None:
    data = (FORMS / name).read_bytes()
    result = check_form(data, name, ctx, None)
    assert result.findings

    annotated = annotate_form(data, layout, marks_of(result), author=ctx.campaign.office.name)

    assert annotated is not None
    found = anchors(annotated, layout)
    assert sorted(a.message for a in found) == sorted(f.message for f in result.findings)
    placed = by_message(found)
    # A cell with an error and a warning on it takes the error's colour.
    errors = {(placed[f.message].table, placed[f.message].text) for f in result.findings if f.severity == "error"}
    for finding in result.findings:
        anchor = placed[finding.message]
        assert anchor.author == ctx.campaign.office.name
        if finding.field == "plan_text":
            # Nothing written under 二、工作方案: the comment is on its instruction, where the text goes.
            plan = result.read.activities[finding.activity or 0].plan_text
            assert anchor.label is None
            assert squash(anchor.text) in squash(plan) if plan else anchor.text.startswith("（应突出重点")
            continue
        # One table per activity in these forms: the finding's activity is the table it is on.
        assert anchor.table == finding.activity
        assert anchor.label in LABEL_OF.get(finding.field, {finding.field})
        want = ERROR_FILL if finding.severity == "error" or (anchor.table, anchor.text) in errors else WARNING_FILL
        assert anchor.fill == want


@pytest.mark.parametrize("name", LAYOUTS)
def test_every_field_of_every_activity_is_found(name: str, layout: FormLayout) -> None:
    data = (FORMS / name).read_bytes()
    read = activities(data, name, layout)
    marks = [CellMark(i, field, f"{i}:{field}") for i in range(len(read)) for field in FIELDS]

    annotated = annotate_form(data, layout, marks)

    assert annotated is not None
    placed = by_message(anchors(annotated, layout))
    assert len(placed) == len(marks)
    tables: list[int] = []
    for index, activity in enumerate(read):
        table = placed[f"{index}:organiser"].table
        assert table is not None
        tables.append(table)
        for field in FIELDS:
            anchor = placed[f"{index}:{field}"]
            assert anchor.fill == ERROR_FILL or (field == "plan_text" and not activity.plan_text), (field, anchor)
            if field == "plan_text":
                _assert_plan_anchor(anchor, activity)
                continue
            assert anchor.table == table, (field, anchor)
            assert anchor.label in LABEL_OF.get(field, {field}), (field, anchor)
            assert _shows(anchor.text, field, activity, layout), (field, anchor.text)
    assert tables == sorted(tables)


def _assert_plan_anchor(anchor: Anchor, activity: Activity) -> None:
    if anchor.label == "plan_text":  # the 工作方案 cell of the table
        assert squash(anchor.text.removeprefix("工作方案")) in squash(activity.plan_text)
    else:  # the first paragraph after the table
        assert anchor.label is None
        assert squash(activity.plan_text).startswith(squash(anchor.text)), (anchor, activity.plan_text)


def _shows(text: str, field: str, activity: Activity, layout: FormLayout) -> bool:
    """The anchored cell holds the activity's own value for the field (so: the right activity)."""
    timing, contact = activity.timing, activity.contact
    values = {
        "organiser": activity.organiser,
        "title": activity.title,
        "co_organiser": activity.co_organiser,
        "stage": timing.text,
        "start": timing.text,
        "end": timing.text,
        "venue": activity.venue,
        "scale": activity.scale,
        "contact.name": contact.name,
        "contact.office_phone": contact.office_phone,
        "contact.mobile": contact.mobile,
        "contact.fax": contact.fax,
        "contact.email": contact.email,
        "address": activity.address,
    }
    if field in ("modules", "audiences"):
        options = layout.modules if field == "modules" else layout.audiences
        return any(option in text for option in options)
    return squash(values[field]) in squash(text)


@pytest.mark.parametrize("name", FAULTY + LAYOUTS)
def test_annotated_form_reads_the_same(name: str, layout: FormLayout) -> None:
    data = (FORMS / name).read_bytes()
    before = activities(data, name, layout)
    marks = [CellMark(i, field, f"{i}:{field}") for i in range(len(before)) for field in FIELDS]
    marks += [CellMark(None, "file", "整个文件"), CellMark(len(before), "title", "多出的一项")]

    annotated = annotate_form(data, layout, marks)

    assert annotated is not None
    assert activities(annotated, annotated_name(name), layout) == before
    # Annotated twice (a second correction round on the same file) still reads the same.
    again = annotate_form(annotated, layout, marks)
    assert again is not None
    assert activities(again, name, layout) == before
    assert len(anchors(again, layout)) == 2 * len(marks)


def test_libreoffice_converts_every_annotated_form(ctx: Context, layout: FormLayout, tmp_path: Path) -> None:
    """LibreOffice opens each annotated form and exports its comments as PDF notes, every one."""
    written: dict[Path, list[str]] = {}
    for name in FAULTY + LAYOUTS:
        data = (FORMS / name).read_bytes()
        marks = marks_of(check_form(data, name, ctx, None))
        marks += [CellMark(i, f, f"{i}:{f}") for i in range(len(activities(data, name, layout))) for f in FIELDS]
        annotated = annotate_form(data, layout, marks)
        assert annotated is not None
        path = tmp_path / annotated_name(name)
        path.write_bytes(annotated)
        written[path] = [mark.message for mark in marks]
    out = pdfs_with_notes(list(written), tmp_path)
    for path, messages in written.items():
        pdf = out / path.with_suffix(".pdf").name
        assert pdf.is_file(), pdf.name
        assert sorted(pdf_notes(pdf)) == sorted(messages), pdf.name


def test_a_finding_without_its_cell_is_not_lost(layout: FormLayout) -> None:
    data = (FORMS / "retyped-labels.docx").read_bytes()
    marks = [
        CellMark(None, "file", "文件级：整份文件"),
        CellMark(None, None, "文件级：无字段"),
        CellMark(5, "venue", "第6项：表中没有这一项"),
        CellMark(1, "contact", "第2项：表中没有单独的联系人格"),
        CellMark(0, "budget", "第1项：表中没有这个字段"),
    ]

    annotated = annotate_form(data, layout, marks)

    assert annotated is not None
    placed = by_message(anchors(annotated, layout))
    for message in ("文件级：整份文件", "文件级：无字段", "第6项：表中没有这一项"):
        assert (placed[message].table, placed[message].text, placed[message].fill) == (None, "附件", None)
    # The activity's table, at its first cell (主办单位名称), not shaded: the cell is not the fault.
    no_cell, no_field = placed["第2项：表中没有单独的联系人格"], placed["第1项：表中没有这个字段"]
    assert (no_cell.table, no_cell.label, no_cell.fill) == (1, "organiser", None)
    assert (no_field.table, no_field.label, no_field.fill) == (0, "organiser", None)


def test_an_error_and_a_warning_on_one_cell(layout: FormLayout) -> None:
    data = (FORMS / "several-tables.docx").read_bytes()
    marks = [
        CellMark(1, "scale", "规模偏大", "warning"),
        CellMark(1, "scale", "规模未写人数"),
        CellMark(0, "scale", "仅提醒", "warning"),
    ]

    annotated = annotate_form(data, layout, marks)

    assert annotated is not None
    placed = by_message(anchors(annotated, layout))
    assert placed["规模偏大"].text == placed["规模未写人数"].text
    assert (placed["规模偏大"].fill, placed["规模未写人数"].fill) == (ERROR_FILL, ERROR_FILL)
    assert (placed["仅提醒"].fill, placed["仅提醒"].table) == (WARNING_FILL, 0)


def test_comment_metadata(layout: FormLayout) -> None:
    data = (FORMS / "faulty-contact.docx").read_bytes()
    when = dt.datetime(2021, 5, 7, 17, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

    stamped = annotate_form(data, layout, [CellMark(0, "title", "有日期")], "中国石油学会科普咨询部", "科普", when)
    plain = annotate_form(data, layout, [CellMark(0, "title", "无日期")])

    assert stamped is not None and plain is not None
    (comment,) = docx.Document(io.BytesIO(stamped)).comments
    assert (comment.author, comment.initials, comment.timestamp, comment.text) == (
        "中国石油学会科普咨询部",
        "科普",
        dt.datetime(2021, 5, 7, 9, 30, tzinfo=dt.UTC),
        "有日期",
    )
    (comment,) = docx.Document(io.BytesIO(plain)).comments
    # No clock is read: without a time, the comment has none.
    assert (comment.author, comment.initials, comment.timestamp) == ("报送机器人", "报送", None)


def test_a_text_box_is_kept(layout: FormLayout) -> None:
    """The reader reads a text box once (mc:Choice) by leaving its mc:Fallback out; the annotated
    file still has both."""
    document = docx.Document(io.BytesIO((FORMS / "official-standard.docx").read_bytes()))
    heading = document.paragraphs[0]._p
    heading.append(etree.fromstring(_TEXT_BOX))
    buffer = io.BytesIO()
    document.save(buffer)
    data = buffer.getvalue()

    annotated = annotate_form(data, layout, [CellMark(None, "file", "整个文件"), CellMark(0, "title", "名称")])

    assert annotated is not None
    body = docx.Document(io.BytesIO(annotated)).element.body
    assert len(list(body.iter("{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"))) == 1
    assert activities(annotated, "x.docx", layout) == activities(data, "x.docx", layout)
    assert by_message(anchors(annotated, layout))["整个文件"].text.startswith("附件")


_TEXT_BOX = """<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
 xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" xmlns:v="urn:schemas-microsoft-com:vml">
<mc:AlternateContent><mc:Choice Requires="v"><w:pict><v:rect style="width:80pt;height:20pt"><v:textbox>
<w:txbxContent><w:p><w:r><w:t>框内</w:t></w:r></w:p></w:txbxContent></v:textbox></v:rect></w:pict></mc:Choice>
<mc:Fallback><w:pict><v:rect style="width:80pt;height:20pt"><v:textbox>
<w:txbxContent><w:p><w:r><w:t>框内</w:t></w:r></w:p></w:txbxContent></v:textbox></v:rect></w:pict></mc:Fallback>
</mc:AlternateContent></w:r>"""


def _pruned(data: bytes, cuts: list[float]) -> bytes:
    """The form with some of its body's elements taken out (cells, runs, paragraphs, properties, rows):
    still well-formed XML, but cells with no paragraph, rows short of cells, labels with no value."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        members = {info.filename: package.read(info) for info in package.infolist()}
    root = etree.fromstring(members["word/document.xml"])
    tags = {qn(f"w:{tag}") for tag in ("tc", "p", "r", "tcPr", "t", "tr", "pPr", "tbl")}
    for cut in cuts:
        elements = [el for el in root.iter() if el.tag in tags]
        if elements:
            victim = elements[int(cut * (len(elements) - 1))]
            victim.getparent().remove(victim)
    members["word/document.xml"] = etree.tostring(root)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for member, part in members.items():
            package.writestr(member, part)
    return out.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["official-standard.docx", "merged-repeat.docx", "plan-in-table.docx", "retyped-labels.docx"]),
    st.lists(st.floats(0, 1), max_size=12),
    st.lists(st.tuples(st.one_of(st.none(), st.integers(-1, 3)), st.sampled_from([*FIELDS, "file", "x"])), max_size=8),
)
def test_a_broken_form_is_annotated_or_refused(
    layout: FormLayout, name: str, cuts: list[float], marks: list[tuple[int | None, str]]
) -> None:
    """Never an exception: the annotated file, reading as its input did, or None."""
    data = _pruned((FORMS / name).read_bytes(), cuts)

    annotated = annotate_form(data, layout, [CellMark(i, field, f"{i}:{field}") for i, field in marks])

    before = read_plan(data, name, layout)
    if annotated is None:
        assert before.unreadable or not before.activities
    else:
        assert read_plan(annotated, name, layout).activities == before.activities
        assert len(anchors(annotated, layout)) == len(marks)


@pytest.mark.parametrize(
    "name", ["not-a-form.docx", "official-blank.docx", "pdf-several.pdf", "lo-boxes.doc", "lo-retyped.odt"]
)
def test_no_form_to_annotate(name: str, layout: FormLayout) -> None:
    assert annotate_form((FORMS / name).read_bytes(), layout, [CellMark(None, "file", "未找到表格")]) is None


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04not a zip", b"%PDF-1.4\n", b"\xd0\xcf\x11\xe0" + bytes(508)])
def test_not_a_docx(data: bytes, layout: FormLayout) -> None:
    assert annotate_form(data, layout, [CellMark(0, "title", "x")]) is None


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("筹备方案表.docx", "筹备方案表（请按批注修改）.docx"),
        ("北京石油学会-活动方案.DOCX", "北京石油学会-活动方案（请按批注修改）.docx"),
        ("方案.v2.docx", "方案.v2（请按批注修改）.docx"),
        ("老格式方案.doc", "老格式方案（请按批注修改）.docx"),
        ("方案.wps", "方案（请按批注修改）.docx"),
        ("无扩展名", "无扩展名（请按批注修改）.docx"),
        ("", "筹备方案（请按批注修改）.docx"),
    ],
)
def test_annotated_name(original: str, expected: str) -> None:
    assert annotated_name(original) == expected


def test_golden_comments(ctx: Context, layout: FormLayout) -> None:
    for name, expected in _golden(ctx, layout):
        assert json.loads((GOLDEN / f"{Path(name).stem}.comments.json").read_text(encoding="utf-8")) == expected


def _golden(ctx: Context, layout: FormLayout) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Per faulty form kept in GOLDEN: each comment as (activity table, label cell, cell text, fill, comment)."""
    for path in sorted(GOLDEN.glob("*.comments.json")):
        name = path.name.removesuffix(".comments.json") + ".docx"
        data = (FORMS / name).read_bytes()
        annotated = annotate_form(data, layout, marks_of(check_form(data, name, ctx, None)))
        assert annotated is not None
        yield name, [_golden_entry(anchor) for anchor in anchors(annotated, layout)]


def _golden_entry(a: Anchor) -> dict[str, Any]:
    return {"table": a.table, "label": a.label_text, "cell": a.text, "fill": a.fill, "comment": a.message}


if __name__ == "__main__":
    ctx = Context(load_campaign(), load_roster())
    for golden_name, comments in _golden(ctx, form_layout(ctx.campaign)):
        target = GOLDEN / f"{Path(golden_name).stem}.comments.json"
        target.write_text(json.dumps(comments, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {target}", file=sys.stderr)
