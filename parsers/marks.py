"""Which options of a multiple-choice cell are ticked, however the sender marked them."""

from __future__ import annotations

import re
import unicodedata

from parsers.records import Choices
from parsers.text import fold_symbols

# Marks that mean "chosen" inside brackets or beside an option; X is how many people tick.
TICKS = frozenset("√✓✔☑■☒✗✘●VvXxYy是有") | {"yes", "Yes", "YES"}
# Marks that mean "not chosen".
NOT_TICKED = frozenset({"", "否", "无", "×", "-", "/", "—", "_", "__", "○", "☐", "□", "▢"})
BOXES_BEFORE = frozenset("☐☑□■☒▢●○")
_BRACKET = re.compile(r"\s*[(（\[【〔]([^)）\]】〕]{0,6})[)）\]】〕]")
_LOOSE_MARK = re.compile(r"\s*([√✓✔☑■☒✗✘])")


def read_choices(text: str, options: tuple[str, ...]) -> Choices:
    """Options chosen in `text`: by a mark in brackets after the option, a box before it, a tick
    beside it, or, when the sender deleted the options not chosen, by the option's presence alone."""
    # A symbol font's tick typed as text (LibreOffice and WPS save w:sym so) reads as the tick it draws.
    folded = unicodedata.normalize("NFKC", fold_symbols(text)).replace("\u3000", " ")
    found = _locate(folded, options)
    if not found:
        return Choices(text)
    box_style = any(_box_before(folded, start) for _, start, _ in found)
    marked_any = box_style or any(_after(folded, end) is not None for _, _, end in found)
    selected: list[str] = []
    unclear: list[str] = []
    for option, start, end in found:
        mark = _box_before(folded, start) if box_style else _after(folded, end)
        if not marked_any:
            selected.append(option)
        elif mark is None or mark in NOT_TICKED:
            continue
        elif mark in TICKS:
            selected.append(option)
        else:
            unclear.append(option)
    return Choices(text, tuple(selected), tuple(unclear))


def _locate(text: str, options: tuple[str, ...]) -> list[tuple[str, int, int]]:
    spots = []
    for option in options:
        start = text.find(unicodedata.normalize("NFKC", option))
        if start >= 0:
            spots.append((option, start, start + len(option)))
    return sorted(spots, key=lambda spot: spot[1])


def _box_before(text: str, start: int) -> str | None:
    before = text[:start].rstrip()
    return before[-1] if before and before[-1] in BOXES_BEFORE else None


def _after(text: str, end: int) -> str | None:
    """The mark after an option: what stands in its brackets, or a bare tick; None when nothing."""
    bracket = _BRACKET.match(text, end)
    if bracket:
        return bracket.group(1).strip().replace(" ", "")
    loose = _LOOSE_MARK.match(text, end)
    return loose.group(1) if loose else None
