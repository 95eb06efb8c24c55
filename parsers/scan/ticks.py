"""Which options of a scanned multiple-choice cell are ticked, from the ink in each option's bracket
or box as much as from what OCR reads there: a pen's √ drawn across a bracket is rarely read as one.

The cell is written back as the form prints it, "团结引领（√） 建家办事（ ）", for parsers.marks to read
as it reads a .docx."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein

from parsers.marks import NOT_TICKED, TICKS
from parsers.scan.engine import Char, Line

Pixels = np.ndarray[Any, Any]

# A mark is a stroke at least this share of the text's height both across and down: a bracket is
# a quarter as wide as it is high, a speck of dust much smaller; √, ✓, X, ☑ and a pen's tick are not.
MARK_SHARE = 0.45
# Between this share and MARK_SHARE a stroke may or may not be a mark: the option is reported as
# doubtful (to be checked by a person).
DOUBT_SHARE = 0.3
# A glyph's ink is about this share of its line box's height (the box includes DB's margin).
_GLYPH_SHARE = 0.7
_INSET = 5
_BRACKETS = "()（）[]【】〔〕 "


@dataclass(frozen=True)
class Ticked:
    """The options and their marks as text; doubtful when a mark could not be told; `score` the
    lowest OCR confidence of the options' names."""

    text: str
    doubtful: bool
    score: float


@dataclass(frozen=True)
class _Found:
    option: str
    chars: tuple[tuple[Char, Line], ...]


def read_ticks(
    cells: list[tuple[tuple[int, int, int, int], list[Line]]], options: tuple[str, ...], binary: Pixels
) -> Ticked | None:
    """The option cells of one row (each a box and the OCR lines in it) as one text of options and
    marks; None when no option could be found in them."""
    parts: list[str] = []
    doubtful = False
    found_any = False
    score = 1.0
    for box, lines in cells:
        found = _find(lines, options)
        if not found:
            continue
        found_any = True
        for index, option in enumerate(found):
            score = min([score, *(ch.score for ch, _ in option.chars)])
            after = found[index + 1] if index + 1 < len(found) else None
            ink = _ink_mark(box, option, after, found, binary)
            said = _said(lines, option, after)
            ticked, unsure = _decide(ink, said)
            doubtful |= unsure
            parts.append(f"{option.option}（{'√' if ticked else ' '}）")
    if not found_any:
        return None
    missing = len(parts) < len(options)
    return Ticked(" ".join(parts), doubtful or missing, score)


def _find(lines: list[Line], options: tuple[str, ...]) -> list[_Found]:
    """Options in reading order, each found exactly or with one character misread."""
    chars = [(ch, line) for line in lines for ch in line.chars]
    text = "".join(ch.text for ch, _ in chars)
    found: list[tuple[int, _Found]] = []
    taken: set[int] = set()
    for option in options:
        start = _locate(text, option, taken)
        if start is None:
            continue
        span = range(start, start + len(option))
        taken.update(span)
        found.append((start, _Found(option, tuple(chars[i] for i in span))))
    return [item for _, item in sorted(found, key=lambda pair: pair[0])]


def _locate(text: str, option: str, taken: set[int]) -> int | None:
    exact = text.find(option)
    if exact >= 0:
        return exact
    size = len(option)
    for start in range(0, max(0, len(text) - size + 1)):
        if taken.intersection(range(start, start + size)):
            continue
        if Levenshtein.distance(text[start : start + size], option) <= (1 if size >= 3 else 0):
            return start
    return None


def _ink_mark(box: tuple[int, int, int, int], option: _Found, after: _Found | None, found: list[_Found], binary: Pixels) -> float:
    """The largest stroke in the option's mark zone, as a share of the text's height: the zone runs
    from the option's end to the next option's start (or the cell's end), the option's own text and
    the other options' text left out; in a cell of its own an option's bracket may be on the next line."""
    x0, y0, x1, y1 = box
    height = max(line.box.height for _, line in option.chars) * _GLYPH_SHARE
    last_char, last_line = option.chars[-1]
    zone_x0 = x0 + _INSET if len(found) == 1 else int(last_char.x + height * 0.55)
    zone_x1 = int(after.chars[0][0].x - height * 0.55) if after else x1 - _INSET
    zone_y0, zone_y1 = y0 + _INSET, y1 - _INSET
    if len(found) > 1:
        zone_y0 = max(zone_y0, int(last_line.box.y0 - height * 0.4))
        zone_y1 = min(zone_y1, int(last_line.box.y1 + height * 0.4))
    if zone_x1 - zone_x0 < 4 or zone_y1 - zone_y0 < 4:
        return 0.0
    zone = binary[zone_y0:zone_y1, zone_x0:zone_x1].copy()
    for other in found:
        for ch, line in other.chars:
            half = height * 0.55
            left, right = int(ch.x - half - zone_x0), int(ch.x + half - zone_x0)
            top, bottom = line.box.y0 - zone_y0, line.box.y1 - zone_y0
            zone[max(0, top) : max(0, bottom), max(0, left) : max(0, right)] = 0
    count, _, stats, _ = cv2.connectedComponentsWithStats(zone, connectivity=8)
    best = 0.0
    for label in range(1, count):
        w, h = int(stats[label][2]), int(stats[label][3])
        best = max(best, min(w, h) / height)
    return best


def _said(lines: list[Line], option: _Found, after: _Found | None) -> tuple[str, float]:
    """What OCR read between the option and the next (brackets and spaces dropped), with its lowest confidence."""
    chars = [ch for line in lines for ch in line.chars]
    ids = [id(ch) for ch in chars]
    start = ids.index(id(option.chars[-1][0])) + 1
    end = ids.index(id(after.chars[0][0])) if after else len(chars)
    between = [ch for ch in chars[start:end] if ch.text not in _BRACKETS]
    return "".join(ch.text for ch in between), min((ch.score for ch in between), default=1.0)


def _decide(ink: float, said: tuple[str, float]) -> tuple[bool, bool]:
    """(ticked, doubtful). A printed ×, 否 or ○ read with confidence means "not chosen" whatever ink
    it has; otherwise ink decides, and OCR disagreeing with it makes the answer doubtful."""
    text, score = said
    if text in NOT_TICKED and text and score >= 0.8:
        return False, False
    read_tick = text in TICKS or "√" in text
    if ink >= MARK_SHARE:
        return True, False
    if ink >= DOUBT_SHARE:
        return read_tick, True
    return read_tick, read_tick
