"""A scan or photo to a plan form's activities: each page cleaned, turned upright, OCR'd, laid out
as table rows and paragraphs, and read by parsers.form_reader as a .docx is."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any

import cv2
import numpy as np

from parsers.blocks import Row
from parsers.errors import LIBRARY_ERRORS, UnreadableDocument
from parsers.form_reader import read_form
from parsers.records import FormLayout, PlanRead, Unreadable
from parsers.scan.cleanup import RULE_LEVEL, even_light, grey, ink, straighten
from parsers.scan.doubts import uncertain_fields
from parsers.scan.engine import Box, Engine
from parsers.scan.grid import find_grid
from parsers.scan.labels import Labels
from parsers.scan.models import model_dir
from parsers.scan.pages import load_pages
from parsers.scan.sheet import Placed, lay_out

Pixels = np.ndarray[Any, Any]

# Lines whose height is this many times their width are text running down the page: the page lies
# on its side when most of its lines do.
_TALL = 1.5
# The orientation model looks at this many of the page's longest lines.
_ORIENTATION_LINES = 12
_UPSIDE_DOWN_SHARE = 0.6
# A page is OCR'd only when some page of the file has a ruled table of a few cells, and is at least
# this large: at 400 px across, an A4 form's print is 5 px high, past reading.
_MIN_SIDE = 400
_MIN_CELLS = 4
# What opencv and numpy raise on a page the code did not foresee.
_FAILURES: tuple[type[Exception], ...] = (*LIBRARY_ERRORS, cv2.error)
_NO_FORM = Unreadable(
    "scan_unreadable",
    "图片或扫描件中没有识别出筹备方案表格（可能不清晰、不完整或不是表格）；请发送 Word（.docx）原文件，或重新清晰地扫描整页",
    "OCR found no form",
)


@cache
def engine() -> Engine:
    """The models, loaded once per process: the sandbox's worker reads file after file."""
    folder = model_dir()
    if folder is None:
        raise RuntimeError("OCR models are not installed (pip install 'subbot[ocr]')")
    return Engine(folder)


def read_scan_pages(data: bytes, name: str, kind: str, layout: FormLayout) -> PlanRead:
    try:
        return _read(data, name, kind, layout)
    except UnreadableDocument as exc:
        return PlanRead(name, kind, unreadable=Unreadable(exc.code, exc.message, exc.detail), read_by="ocr")
    except _FAILURES as exc:
        # A page that the image code did not foresee: unreadable, its exception's type kept for staff.
        detail = f"OCR: {type(exc).__module__}.{type(exc).__qualname__}: {exc}"[:500]
        return PlanRead(name, kind, unreadable=replace(_NO_FORM, detail=detail), read_by="ocr")


def _read(data: bytes, name: str, kind: str, layout: FormLayout) -> PlanRead:
    pages = load_pages(data, kind)
    cleaned = [straighten(even_light(grey(page))) for page in pages]
    if not any(_has_table(page) for page in cleaned):
        # A photo of something else, or a page too coarse to read: the models are not even loaded.
        return PlanRead(name, kind, unreadable=_NO_FORM, read_by="ocr")
    labels = Labels(layout)
    options = {"modules": layout.modules, "audiences": layout.audiences}
    placed: list[Placed] = []
    tables = 0
    for number, page in enumerate(cleaned):
        page_blocks = read_page(page, labels, options, tables, first_page=number == 0)
        tables = 1 + max((b.block.table for b in page_blocks if isinstance(b.block, Row)), default=tables - 1)
        placed += page_blocks
    form = read_form([p.block for p in placed], layout)
    if not form.activities and not form.blank_tables:
        return PlanRead(name, kind, unreadable=_NO_FORM, read_by="ocr")
    doubts = uncertain_fields(placed, labels, form)
    return PlanRead(name, kind, form.activities, blank_tables=form.blank_tables, read_by="ocr", uncertain=doubts)


def read_page(
    page: Pixels, labels: Labels, options: dict[str, tuple[str, ...]], first_table: int, *, first_page: bool
) -> list[Placed]:
    """The blocks of a cleaned page (`cleanup.straighten`), its tables numbered from `first_table`."""
    models = engine()
    page, boxes = _upright(page, models)
    grid = find_grid(ink(page, RULE_LEVEL), [(b.x0, b.y0, b.x1, b.y1) for b in boxes])
    if first_page and grid.cells:
        # Above the first table of a file is the form's heading and title, which the form reader
        # skips: not reading it saves a tenth of the time.
        top = min(cell.y0 for cell in grid.cells)
        boxes = [box for box in boxes if box.y1 > top]
    lines = models.recognise(page, boxes)
    return lay_out(lines, grid, ink(page), labels, options, first_table)


def _has_table(page: Pixels) -> bool:
    if min(page.shape[:2]) < _MIN_SIDE:
        return False
    return len(find_grid(ink(page, RULE_LEVEL)).cells) >= _MIN_CELLS


def _upright(page: Pixels, models: Engine) -> tuple[Pixels, list[Box]]:
    """The page turned so its text reads left to right, top to bottom, and its text lines."""
    boxes = models.detect(page)
    tall = sum(1 for b in boxes if b.height > _TALL * b.width and b.height > 20)
    wide = sum(1 for b in boxes if b.width > _TALL * b.height)
    if tall > wide:
        page = cv2.rotate(page, cv2.ROTATE_90_CLOCKWISE)
        boxes = models.detect(page)
    longest = sorted(boxes, key=lambda b: b.width, reverse=True)[:_ORIENTATION_LINES]
    if models.upside_down(page, longest) >= _UPSIDE_DOWN_SHARE:
        page = cv2.rotate(page, cv2.ROTATE_180)
        height, width = page.shape[:2]
        boxes = sorted((Box(width - b.x1, height - b.y1, width - b.x0, height - b.y0) for b in boxes), key=lambda b: (b.y0, b.x0))
    return page, boxes
