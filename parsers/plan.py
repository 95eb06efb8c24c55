"""`read_plan`: any file a branch sends, to the activities it holds or why it cannot be read."""

from __future__ import annotations

import zipfile
from dataclasses import replace

from lxml import etree

from parsers.blocks import Block
from parsers.docx_blocks import read_docx_blocks
from parsers.errors import LIBRARY_ERRORS, NeedsConversion, UnreadableDocument
from parsers.form_reader import read_form
from parsers.package import refuse, sniff
from parsers.records import FormLayout, PlanRead, Unreadable
from parsers.scan import OcrFailed, may_be_scan, ocr_available, read_scan

# Unreadable codes of files that are pictures of a page: the image itself, or a PDF without text.
SCANNED = ("image", "scanned")
# What each convertible kind is called when asking the sender to re-save.
CONVERTIBLE = {"doc": "Word 97-2003（.doc）", "wps": "WPS（.wps）", "odt": "OpenDocument（.odt）", "rtf": "RTF"}

# What the libraries under the readers raise on malformed input that the readers did not foresee:
# the file is then reported as corrupt, with the exception's type kept in the detail for staff.
PARSER_FAILURES: tuple[type[Exception], ...] = (
    *LIBRARY_ERRORS,
    OSError,
    zipfile.BadZipFile,
    etree.LxmlError,
)


def read_plan(data: bytes, name: str, layout: FormLayout, ocr: bool = True) -> PlanRead:
    """Read a plan form from bytes. Raises NeedsConversion for .doc/.wps/.odt/.rtf, which the caller
    converts (LibreOffice is IO, so it lives at the edge) and passes back in as .docx. A photo or an
    image-only PDF is read by OCR when the `ocr` extra is installed (`PlanRead.read_by == "ocr"`) and `ocr`
    is true."""
    kind = sniff(data, name)
    try:
        blocks = _blocks(data, kind)
    except UnreadableDocument as exc:
        today = PlanRead(name, kind, unreadable=Unreadable(exc.code, exc.message, exc.detail))
        return _scanned(data, name, layout, today) if ocr and exc.code in SCANNED else today
    except PARSER_FAILURES as exc:
        detail = f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"[:500]
        return PlanRead(name, kind, unreadable=Unreadable("corrupt", "文件已损坏或格式异常，无法读取", detail))
    form = read_form(blocks, layout)
    return PlanRead(name, kind, form.activities, blank_tables=form.blank_tables)


def _scanned(data: bytes, name: str, layout: FormLayout, today: PlanRead) -> PlanRead:
    """A photo or an image-only PDF, read by OCR when it is installed. Where OCR finds no form (a photo
    of something else) or cannot open the image, the answer is today's, its detail saying OCR was tried."""
    if not ocr_available() or today.unreadable is None:
        return today
    if not may_be_scan(data, name):
        return _tried(today, "not a picture of a page")
    try:
        read = read_scan(data, name, layout)
    except (OcrFailed, ImportError, OSError, MemoryError) as exc:
        # OCR could not run here (a sandbox's address-space limit set too low for its libraries).
        return _tried(today, f"could not run: {type(exc).__name__}: {exc}"[:300])
    problem = read.unreadable
    if problem is None or problem.code == "too_large":
        return read
    return _tried(today, problem.detail or problem.code)


def _tried(today: PlanRead, why: str) -> PlanRead:
    assert today.unreadable is not None
    return replace(today, unreadable=replace(today.unreadable, detail=f"{today.unreadable.detail}; OCR: {why}"))


def _blocks(data: bytes, kind: str) -> list[Block]:
    if kind == "docx":
        return read_docx_blocks(data)
    if kind == "pdf":
        from parsers.pdf_blocks import read_pdf_blocks  # pdfplumber is loaded for a PDF only

        return read_pdf_blocks(data)
    raise refuse(kind)


__all__ = ["CONVERTIBLE", "NeedsConversion", "read_plan"]
