"""A read page as the blocks a .docx gives: each ruled table's rows, a cell's text being the OCR'd
characters inside it, and the lines outside the tables as paragraphs, top to bottom; each block
carries the lowest OCR confidence of each of its cells, for telling which fields to check by hand."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from parsers.blocks import Block, Paragraph, Row
from parsers.scan.engine import Char, Line
from parsers.scan.grid import Cell, Grid
from parsers.scan.labels import Labels
from parsers.scan.ticks import read_ticks

Pixels = np.ndarray[Any, Any]

# Cells whose tops are this close (px) start the same row.
_ROW_TOLERANCE = 12
# A paragraph line reaching this close (in character heights) to the right margin wrapped, and the
# next line goes on with it (a 工作方案 typed as one long paragraph) if it follows closer than the
# gap between paragraphs and the line did not end a sentence.
_WRAP_MARGIN = 1.5
_WRAP_SHARE = 0.6
_WRAP_GAP = 0.5
_SENTENCE_ENDS = tuple("。！？；：!?;:")
# The recogniser reads a wide gap as a space, also beside Chinese, where nobody types one.
_CJK_SPACE = re.compile(r"(?<=[^\x00-\x7f]) +| +(?=[^\x00-\x7f])")


@dataclass(frozen=True)
class Placed:
    """A block, where it starts on the page, and the lowest OCR confidence of each cell (1.0 for an
    empty one; a paragraph has one)."""

    block: Block
    scores: tuple[float, ...]
    top: int


def lay_out(lines: list[Line], grid: Grid, binary: Pixels, labels: Labels, options: dict[str, tuple[str, ...]], first_table: int) -> list[Placed]:
    """The page's blocks; its tables are numbered from `first_table`."""
    in_cells: dict[int, dict[int, list[Char]]] = defaultdict(lambda: defaultdict(list))
    outside: dict[int, list[Char]] = defaultdict(list)
    for index, line in enumerate(lines):
        middle = (line.box.y0 + line.box.y1) / 2
        for ch in line.chars:
            cell = grid.cell_at(ch.x, middle)
            if cell is None:
                outside[index].append(ch)
            else:
                in_cells[cell][index].append(ch)
    cell_lines = {cell: [Line(lines[i].box, tuple(chars)) for i, chars in found.items()] for cell, found in in_cells.items()}
    placed = _table_rows(grid.cells, cell_lines, binary, labels, options, first_table)
    placed += _paragraphs([Line(lines[i].box, tuple(chars)) for i, chars in sorted(outside.items())], labels)
    return sorted(placed, key=lambda item: item.top)


def _table_rows(
    cells: tuple[Cell, ...],
    cell_lines: dict[int, list[Line]],
    binary: Pixels,
    labels: Labels,
    options: dict[str, tuple[str, ...]],
    first_table: int,
) -> list[Placed]:
    placed: list[Placed] = []
    for table in sorted({cell.table for cell in cells}):
        members = [i for i, cell in enumerate(cells) if cell.table == table]
        for top, starting, spanning in _rows(cells, members):
            row = sorted(starting + spanning, key=lambda i: cells[i].x0)
            texts, scores = [], []
            for i in row:
                text, score = ("", 1.0) if i in spanning else _cell_text(cell_lines.get(i, []), labels)
                texts.append(text)
                scores.append(score)
            _mark_ticks(row, texts, scores, cells, cell_lines, binary, labels, options)
            placed.append(Placed(Row(tuple(texts), first_table + table), tuple(scores), top))
    return placed


def _rows(cells: tuple[Cell, ...], members: list[int]) -> Iterable[tuple[int, list[int], list[int]]]:
    """(top, cells starting in the row, cells from rows above reaching down through it)."""
    tops: list[int] = []
    for i in sorted(members, key=lambda i: cells[i].y0):
        if not tops or cells[i].y0 - tops[-1] > _ROW_TOLERANCE:
            tops.append(cells[i].y0)
    for top in tops:
        starting = [i for i in members if abs(cells[i].y0 - top) <= _ROW_TOLERANCE]
        spanning = [i for i in members if cells[i].y0 < top - _ROW_TOLERANCE and cells[i].y1 > top + _ROW_TOLERANCE]
        yield top, starting, spanning


def _cell_text(lines: list[Line], labels: Labels) -> tuple[str, float]:
    text, score = _join(lines)
    canonical = labels.canonical(text, [ch.score for line in lines for ch in line.chars])
    return (canonical, 1.0) if canonical else (text, score)


def _join(lines: list[Line]) -> tuple[str, float]:
    """Lines top to bottom joined by newlines; pieces side by side on one line by a space."""
    visual: list[list[Line]] = []
    for line in sorted(lines, key=lambda line: (line.box.y0, line.box.x0)):
        if line.chars and visual and _same_line(visual[-1][0], line):
            visual[-1].append(line)
        elif line.chars:
            visual.append([line])
    text = "\n".join(_side_by_side([piece.text for piece in sorted(group, key=lambda p: p.box.x0)]) for group in visual)
    return text, confidence(ch for line in lines for ch in line.chars)


def _side_by_side(pieces: list[str]) -> str:
    """Pieces of one line that detection cut apart: a space only between two words of Latin letters
    or digits ("北京市海淀区学院路" + "20号" is one address)."""
    out = ""
    for piece in filter(None, (_CJK_SPACE.sub("", piece) for piece in pieces)):
        if out and out[-1].isascii() and out[-1].isalnum() and piece[0].isascii() and piece[0].isalnum():
            out += " "
        out += piece
    return out


def confidence(chars: Iterable[Char]) -> float:
    """The lowest confidence among letters, digits and characters (punctuation is left out: a dash or
    a bracket read with doubt changes no value, and the rules catch a date or an e-mail it breaks)."""
    return min((ch.score for ch in chars if ch.text.isalnum()), default=1.0)


def _same_line(a: Line, b: Line) -> bool:
    overlap = min(a.box.y1, b.box.y1) - max(a.box.y0, b.box.y0)
    return overlap > 0.5 * min(a.box.height, b.box.height)


def _mark_ticks(
    row: list[int],
    texts: list[str],
    scores: list[float],
    cells: tuple[Cell, ...],
    cell_lines: dict[int, list[Line]],
    binary: Pixels,
    labels: Labels,
    options: dict[str, tuple[str, ...]],
) -> None:
    """In the modules and audiences rows, the option cells rewritten with the ticks read from ink."""
    for position, text in enumerate(texts):
        field = labels.field(text)
        if field not in options:
            continue
        following = row[position + 1 :]
        ends = next((k for k, i in enumerate(following) if labels.field(texts[position + 1 + k])), len(following))
        chosen = following[:ends]
        boxes = [((cells[i].x0, cells[i].y0, cells[i].x1, cells[i].y1), cell_lines.get(i, [])) for i in chosen]
        ticked = read_ticks(boxes, options[field], binary)
        if ticked is None or not chosen:
            continue
        first = position + 1
        texts[first] = ticked.text
        scores[first] = 0.0 if ticked.doubtful else ticked.score
        for k in range(first + 1, first + len(chosen)):
            texts[k], scores[k] = "", 1.0


def _paragraphs(lines: list[Line], labels: Labels) -> list[Placed]:
    """Lines outside the tables, the form's own printed text dropped or set right, wrapped lines of
    one paragraph joined."""
    visual: list[list[Line]] = []
    for line in sorted((line for line in lines if line.chars), key=lambda line: (line.box.y0, line.box.x0)):
        if visual and _same_line(visual[-1][0], line):
            visual[-1].append(line)
        else:
            visual.append([line])
    if not visual:
        return []
    right = max(piece.box.x1 for group in visual for piece in group)
    left = min(piece.box.x0 for group in visual for piece in group)
    placed: list[Placed] = []
    carry: Placed | None = None
    bottom = 0
    for group in visual:
        text, score = _join(group)
        heading = labels.heading(text)
        if labels.is_printed(text):
            carry = None
            continue
        top = min(piece.box.y0 for piece in group)
        height = max(piece.box.height for piece in group)
        if heading:
            item = Placed(Paragraph(heading), (1.0,), top)
        elif carry is not None and top - bottom < _WRAP_GAP * height:
            previous = carry.block
            assert isinstance(previous, Paragraph)
            item = Placed(Paragraph(previous.text + text), (min(carry.scores[0], score),), carry.top)
            placed.pop()
        else:
            item = Placed(Paragraph(text), (score,), top)
        placed.append(item)
        end = max(piece.box.x1 for piece in group)
        bottom = max(piece.box.y1 for piece in group)
        wrapped = right - end < _WRAP_MARGIN * height and end - left > _WRAP_SHARE * (right - left)
        carry = item if wrapped and not heading and not text.endswith(_SENTENCE_ENDS) else None
    return placed
