"""The ruled tables of a straightened page and their cells, from the ink of the rules alone: a merged
cell is whatever the rules enclose, so spans across rows or columns come out as one cell."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

Pixels = np.ndarray[Any, Any]

# A horizontal rule is ink at least this long in one row of pixels; a CJK character's longest
# stroke at 200 dpi is about 30 px, the dash in "5月28日—5月30日" about 35.
_RULE_LENGTH = 60
# A vertical rule in a one-line row is as short as the row (about 37 px); it is told from a tall
# stroke of text by running into a horizontal rule at both ends (text keeps a margin of a few
# pixels from the rules, so a 干 filling a one-line row does not).
_STROKE = 24
_TOUCH = 2
# Gaps a scan leaves in a rule that are bridged.
_GAP = 15
# A vertical rule's share of its span that is ink (noise and JPEG leave a few pale pixels).
_FILL = 0.9
# Pieces of one vertical rule in successive rows line up to this many pixels.
_ALIGNED = 3
_MIN_CELL = 14
_MIN_TABLE_AREA = 40_000


@dataclass(frozen=True)
class Cell:
    table: int
    x0: int
    y0: int
    x1: int
    y1: int


@dataclass(frozen=True)
class Grid:
    """The cells, and `owner`: each pixel's cell index plus one (0 for a rule or outside any table)."""

    cells: tuple[Cell, ...]
    owner: Pixels

    def cell_at(self, x: float, y: float) -> int | None:
        height, width = self.owner.shape[:2]
        xi, yi = min(max(int(x), 0), width - 1), min(max(int(y), 0), height - 1)
        found = int(self.owner[yi, xi])
        if found:
            return found - 1
        # On a rule, or on a stroke taken for one: the cell whose box holds the point.
        holding = [i for i, c in enumerate(self.cells) if c.x0 <= x <= c.x1 and c.y0 <= y <= c.y1]
        return min(holding, key=lambda i: (self.cells[i].x1 - self.cells[i].x0) * (self.cells[i].y1 - self.cells[i].y0), default=None)


def find_grid(binary: Pixels, text: Sequence[tuple[int, int, int, int]] = ()) -> Grid:
    """The cells of the page's tables. `text`: boxes (x0, y0, x1, y1) of the text lines found, if
    known: a "rule" in one row only that a line of text runs across is strokes of text (a 者 or 作
    filling a one-line row, joined to the rules by noise)."""
    rules = _rules(binary, text)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.bitwise_not(rules), connectivity=4)
    tables = _tables(rules)
    height, width = binary.shape[:2]
    cells: list[Cell] = []
    index = np.zeros(count, np.int32)
    for label in range(1, count):
        x, y, w, h = (int(v) for v in stats[label][:4])
        if w < _MIN_CELL or h < _MIN_CELL or x == 0 or y == 0 or x + w >= width or y + h >= height:
            continue  # the page round the tables, or a sliver between two rules
        table = _table_of(tables, x + w / 2, y + h / 2)
        if table is None:
            continue
        cells.append(Cell(table, x, y, x + w, y + h))
        index[label] = len(cells)
    return Grid(tuple(cells), index[labels])


def _rules(binary: Pixels, text: Sequence[tuple[int, int, int, int]]) -> Pixels:
    """The rules' ink: long horizontal runs, and the vertical runs that fill a row from the rule above
    it to the rule below it."""
    across = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (_RULE_LENGTH, 1)))
    across = cv2.morphologyEx(across, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (_GAP, 1)))
    rules = across.copy()
    pieces = _vertical_rules(binary, across)
    for x, top, bottom in pieces:
        if _continued(pieces, x, top, bottom) or not any(_crosses(box, x, top, bottom) for box in text):
            rules[top:bottom, max(0, x - 1) : x + 2] = 255
    return cv2.dilate(rules, np.ones((3, 3), np.uint8))


def _vertical_rules(binary: Pixels, across: Pixels) -> list[tuple[int, int, int]]:
    """(x, top, bottom) of each piece of vertical rule between two horizontal rules. A column is a rule
    between two horizontal rules when its ink fills the span from one to the other (a pixel either
    side allowed), touching both: a tall stroke of text in a one-line row leaves a gap at either end."""
    down = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, _STROKE)))
    columns = _peaks((down > 0).sum(axis=0))
    inked = cv2.dilate(binary, np.ones((1, 3), np.uint8)) > 0
    rows_of_rules = across > 0
    found = []
    for centre in columns:
        ruled = np.flatnonzero(rows_of_rules[:, max(0, centre - 2) : centre + 3].any(axis=1))
        for top, bottom in _spans(ruled):
            if bottom - top < _STROKE:
                continue
            # Within one row a rule is plumb to a pixel; across the table it may drift by a few.
            for x in sorted(range(max(0, centre - 4), centre + 5), key=lambda x: abs(x - centre)):
                span = inked[top:bottom, x]
                if span.mean() >= _FILL and span[:_TOUCH].all() and span[-_TOUCH:].all():
                    found.append((x, top, bottom))
                    break
    return found


def _continued(pieces: list[tuple[int, int, int]], x: int, top: int, bottom: int) -> bool:
    """The rule goes on in the row above or below: a column's border, not a lone stroke in one row.
    (Detection sometimes runs a line of text across a thin rule, so a crossing alone does not tell.)"""
    return any(
        abs(other - x) <= _ALIGNED and (abs(other_top - bottom) <= _ALIGNED * 3 or abs(other_bottom - top) <= _ALIGNED * 3)
        for other, other_top, other_bottom in pieces
    )


def _crosses(box: tuple[int, int, int, int], x: int, top: int, bottom: int) -> bool:
    """A text line runs across column x (by more than a character's width either side) within a span
    no taller than two lines: a rule down a row of several lines stands even so."""
    x0, y0, x1, y1 = box
    height = y1 - y0
    overlap = min(y1, bottom) - max(y0, top)
    return x0 + height < x < x1 - height and overlap > 0.5 * min(height, bottom - top) and bottom - top < 2 * height


def _peaks(counts: np.ndarray[Any, Any]) -> list[int]:
    """Columns holding the most vertical ink among their neighbours: a rule, not the text beside it."""
    smoothed = counts.astype(np.int32)
    widest = cv2.dilate(smoothed.reshape(1, -1).astype(np.float32), np.ones((1, 7), np.uint8)).ravel()
    return [int(x) for x in np.flatnonzero((smoothed >= _STROKE) & (smoothed >= widest))]


def _spans(ruled: np.ndarray[Any, Any]) -> list[tuple[int, int]]:
    """The gaps between successive horizontal rules crossing a column (each rule a run of rows)."""
    if not ruled.size:
        return []
    breaks = np.flatnonzero(np.diff(ruled) > 1)
    return [(int(ruled[b]) + 1, int(ruled[b + 1])) for b in breaks]


def _tables(rules: Pixels) -> list[tuple[int, int, int, int]]:
    count, _, stats, _ = cv2.connectedComponentsWithStats(rules, connectivity=8)
    boxes = [tuple(int(v) for v in stats[label][:4]) for label in range(1, count) if stats[label][4] > 0]
    found = [(x, y, x + w, y + h) for x, y, w, h in boxes if w * h >= _MIN_TABLE_AREA and w > 100 and h > 30]
    return sorted(found, key=lambda box: (box[1], box[0]))


def _table_of(tables: list[tuple[int, int, int, int]], x: float, y: float) -> int | None:
    for index, (x0, y0, x1, y1) in enumerate(tables):
        if x0 < x < x1 and y0 < y < y1:
            return index
    return None
