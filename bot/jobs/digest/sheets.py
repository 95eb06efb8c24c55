"""How the workbooks staff receive look, once: a title, a subtitle and a two-row header over bordered rows whose
height fits their wrapped text, frozen headers, a filter, printed landscape on A4 — and saved as the same bytes
for the same content (no clock in the file), so an export run twice is the same file."""

from __future__ import annotations

import datetime as dt
import io
import math
import unicodedata
import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

if TYPE_CHECKING:
    from _typeshed import SizedBuffer

HEADER_ROWS = 4  # title, subtitle, two rows of headers: data starts on row 5
DAY_FORMAT = 'yyyy"年"m"月"d"日"'
TIME_FORMAT = 'yyyy"年"m"月"d"日" hh:mm'
LINE_POINTS = 15.0
MAX_ROW_POINTS = 409.0  # Excel's limit
# A zip member's time: the earliest a zip can say (openpyxl would stamp each member with the clock).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

_thin = Side(style="thin", color="B7C2CF")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
TITLE_FONT = Font(name="宋体", size=14, bold=True)
HEADER_FONT = Font(name="宋体", size=11, bold=True)
BODY_FONT = Font(name="宋体", size=11)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTRE = Alignment(wrap_text=True, horizontal="center", vertical="center")
Cell = str | int | dt.date | dt.datetime | None
Header = tuple[str, str, float]  # (name, the group above it or "", width in Excel's character units)


def heading(sheet: Worksheet, title: str, subtitle: str, headers: Sequence[Header]) -> None:
    """Title, subtitle, and a two-row header: grouped columns under their group, the rest merged down."""
    last = get_column_letter(len(headers))
    sheet["A1"], sheet["A2"] = title, subtitle
    sheet.merge_cells(f"A1:{last}1")
    sheet.merge_cells(f"A2:{last}2")
    sheet["A1"].font, sheet["A1"].alignment = TITLE_FONT, Alignment(horizontal="center", vertical="center")
    sheet["A2"].font = BODY_FONT
    sheet.row_dimensions[1].height = 28
    column = 1
    while column <= len(headers):
        group = headers[column - 1][1]
        span = 1
        while group and column + span <= len(headers) and headers[column + span - 1][1] == group:
            span += 1
        if group:
            sheet.cell(3, column, group)
            if span > 1:
                sheet.merge_cells(start_row=3, start_column=column, end_row=3, end_column=column + span - 1)
            for offset in range(span):
                sheet.cell(4, column + offset, headers[column + offset - 1][0])
        else:
            sheet.cell(3, column, headers[column - 1][0])
            sheet.merge_cells(start_row=3, start_column=column, end_row=4, end_column=column)
        column += span
    for row in (3, 4):
        for index in range(1, len(headers) + 1):
            cell = sheet.cell(row, index)
            cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, CENTRE
    for index, (_, _, width) in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    lines = max((_lines(name, width) for name, group, width in headers if group), default=1)
    sheet.row_dimensions[4].height = lines * LINE_POINTS + 5


def body_row(
    sheet: Worksheet, row: int, values: Sequence[Cell], formats: Sequence[str], widths: Sequence[float]
) -> None:
    lines = 1
    for column, (value, number_format, width) in enumerate(zip(values, formats, widths, strict=True), start=1):
        cell = sheet.cell(row, column, value)
        cell.font, cell.border, cell.alignment = BODY_FONT, BORDER, WRAP
        if value is not None:
            cell.number_format = number_format
        if isinstance(value, str):
            lines = max(lines, _lines(value, width))
    # Excel does not grow rows to fit wrapped text written by a program: say how tall each row is.
    sheet.row_dimensions[row].height = min(MAX_ROW_POINTS, lines * LINE_POINTS + 3)


def _lines(text: str, width: float) -> int:
    return sum(max(1, math.ceil(display_width(line) / max(1.0, width - 1))) for line in text.split("\n"))


def display_width(text: str) -> int:
    """Characters as Excel's column units count them: CJK and full-width forms take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def finish(sheet: Worksheet, columns: int, rows: int, freeze: str) -> None:
    last = get_column_letter(columns)
    sheet.freeze_panes = freeze
    sheet.auto_filter.ref = f"A4:{last}{HEADER_ROWS + max(rows, 1)}"
    sheet.print_title_rows = "3:4"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def stamp(at: dt.datetime) -> str:
    return f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}"


def workbook_bytes(book: Workbook, creator: str, title: str, at: dt.datetime) -> bytes:
    """The workbook as .xlsx bytes, dated `at` (local): the same content gives the same bytes."""
    stamped = at.replace(tzinfo=None, microsecond=0)
    book.properties.creator = creator
    book.properties.title = title
    book.properties.created = stamped
    book.properties.modified = stamped  # openpyxl's own `save` would put the clock here
    out = io.BytesIO()
    ExcelWriter(book, _Timeless(out, "w", zipfile.ZIP_DEFLATED)).save()
    return out.getvalue()


class _Timeless(zipfile.ZipFile):
    """A zip whose members all carry ZIP_TIME, where `writestr` would stamp the time of writing."""

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: SizedBuffer | str,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if isinstance(zinfo_or_arcname, str):
            member = zipfile.ZipInfo(zinfo_or_arcname, ZIP_TIME)
            member.compress_type = self.compression
            member.external_attr = 0o600 << 16
            zinfo_or_arcname = member
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)
