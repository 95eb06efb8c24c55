"""A text PDF as blocks: ruled tables and the lines outside them, page by page, top to bottom."""

from __future__ import annotations

import io
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.psparser import PSException
from pdfplumber.utils.exceptions import PdfminerException

from parsers.blocks import Block, Paragraph, Row
from parsers.errors import UnreadableDocument
from parsers.text import fold_symbols

# A plan form is a few pages; a PDF far longer is not one, and reading it would take minutes.
MAX_PAGES = 60


def read_pdf_blocks(data: bytes) -> list[Block]:
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return _read(pdf)
    except UnreadableDocument:
        raise
    except PdfminerException as exc:
        raise _opening_failure(exc.args[0] if exc.args else exc) from exc
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise _opening_failure(exc) from exc
    except (PSException, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise UnreadableDocument("corrupt", "PDF 文件已损坏，无法读取", repr(exc)) from exc


def _opening_failure(cause: object) -> UnreadableDocument:
    if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
        return UnreadableDocument("encrypted", "PDF 文件设置了密码，无法读取；请取消密码后重新发送", repr(cause))
    return UnreadableDocument("corrupt", "PDF 文件已损坏，无法读取", repr(cause))


def _read(pdf: Any) -> list[Block]:
    pages = pdf.pages
    if len(pages) > MAX_PAGES:
        raise UnreadableDocument(
            "too_large", f"PDF 共{len(pages)}页，远超一份筹备方案的篇幅，未读取", f"{len(pages)} pages"
        )
    blocks: list[Block] = []
    tables = 0
    chars = 0
    for page in pages:
        page = page.dedupe_chars()
        chars += len(page.chars)
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


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    if "x0" not in obj:
        return False
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)
