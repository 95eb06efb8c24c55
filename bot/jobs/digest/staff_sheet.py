"""The 汇总表's 「工作人员处理记录」 sheet: every staff action so far, by command, by mail or by answering from the
shared mailbox — when, who, how, what (verb, receipt, branch, deliverable), their words, and whether it was done or
why not. The digest lists those since the last digest; the workbook keeps the whole record."""

from __future__ import annotations

from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from bot import wording as w
from bot.jobs.digest.facts import StaffFact
from bot.jobs.digest.model import Digest
from bot.jobs.digest.sheets import HEADER_ROWS, TIME_FORMAT, Cell, Header, body_row, finish, heading, stamp

SHEET_STAFF = "工作人员处理记录"
VIA_NAMES = {"cli": "命令行", "mail": "邮件指令", "sent": "从邮箱直接回复"}
REFUSED_FONT = Font(name="宋体", size=11, color="C62828")
HEADERS: list[Header] = [
    ("序号", "", 6.0),
    ("时间", "", 19.0),
    ("操作人", "", 26.0),
    ("方式", "", 10.0),
    ("操作", "", 12.0),
    ("回执号", "", 13.0),
    ("单位", "", 22.0),
    ("材料", "", 9.0),
    ("说明", "", 36.0),
    ("结果", "", 30.0),
]
FORMATS = ["0", TIME_FORMAT, "@", "@", "@", "@", "@", "@", "@", "@"]


def staff_sheet(sheet: Worksheet, digest: Digest) -> None:
    record = digest.record
    refused = sum(1 for a in record if a.refused)
    subtitle = f"截至{stamp(digest.now)}　共{len(record)}条，其中未执行{refused}条"
    heading(sheet, f"{digest.campaign}工作人员处理记录", subtitle, HEADERS)
    widths = [h[2] for h in HEADERS]
    for number, action in enumerate(record, start=1):
        row = HEADER_ROWS + number
        body_row(sheet, row, action_values(number, action), FORMATS, widths)
        if action.refused:
            sheet.cell(row, len(HEADERS)).font = REFUSED_FONT
    finish(sheet, len(HEADERS), len(record), freeze="C5")


def action_values(number: int, action: StaffFact) -> list[Cell]:
    return [
        number,
        action.at.replace(tzinfo=None),
        action.who,
        VIA_NAMES.get(action.via, action.via),
        w.VERB_NAMES.get(action.verb, action.verb),
        action.receipt or "",
        action.branch or "",
        w.deliverable(action.deliverable) if action.deliverable else "",
        action.text,
        f"未执行：{action.refused}" if action.refused else "已执行",
    ]
