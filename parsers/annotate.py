"""A branch's own .docx form given back with its findings on it: each faulty cell shaded, and a Word
comment on it carrying the finding's message."""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.text.run import Run

from parsers.blocks import Block, Paragraph
from parsers.docx_blocks import W, body_blocks, document_body, open_docx, row_cells
from parsers.errors import UnreadableDocument
from parsers.form_reader import Cells, Places, read_form
from parsers.plan import PARSER_FAILURES
from parsers.records import FormLayout
from parsers.text import squash

ERROR_FILL = "FFC7CE"  # light red
WARNING_FILL = "FFF2CC"  # light yellow
AUTHOR = "报送机器人"
SUFFIX = "（请按批注修改）"

# Where a finding's field is written on the form, by the reader's label keys, the likeliest first:
# stage and dates share the 拟举办时间 cell; a name may sit right beside 主办单位联系人 with no 姓名 cell.
_WRITTEN_IN = {
    "stage": ("time",),
    "start": ("time",),
    "end": ("time",),
    "contact.name": ("contact.name", "contact"),
}
_P, _R, _TC, _TR = (f"{{{W}}}{tag}" for tag in ("p", "r", "tc", "tr"))
_REFERENCE = f"{{{W}}}commentReference"
# The elements that follow w:shd in w:tcPr and in w:pPr: Word refuses properties out of order.
_AFTER_CELL_SHADING = (
    "noWrap", "tcMar", "textDirection", "tcFitText", "vAlign", "hideMark", "headers", "cellIns", "cellDel",
    "cellMerge", "tcPrChange",
)  # fmt: skip
_AFTER_PARAGRAPH_SHADING = (
    "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap", "overflowPunct", "topLinePunct", "autoSpaceDE",
    "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents",
    "suppressOverlap", "jc", "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle",
    "rPr", "sectPr", "pPrChange",
)  # fmt: skip
# What opening, reading or saving a hostile .docx may raise: the caller then replies without the file.
_FAILURES: tuple[type[Exception], ...] = (UnreadableDocument, *PARSER_FAILURES)


@dataclass(frozen=True)
class CellMark:
    """One finding to write on the form. `activity` is the 0-based activity as the form reader reads
    them (None for the file as a whole); `field` a rule's field key (organiser, start, contact.mobile,
    plan_text, ...; "file" or None for the whole document)."""

    activity: int | None
    field: str | None
    message: str
    severity: Literal["error", "warning"] = "error"


@dataclass(frozen=True)
class _Spot:
    """Where a comment goes: it spans from the first run of `first` to the last run of `last`
    (w:tc, w:tr or w:p elements), and `shaded` are the cells and paragraphs that get the colour."""

    first: Any
    last: Any
    shaded: tuple[Any, ...] = ()


def annotated_name(original: str) -> str:
    """「原文件名（请按批注修改）.docx」: the sender's name kept, so they know which file it is."""
    stem, _ = os.path.splitext(original.strip())
    return f"{stem or '筹备方案'}{SUFFIX}.docx"


def annotate_form(
    data: bytes,
    layout: FormLayout,
    marks: Sequence[CellMark],
    author: str = AUTHOR,
    initials: str | None = None,
    date: dt.datetime | None = None,
) -> bytes | None:
    """The .docx with each mark shaded and commented, or None when the bytes are not a .docx that
    python-docx opens or no form table is found in it. `date` stamps the comments (none if not given:
    this module reads no clock; LibreOffice then shows a nonsense date, so pass the reply's time)."""
    try:
        document = open_docx(data)
        elements: list[Any] = []
        blocks = body_blocks(document_body(document), elements)
        places = read_form(blocks, layout).places
        if not places:
            return None
        form = _Form(document, blocks, elements, places, layout)
        spots = [form.spot(mark) for mark in marks]
        # Warnings first, so that a cell with an error as well ends up the error's colour.
        for spot, mark in sorted(zip(spots, marks, strict=True), key=lambda pair: pair[1].severity == "error"):
            _shade(spot, ERROR_FILL if mark.severity == "error" else WARNING_FILL)
        for spot, mark in zip(spots, marks, strict=True):
            _comment(document, spot, mark.message, author, author[:2] if initials is None else initials, date)
        out = io.BytesIO()
        document.save(out)
    except _FAILURES:
        return None
    return out.getvalue()


class _Form:
    """The document's blocks and elements, and where each activity was read from them."""

    def __init__(
        self, document: Any, blocks: list[Block], elements: list[Any], places: tuple[Places, ...], layout: FormLayout
    ) -> None:
        self.document = document
        self.blocks = blocks
        self.elements = elements
        self.places = places
        self.plan_heading = {squash(layout.section_plan), squash(layout.plan_instruction)}

    def spot(self, mark: CellMark) -> _Spot:
        if mark.activity is None or mark.field in (None, "file") or not 0 <= mark.activity < len(self.places):
            return self._heading()
        places = self.places[mark.activity]
        if mark.field == "plan_text":
            return self._plan(places)
        keys = _WRITTEN_IN.get(mark.field or "", (mark.field or "",))
        found = next((places.fields[key] for key in keys if key in places.fields), None)
        return self._cells(found) if found else self._table_start(places)

    def _cells(self, rows: tuple[Cells, ...]) -> _Spot:
        """The value's cells, row by row; the label's own cell when its value is inline or absent.
        The comment sits on the first; all are shaded."""
        shaded: list[Any] = []
        for cells in rows:
            tcs = list(row_cells(self.elements[cells.row]))
            chosen = cells.values or (() if cells.label is None else (cells.label,))
            shaded.extend(tcs[index] for index in chosen if index < len(tcs))
        if not shaded:
            return self._heading()
        return _Spot(shaded[0], shaded[0], tuple(shaded))

    def _plan(self, places: Places) -> _Spot:
        """The 工作方案 paragraphs after the table; else its cell in the table; else, when none was
        written, the form's 二、工作方案 heading or instruction under which it belongs."""
        if places.plan:
            written = [self.elements[at] for at in places.plan]
            return _Spot(written[0], written[-1], tuple(written))
        if "plan_text" in places.fields:
            return self._cells(places.fields["plan_text"])
        printed = [at for at in places.printed if self._is_plan_heading(self.blocks[at])]
        if printed:
            element = self.elements[printed[-1]]
            return _Spot(element, element)
        return self._table_start(places)

    def _is_plan_heading(self, block: Block) -> bool:
        text = squash(block.text) if isinstance(block, Paragraph) else ""
        return any(text.startswith(heading) for heading in self.plan_heading if heading)

    def _table_start(self, places: Places) -> _Spot:
        """The activity's first label cell (主办单位名称): a finding whose cell is not found is not lost."""
        first = next(iter(places.fields.values()))[0]
        tcs = list(row_cells(self.elements[first.row]))
        index = first.label if first.label is not None else (first.values or (0,))[0]
        return _Spot(tcs[index], tcs[index]) if index < len(tcs) else self._heading()

    def _heading(self) -> _Spot:
        """The document's first paragraph with text (附件, the form's title), for the file as a whole."""
        texts = (b.at for b in self.blocks if isinstance(b, Paragraph) and b.text.strip())
        at = next(texts, None)
        if at is not None:
            return _Spot(self.elements[at], self.elements[at])
        body = document_body(self.document)
        paragraph = next(body.iter(_P), None)
        if paragraph is None:
            paragraph = OxmlElement("w:p")
            body.insert(0, paragraph)
        return _Spot(paragraph, paragraph)


def _comment(document: Any, spot: _Spot, text: str, author: str, initials: str, date: dt.datetime | None) -> None:
    first = _runs(spot.first)
    last = first if spot.last is spot.first else _runs(spot.last)
    comment = document.add_comment([Run(first[0], document), Run(last[-1], document)], text, author, initials)
    # python-docx stamps the comment with the clock; the caller's time, or none, is used instead.
    element = comment._comment_elm
    if date is None:
        element.attrib.pop(qn("w:date"), None)
    else:
        # python-docx would take a naive time for the machine's local time; it is taken for UTC.
        element.date = date if date.tzinfo else date.replace(tzinfo=dt.UTC)


def _runs(element: Any) -> list[Any]:
    """The element's own runs (not those of a text box inside a run, nor the comment marks already
    placed); an element with none is given an empty run to hold the comment."""
    runs = [r for r in element.iter(_R) if r.find(_REFERENCE) is None and _own(r, element)]
    if runs:
        return runs
    paragraph = element if element.tag == _P else next(_paragraphs(element), None)
    if paragraph is None:
        # A cell must end with a paragraph; a bare w:tc (hand-made, or a row's cell) gets one.
        cell = element if element.tag == _TC else next(element.iter(_TC))
        paragraph = OxmlElement("w:p")
        cell.append(paragraph)
    run = OxmlElement("w:r")
    paragraph.append(run)
    return [run]


def _own(run: Any, element: Any) -> bool:
    for ancestor in run.iterancestors():
        if ancestor is element:
            return True
        if ancestor.tag == _R:
            return False
    return False


def _paragraphs(element: Any) -> Iterator[Any]:
    return element.iter(_P)  # type: ignore[no-any-return]


def _shade(spot: _Spot, fill: str) -> None:
    for element in spot.shaded:
        if element.tag == _TC:
            _set_shading(element.get_or_add_tcPr(), fill, _AFTER_CELL_SHADING)
        elif element.tag == _P:
            _set_shading(element.get_or_add_pPr(), fill, _AFTER_PARAGRAPH_SHADING)
        elif element.tag == _TR:
            for cell in row_cells(element):
                _set_shading(cell.get_or_add_tcPr(), fill, _AFTER_CELL_SHADING)


def _set_shading(properties: Any, fill: str, successors: tuple[str, ...]) -> None:
    for old in properties.findall(qn("w:shd")):
        properties.remove(old)
    shading = OxmlElement("w:shd", attrs={qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): fill})
    properties.insert_element_before(shading, *(f"w:{tag}" for tag in successors))
