"""`write_index`: the export's 索引.xlsx — a row for every photo, video, document, other file and link the
summaries brought: whose, for which activity, the file written (a link that opens it), the name it was sent
under, when it was taken and came, its size and SHA-256, the summary's receipt. Bytes out, no disk."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from openpyxl import Workbook
from openpyxl.styles import Font

from bot import wording as w
from bot.jobs.digest.sheets import (
    HEADER_ROWS,
    TIME_FORMAT,
    Cell,
    Header,
    body_row,
    finish,
    heading,
    stamp,
    workbook_bytes,
)
from bot.jobs.export.plan import ExportPlan, IndexRow
from parsers.links import classify_link

SHEET = "索引"
HEADERS: list[Header] = [
    ("序号", "", 6.0),
    ("单位", "", 22.0),
    ("活动", "", 26.0),
    ("类别", "", 9.0),
    ("导出文件", "", 44.0),
    ("原文件名或链接", "", 30.0),
    ("拍摄时间", "", 19.0),
    ("收到时间", "", 19.0),
    ("大小（字节）", "", 12.0),
    ("SHA-256", "", 20.0),
    ("回执号", "总结来信", 13.0),
    ("状态", "总结来信", 9.0),
    ("备注", "", 16.0),
]
FORMATS = ["0", "@", "@", "@", "@", "@", TIME_FORMAT, TIME_FORMAT, "#,##0", "@", "@", "@", "@"]
LINK_FONT = Font(name="宋体", size=11, color="1F5FA8", underline="single")
FILE_COLUMN, NAME_COLUMN = 5, 6


def write_index(plan: ExportPlan, missing: frozenset[str], campaign: str, office: str) -> bytes:
    """`missing`: the files planned whose stored copy was not found (not written)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new Workbook always has one sheet
    sheet.title = SHEET
    heading(sheet, f"{campaign}活动总结材料索引", _subtitle(plan), HEADERS)
    widths = [h[2] for h in HEADERS]
    for number, row in enumerate(plan.rows, start=1):
        line = HEADER_ROWS + number
        body_row(sheet, line, _values(number, row, missing), FORMATS, widths)
        target = row.name if row.kind == "link" else (row.written if row.written and row.written not in missing else "")
        if target:  # a relative link opens the file beside the index, wherever the folder was copied
            cell = sheet.cell(line, NAME_COLUMN if row.kind == "link" else FILE_COLUMN)
            cell.hyperlink, cell.font = target, LINK_FONT
    finish(sheet, len(HEADERS), len(plan.rows), freeze="C5")
    at = plan.latest or dt.datetime(2000, 1, 1)
    return workbook_bytes(book, office, f"{campaign}活动总结材料索引", at)


def _subtitle(plan: ExportPlan) -> str:
    kinds = Counter(row.kind for row in plan.rows if not row.repeat)
    counted = "，".join(
        f"{w.MEDIA_NAMES[k]}{kinds[k]}个" for k in ("photo", "video", "document", "other", "link") if kinds[k]
    )
    since = f"截至最后一封总结（{stamp(plan.latest)}）" if plan.latest else "尚未收到活动总结"
    return (
        f"{since}；{counted or '没有材料'}。文件按“单位/活动/文件”存放，文件名为拍摄时间（没有拍摄时间的为收信日期）"
        "加原文件名；同一单位重复发送的文件只导出一次。"
    )


def _values(number: int, row: IndexRow, missing: frozenset[str]) -> list[Cell]:
    return [
        number,
        row.branch,
        "、".join(row.activities) or "（未对应活动）",
        kind_name(row),
        "" if row.written in missing else row.written,
        row.name,
        row.taken_at,
        row.arrived.replace(tzinfo=None),
        row.size,
        row.sha256,
        row.receipt,
        w.outcome(row.verdict) if row.verdict else "",
        _note(row, missing),
    ]


def kind_name(row: IndexRow) -> str:
    if row.kind == "link":
        return w.LINK_NAMES[classify_link(row.name).kind]
    return w.MEDIA_NAMES.get(row.kind, row.kind)


def _note(row: IndexRow, missing: frozenset[str]) -> str:
    if row.kind == "link":
        return ""
    if not row.stored or (row.written and row.written in missing):
        return "数据目录中没有该文件，未导出"
    return "重复发送，只导出一次" if row.repeat else ""
