"""A scan or photo to a plan form's activities: each page cleaned, turned upright, OCR'd, laid out
as table rows and paragraphs, and read by parsers.form_reader as a .docx is."""

from __future__ import annotations

from functools import cache
from typing import Any

import cv2
import numpy as np

from parsers.blocks import Row
from parsers.errors import UnreadableDocument
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
        pages = load_pages(data, kind)
    except UnreadableDocument as exc:
        return PlanRead(name, kind, unreadable=Unreadable(exc.code, exc.message, exc.detail), read_by="ocr")
    labels = Labels(layout)
    options = {"modules": layout.modules, "audiences": layout.audiences}
    placed: list[Placed] = []
    tables = 0
    for page in pages:
        page_blocks = read_page(page, labels, options, tables)
        tables = 1 + max((b.block.table for b in page_blocks if isinstance(b.block, Row)), default=tables - 1)
        placed += page_blocks
    form = read_form([p.block for p in placed], layout)
    if not form.activities and not form.blank_tables:
        return PlanRead(name, kind, unreadable=_NO_FORM, read_by="ocr")
    doubts = uncertain_fields(placed, labels, form)
    return PlanRead(name, kind, form.activities, blank_tables=form.blank_tables, read_by="ocr", uncertain=doubts)


def read_page(rgb: Pixels, labels: Labels, options: dict[str, tuple[str, ...]], first_table: int) -> list[Placed]:
    models = engine()
    page = straighten(even_light(grey(rgb)))
    page, boxes = _upright(page, models)
    lines = models.recognise(page, boxes)
    binary = ink(page)
    return lay_out(lines, find_grid(ink(page, RULE_LEVEL)), binary, labels, options, first_table)


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
