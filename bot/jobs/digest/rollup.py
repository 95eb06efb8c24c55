"""`write_rollup`: the 汇总表 workbook staff forward upward — every accepted activity with every form field,
headed with the form's own labels, then each activity's summary (summary_sheet.py), each branch's status, the
counts, what staff did (staff_sheet.py) and the addresses learned for branches (address_sheet.py). Bytes out, no disk."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from bot import wording as w
from bot.jobs.digest.address_sheet import SHEET_ADDRESSES, address_sheet
from bot.jobs.digest.facts import PlannedActivity
from bot.jobs.digest.model import DELIVERABLES, BranchRow, Digest
from bot.jobs.digest.sheets import (
    BODY_FONT,
    BORDER,
    CENTRE,
    DAY_FORMAT,
    HEADER_FILL,
    HEADER_FONT,
    HEADER_ROWS,
    TIME_FORMAT,
    TITLE_FONT,
    Cell,
    body_row,
    finish,
    heading,
    stamp,
    workbook_bytes,
)
from bot.jobs.digest.staff_sheet import SHEET_STAFF, staff_sheet
from bot.jobs.digest.summary_sheet import SHEET_SUMMARIES, summary_sheet
from config import Campaign

SHEET_ACTIVITIES = "汇总表"
SHEET_BRANCHES = "报送情况"
SHEET_COUNTS = "统计"
STATUS_FILLS = {
    "accepted": PatternFill("solid", fgColor="E2F0D9"),
    "needs_correction": PatternFill("solid", fgColor="FCE4CC"),
    "unreadable": PatternFill("solid", fgColor="FCE4CC"),
    "no_attachment": PatternFill("solid", fgColor="FCE4CC"),
    "missing": PatternFill("solid", fgColor="F8D7DA"),
}


@dataclass(frozen=True)
class Column:
    header: str
    group: str  # the header above it on the first header row; "" when the header spans both rows
    width: float  # in Excel's character units
    value: Callable[[PlannedActivity], Cell]
    number_format: str = "General"


def activity_columns(campaign: Campaign) -> tuple[Column, ...]:
    """The 汇总表's columns: the form's fields in the form's order, under the campaign's own labels."""
    label = {key: names[0] for key, names in campaign.form.labels.items()}
    contact = label["contact"]
    time = label["time"]
    return (
        Column(label["organiser"], "", 22, lambda a: a.organiser),
        Column(label["title"], "", 26, lambda a: a.title),
        Column(label["modules"], "", 14, lambda a: "、".join(a.modules)),
        Column(label["co_organiser"], "", 20, lambda a: a.co_organiser),
        Column("阶段", time, 10, lambda a: w.stage_name(a.stage) if a.stage else ""),
        Column("开始日期", time, 14, lambda a: a.start, DAY_FORMAT),
        Column("结束日期", time, 14, lambda a: a.end, DAY_FORMAT),
        Column(label["venue"], "", 22, lambda a: a.venue),
        Column(label["audiences"], "", 14, lambda a: "、".join(a.audiences)),
        Column(label["scale"], "", 12, lambda a: a.scale),
        Column(label["contact.name"], contact, 10, lambda a: a.contact.name),
        Column(label["contact.office_phone"], contact, 15, lambda a: a.contact.office_phone),
        Column(label["contact.mobile"], contact, 14, lambda a: a.contact.mobile),
        Column(label["contact.fax"], contact, 14, lambda a: a.contact.fax),
        Column(label["contact.email"], contact, 24, lambda a: a.contact.email),
        Column(label["address"], "", 24, lambda a: a.address),
        Column(label["plan_text"], "", 60, lambda a: a.plan_text),
        Column("报送单位", "报送记录", 20, lambda a: a.branch),
        Column("回执号", "报送记录", 13, lambda a: a.receipt),
        Column("收到时间", "报送记录", 19, lambda a: a.arrived.replace(tzinfo=None), TIME_FORMAT),
        Column("版本", "报送记录", 6, lambda a: a.version),
    )


def write_rollup(digest: Digest, campaign: Campaign) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new Workbook always has one sheet
    _activities_sheet(sheet, digest, campaign)
    summary_sheet(book.create_sheet(SHEET_SUMMARIES), digest, campaign)
    _branches_sheet(book.create_sheet(SHEET_BRANCHES), digest)
    _counts_sheet(book.create_sheet(SHEET_COUNTS), digest)
    staff_sheet(book.create_sheet(SHEET_STAFF), digest)
    address_sheet(book.create_sheet(SHEET_ADDRESSES), digest)
    return workbook_bytes(book, digest.office, f"{digest.campaign}汇总表", digest.now)


def rollup_name(digest: Digest) -> str:
    return f"{digest.short_name}汇总表-{digest.day:%Y%m%d}.xlsx"


def _activities_sheet(sheet: Worksheet, digest: Digest, campaign: Campaign) -> None:
    sheet.title = SHEET_ACTIVITIES
    columns = activity_columns(campaign)
    headers = [("序号", "", 6.0), *((c.header, c.group, c.width) for c in columns)]
    subtitle = (
        f"{digest.office}　截至{stamp(digest.now)}　共{len(digest.activities)}项"
        "（仅含已受理的活动；待修改和未报送的单位见“报送情况”）"
    )
    heading(sheet, f"{digest.campaign}筹备方案汇总表", subtitle, headers)
    for number, activity in enumerate(digest.activities, start=1):
        values: list[Cell] = [number, *(c.value(activity) for c in columns)]
        formats = ["0", *(c.number_format for c in columns)]
        body_row(sheet, HEADER_ROWS + number, values, formats, [h[2] for h in headers])
    finish(sheet, len(headers), len(digest.activities), freeze="D5")


def _branches_sheet(sheet: Worksheet, digest: Digest) -> None:
    plan, summary = (w.deliverable(d) for d in DELIVERABLES)
    headers = [
        ("序号", "", 6.0),
        ("单位名称", "", 28.0),
        ("类别", "", 12.0),
        ("状态", plan, 10.0),
        ("已受理活动", plan, 11.0),
        ("待修改活动", plan, 11.0),
        ("报送次数", plan, 8.0),
        ("最近报送", plan, 19.0),
        ("是否逾期", plan, 8.0),
        ("状态", summary, 10.0),
        ("报送次数", summary, 8.0),
        ("最近报送", summary, 19.0),
        ("是否逾期", summary, 8.0),
        ("联系人", "", 10.0),
        ("联系电话", "", 16.0),
        ("联系邮箱", "", 28.0),
    ]
    known = sum(b.known for b in digest.branches)
    subtitle = f"截至{stamp(digest.now)}　名单内{known}家" + (
        f"，名单外来信{len(digest.branches) - known}个" if len(digest.branches) > known else ""
    )
    heading(sheet, f"{digest.campaign}各单位报送情况", subtitle, headers)
    widths = [h[2] for h in headers]
    for number, branch in enumerate(digest.branches, start=1):
        row = HEADER_ROWS + number
        values, formats = _branch_values(number, branch)
        body_row(sheet, row, values, formats, widths)
        for (_, state), column in zip(branch.states, (4, 10), strict=True):
            fill = STATUS_FILLS.get(state.status)
            if fill:
                sheet.cell(row, column).fill = fill
    finish(sheet, len(headers), len(digest.branches), freeze="C5")


def _branch_values(number: int, branch: BranchRow) -> tuple[list[Cell], list[str]]:
    states = dict(branch.states)
    plan, summary = states["plan"], states["summary"]
    contact = branch.contact
    phones = "，".join(p for p in (contact.mobile, contact.office_phone) if p) if contact else ""
    values: list[Cell] = [
        number,
        branch.branch,
        branch.kind if branch.known else "名单外",
        w.outcome(plan.status),
        branch.accepted_activities,
        branch.correcting_activities,
        plan.versions,
        plan.last.replace(tzinfo=None) if plan.last else None,
        "逾期" if plan.late else "",
        w.outcome(summary.status),
        summary.versions,
        summary.last.replace(tzinfo=None) if summary.last else None,
        "逾期" if summary.late else "",
        contact.name if contact else "",
        phones,
        "\n".join(branch.emails),
    ]
    formats = ["0", "@", "@", "@", "0", "0", "0", TIME_FORMAT, "@", "@", "0", TIME_FORMAT, "@", "@", "@", "@"]
    return values, formats


def _counts_sheet(sheet: Worksheet, digest: Digest) -> None:
    sheet.title = SHEET_COUNTS
    sheet["A1"] = f"{digest.campaign}计划活动统计"
    sheet["A1"].font = TITLE_FONT
    sheet["A2"] = f"截至{stamp(digest.now)}；一项活动可属于多个模块"
    modules = [(t.name or "（未勾选模块）", t.accepted, t.correcting) for t in digest.modules]
    stages = [(w.stage_name(t.number), t.accepted, t.correcting) for t in digest.stages]
    _small_table(sheet, 4, "活动模块", modules)
    _small_table(sheet, 6 + len(modules), "阶段", stages)
    for letter, width in zip("ABC", (24, 10, 10), strict=True):
        sheet.column_dimensions[letter].width = width


def _small_table(sheet: Worksheet, top: int, title: str, rows: Sequence[tuple[str, int, int]]) -> None:
    for index, text in enumerate((title, "已受理", "待修改"), start=1):
        cell = sheet.cell(top, index, text)
        cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, CENTRE
    for offset, (name, accepted, correcting) in enumerate(rows, start=1):
        values: tuple[Cell, ...] = (name, accepted, correcting)
        for index, value in enumerate(values, start=1):
            cell = sheet.cell(top + offset, index, value)
            cell.font, cell.border = BODY_FONT, BORDER
