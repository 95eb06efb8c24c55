"""The official plan form as a .docx, blank or filled in: the same layout the reader expects."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from parsers.records import FormLayout

_TEXT_ROWS_TOP = ("organiser", "title")
_TEXT_ROWS_MIDDLE = ("co_organiser", "time", "venue")
_FONT = "宋体"


@dataclass(frozen=True)
class FormEntry:
    """What a branch writes into one activity table. `cells` maps label keys (organiser, time,
    contact.mobile, ...) to the text typed in the value cell; ticks go beside the chosen options."""

    cells: Mapping[str, str] = field(default_factory=dict)
    modules: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    plan_text: str = ""
    tick: str = "√"


def write_form(layout: FormLayout, entries: Sequence[FormEntry] = ()) -> bytes:
    """The form with one table per entry (one blank table when there are none)."""
    document = docx.Document()
    _default_font(document)
    heading = document.add_paragraph(layout.attachment_heading)
    heading.runs[0].bold = True
    title = document.add_paragraph(layout.title)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.runs[0].bold = True
    title.runs[0].font.size = Pt(16)
    for entry in entries or [FormEntry()]:
        document.add_paragraph(layout.section_info).runs[0].bold = True
        _table(document, layout, entry)
        document.add_paragraph(layout.section_plan).runs[0].bold = True
        document.add_paragraph(layout.plan_instruction)
        for line in entry.plan_text.split("\n") if entry.plan_text else ["", ""]:
            document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _default_font(document: Any) -> None:
    style = document.styles["Normal"]
    style.font.name = _FONT
    style.font.size = Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), _FONT)


def _table(document: Any, layout: FormLayout, entry: FormEntry) -> None:
    columns = max(len(layout.modules), 4) + 1
    rows = len(_TEXT_ROWS_TOP) + 1 + len(_TEXT_ROWS_MIDDLE) + 2 + 3 + 1
    table = document.add_table(rows=rows, cols=columns)
    table.style = "Table Grid"
    row = iter(table.rows)
    for key in _TEXT_ROWS_TOP:
        _text_row(next(row), layout.label(key), entry.cells.get(key, ""))
    _module_row(next(row), layout, entry)
    for key in _TEXT_ROWS_MIDDLE:
        blank = layout.time_placeholder if key == "time" else ""
        _text_row(next(row), layout.label(key), entry.cells.get(key, blank))
    _text_row(next(row), layout.label("audiences"), _options(layout.audiences, entry.audiences, entry.tick))
    _text_row(next(row), layout.label("scale"), entry.cells.get("scale", ""))
    _contact_rows([next(row), next(row), next(row)], layout, entry)
    _text_row(next(row), layout.label("address"), entry.cells.get("address", ""))


def _text_row(row: Any, label: str, value: str) -> None:
    cells = row.cells
    cells[0].text = label
    merged = cells[1].merge(cells[-1])
    merged.text = value


def _module_row(row: Any, layout: FormLayout, entry: FormEntry) -> None:
    cells = row.cells
    cells[0].text = f"{layout.label('modules')}\n{layout.module_hint}"
    value_cells = list(cells[1:])
    if len(layout.modules) < len(value_cells):
        value_cells[len(layout.modules) - 1] = value_cells[len(layout.modules) - 1].merge(value_cells[-1])
    for cell, module in zip(value_cells, layout.modules, strict=False):
        cell.text = _options((module,), entry.modules, entry.tick)


def _options(options: tuple[str, ...], chosen: tuple[str, ...], tick: str) -> str:
    return " ".join(f"{option}（{tick if option in chosen else ' '}）" for option in options)


def _contact_rows(rows: list[Any], layout: FormLayout, entry: FormEntry) -> None:
    group = rows[0].cells[0].merge(rows[-1].cells[0])
    group.text = layout.label("contact")
    pairs = [("contact.name", "contact.office_phone"), ("contact.mobile", "contact.fax")]
    for row, (left, right) in zip(rows, pairs, strict=False):
        cells = row.cells
        cells[1].text = layout.label(left)
        cells[2].text = entry.cells.get(left, "")
        cells[3].text = layout.label(right)
        value = cells[4].merge(cells[-1]) if len(cells) > 5 else cells[4]
        value.text = entry.cells.get(right, "")
    cells = rows[-1].cells
    cells[1].text = layout.label("contact.email")
    cells[2].merge(cells[-1]).text = entry.cells.get("contact.email", "")
