"""A text PDF as blocks: ruled tables and the lines outside them, page by page, top to bottom."""

from __future__ import annotations

import io
import itertools
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfpage import PDFPage
from pdfminer.pdftypes import dict_value, resolve1
from pdfminer.psparser import PSException
from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

from parsers.blocks import Block, Paragraph, Row
from parsers.errors import LIBRARY_ERRORS, UnreadableDocument
from parsers.pdf_boxes import box_chars
from parsers.text import fold_symbols

# A plan form is a few pages; a PDF far longer is not one, and reading it would take minutes.
MAX_PAGES = 60
# A dense A4 page holds about 2,500 characters and a few hundred ruling lines (the corpus: at most
# 2,004 and 459). pdfplumber's `dedupe_chars` is quadratic in a page's characters and `find_tables`
# superlinear in its lines: one line of 24,000 characters takes 15 s, a grid of 4,900 boxes 1.6 s.
# Per page and per file, these keep the worst case near 15 s.
MAX_PAGE_CHARS = 5_000
MAX_PAGE_GRAPHICS = 3_000
MAX_CHARS = 40_000
MAX_GRAPHICS = 15_000
# MalformedPDFException: a page box that is not numbers (found by the hostile fuzz test).
_PARSE_ERRORS: tuple[type[Exception], ...] = (PSException, MalformedPDFException, *LIBRARY_ERRORS)


def read_pdf_blocks(data: bytes) -> list[Block]:
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        _refuse_long(pdf.doc)
        # Not `with`: closing walks every page, which is what the count above avoids for a long PDF.
        try:
            return _read(pdf)
        finally:
            pdf.close()
    except PdfminerException as exc:
        raise _opening_failure(exc.args[0] if exc.args else exc) from exc
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise _opening_failure(exc) from exc
    except _PARSE_ERRORS as exc:
        raise UnreadableDocument("corrupt", "PDF 文件已损坏，无法读取", repr(exc)) from exc


def _refuse_long(doc: PDFDocument) -> None:
    """Count no further than the limit: pdfplumber's `pages` builds every page of a 100,000-page PDF."""
    counted = sum(1 for _ in itertools.islice(PDFPage.create_pages(doc), MAX_PAGES + 1))
    if counted <= MAX_PAGES:
        return
    declared = _declared_pages(doc)
    told = f"共{declared}页" if declared > MAX_PAGES else f"超过{MAX_PAGES}页"
    raise UnreadableDocument("too_large", f"PDF {told}，远超一份筹备方案的篇幅，未读取", f"{declared} pages declared")


def _declared_pages(doc: PDFDocument) -> int:
    count = resolve1(dict_value(doc.catalog.get("Pages")).get("Count"))
    return count if isinstance(count, int) else 0


def _opening_failure(cause: object) -> UnreadableDocument:
    if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
        return UnreadableDocument("encrypted", "PDF 文件设置了密码，无法读取；请取消密码后重新发送", repr(cause))
    if isinstance(cause, MemoryError):  # a stream that inflates past the sandbox's memory (bot.forms.sandbox)
        return UnreadableDocument("too_large", "PDF 内容展开后过大，无法安全读取", repr(cause))
    return UnreadableDocument("corrupt", "PDF 文件已损坏，无法读取", repr(cause))


def _read(pdf: Any) -> list[Block]:
    blocks: list[Block] = []
    tables = 0
    chars = graphics = 0
    for page in pdf.pages:
        page_chars, page_graphics = _refuse_crowded(page)
        chars, graphics = chars + page_chars, graphics + page_graphics
        if chars > MAX_CHARS or graphics > MAX_GRAPHICS:
            raise UnreadableDocument(
                "too_large", "PDF 内容过多，远超一份筹备方案的篇幅，未读取", f"{chars} chars, {graphics} graphics"
            )
        page = _with_boxes(page.dedupe_chars())
        placed: list[tuple[float, list[Block]]] = []
        found = page.find_tables()
        for table in found:
            tables += 1
            rows = [Row(tuple(fold_symbols(c or "") for c in row), tables) for row in table.extract()]
            placed.append((table.bbox[1], list(rows)))
        outside = page.filter(lambda obj, boxes=[t.bbox for t in found]: not _inside(obj, boxes))
        for line in outside.extract_text_lines(return_chars=False):
            placed.append((line["top"], [Paragraph(fold_symbols(line["text"]))]))
        for _, items in sorted(placed, key=lambda item: item[0]):
            blocks.extend(items)
    if chars == 0:
        raise UnreadableDocument(
            "scanned", "PDF 中没有可读取的文字（可能是扫描件或照片）；请发送 Word（.docx）原文件", "no text"
        )
    return blocks


def _with_boxes(page: Any) -> Any:
    """The page with a ☒ or ☐ character where a check box is: tables and lines then read it as text."""
    boxes = box_chars(page)
    if boxes:
        # As pdfplumber's own dedupe_chars does: the derived page's objects, with the characters replaced.
        page._objects = {**page.objects, "char": [*page.chars, *boxes]}
    return page


def _refuse_crowded(page: Any) -> tuple[int, int]:
    """The page's characters and graphics, once they are known to be few enough to read in bounded time."""
    objects = page.objects
    chars = len(objects.get("char", ()))
    graphics = sum(len(objects.get(kind, ())) for kind in ("rect", "line", "curve"))
    if chars > MAX_PAGE_CHARS or graphics > MAX_PAGE_GRAPHICS:
        raise UnreadableDocument(
            "too_large",
            f"PDF 第{page.page_number}页内容过多，不像筹备方案表格，未读取",
            f"page {page.page_number}: {chars} chars, {graphics} graphics",
        )
    return chars, graphics


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    if "x0" not in obj:
        return False
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)
