"""Check boxes that a PDF holds as form fields or draws as lines, turned into the box characters
(☒ ticked, ☐ not) the marks reader knows, placed where the box is, on its option's line.

A PDF page's text has no character for them: an AcroForm check box is an annotation (its /AS or /V
is a name other than /Off when ticked), and LibreOffice draws a Word check-box field as a small
square, with a cross of two lines inside when ticked. Either is read only beside text on its line
(an option label), so a small empty table cell is not taken for a box.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pdfminer.pdftypes import resolve1
from pdfminer.psparser import PSLiteral

TICKED, EMPTY = "☒", "☐"
# A check box is a square about the size of a character: 5 to 20 points a side.
_SMALLEST, _LARGEST = 5.0, 20.0
# Bounds for a crafted page: a form has a few dozen boxes, not hundreds.
MAX_ANNOTS = 500
MAX_BOXES = 200
_PARENT_DEPTH = 8  # form fields inherit /FT and /V from their parents; a loop of parents ends here
_PUSHBUTTON, _RADIO = 1 << 16, 1 << 15


@dataclass(frozen=True)
class _Box:
    x0: float
    top: float
    x1: float
    bottom: float
    ticked: bool


def box_chars(page: Any) -> list[dict[str, Any]]:
    """Characters for the page's check boxes, each a copy of the nearest character on its line."""
    chars = [char for char in page.chars if char.get("upright", True) and char["text"].strip()]
    made: list[dict[str, Any]] = []
    for box in [*_fields(page), *_drawn(page)][:MAX_BOXES]:
        if any(_centre_inside(char, box) for char in chars):
            continue  # a box drawn round a character (a glyph box, a boxed digit): the text says it
        beside = _beside(chars, box)
        if beside is not None:
            made.append(_char_for(box, beside))
    return made


def _fields(page: Any) -> Iterator[_Box]:
    """AcroForm check boxes and radio buttons among the page's annotations."""
    if page.rotation % 360:
        return  # Rect is in unrotated page space; such forms have not been seen
    annots = resolve1(page.page_obj.attrs.get("Annots"))
    if not isinstance(annots, list):
        return
    x_origin, y_origin = (float(v) for v in page.page_obj.mediabox[:2])
    for ref in annots[:MAX_ANNOTS]:
        annot = resolve1(ref)
        if not isinstance(annot, dict) or _name(annot.get("Subtype")) != "Widget":
            continue
        flags = _inherited(annot, "Ff")
        flags = flags if isinstance(flags, int) else 0
        if _name(_inherited(annot, "FT")) != "Btn" or flags & _PUSHBUTTON:
            continue
        rect = _rect(annot.get("Rect"))
        if rect is None:
            continue
        x0, y0, x1, y1 = rect
        yield _Box(
            x0 - x_origin,
            page.height - (y1 - y_origin),
            x1 - x_origin,
            page.height - (y0 - y_origin),
            _on(annot, flags),
        )


def _on(annot: dict[str, Any], flags: int) -> bool:
    """Ticked: its appearance state, or failing that its value, is a name other than /Off. A radio
    button's value is its group's (the chosen button's name), so only its own state counts."""
    state = _name(annot.get("AS"))
    if not state and not flags & _RADIO:
        state = _name(_inherited(annot, "V"))
    return state not in ("", "Off")


def _inherited(annot: dict[str, Any], key: str) -> Any:
    node: Any = annot
    for _ in range(_PARENT_DEPTH):
        if not isinstance(node, dict):
            return None
        if key in node:
            return resolve1(node[key])
        node = resolve1(node.get("Parent"))
    return None


def _name(value: Any) -> str:
    value = resolve1(value)
    if not isinstance(value, PSLiteral):
        return ""
    name = value.name
    return name.decode("latin-1") if isinstance(name, bytes) else str(name)


def _rect(value: Any) -> tuple[float, float, float, float] | None:
    rect = resolve1(value)
    if not isinstance(rect, list) or len(rect) != 4:
        return None
    numbers = [resolve1(v) for v in rect]
    if not all(isinstance(v, int | float) for v in numbers):
        return None
    x0, y0, x1, y1 = (float(v) for v in numbers)
    x0, x1, y0, y1 = min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1)
    if not (_SMALLEST <= x1 - x0 <= _LARGEST and _SMALLEST <= y1 - y0 <= _LARGEST):
        return None
    return x0, y0, x1, y1


def _drawn(page: Any) -> Iterator[_Box]:
    """Small squares drawn on the page; ticked when a stroke inside crosses much of it (LibreOffice
    draws a Word check-box field so: a square, and an X of two lines when ticked)."""
    squares = [rect for rect in page.rects if _square(rect)][:MAX_BOXES]
    if not squares:
        return
    strokes = [obj for obj in (*page.lines, *page.curves) if obj["width"] <= _LARGEST and obj["height"] <= _LARGEST]
    for square in squares:
        inside = [s for s in strokes if _within(s, square)]
        ticked = any(s["width"] >= 0.4 * square["width"] and s["height"] >= 0.4 * square["height"] for s in inside)
        yield _Box(square["x0"], square["top"], square["x1"], square["bottom"], ticked)


def _square(rect: dict[str, Any]) -> bool:
    width, height = float(rect["width"]), float(rect["height"])
    return _SMALLEST <= width <= _LARGEST and _SMALLEST <= height <= _LARGEST and abs(width - height) <= 2


def _within(obj: dict[str, Any], box: dict[str, Any], slack: float = 1.0) -> bool:
    return bool(
        obj["x0"] >= box["x0"] - slack
        and obj["x1"] <= box["x1"] + slack
        and obj["top"] >= box["top"] - slack
        and obj["bottom"] <= box["bottom"] + slack
    )


def _centre_inside(char: dict[str, Any], box: _Box) -> bool:
    x, y = (float(char["x0"]) + float(char["x1"])) / 2, (float(char["top"]) + float(char["bottom"])) / 2
    return box.x0 <= x <= box.x1 and box.top <= y <= box.bottom


def _beside(chars: list[dict[str, Any]], box: _Box) -> dict[str, Any] | None:
    """The nearest character on the box's line, within two box widths to its left or right."""
    middle = (box.top + box.bottom) / 2
    reach = 2 * (box.x1 - box.x0)
    best: tuple[float, dict[str, Any]] | None = None
    for char in chars:
        if not char["top"] <= middle <= char["bottom"]:
            continue
        gap = max(char["x0"] - box.x1, box.x0 - char["x1"], 0.0)
        if gap <= reach and (best is None or gap < best[0]):
            best = (gap, char)
    return best[1] if best else None


def _char_for(box: _Box, beside: dict[str, Any]) -> dict[str, Any]:
    """A copy of the character beside the box, moved onto the box: same line, font and size, so that
    table cells and text lines take it in as they take the label."""
    matrix = beside.get("matrix")
    char = dict(beside, text=TICKED if box.ticked else EMPTY, x0=box.x0, x1=box.x1, width=box.x1 - box.x0)
    if isinstance(matrix, tuple) and len(matrix) == 6:
        char["matrix"] = (*matrix[:4], box.x0, matrix[5])
    return char
