"""Which options of a multiple-choice cell are ticked, however the sender marked them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from parsers.blocks import Styled
from parsers.records import Choices
from parsers.text import fold_symbols

# Marks that mean "chosen" inside brackets or beside an option; X is how many people tick.
TICKS = frozenset("√✓✔☑■☒✗✘●VvXxYy是有") | {"yes", "Yes", "YES"}
# Marks that mean "not chosen".
NOT_TICKED = frozenset({"", "否", "无", "×", "-", "/", "—", "_", "__", "○", "☐", "□", "▢"})
# Marks that stand loose beside an option, without brackets; boxes usually go before it, ticks after.
BOXES = frozenset("☐☑□■☒▢●○")
_LOOSE = "√✓✔✗✘" + "".join(sorted(BOXES))
_MARK = re.compile(
    r"[(（\[【〔](?P<inner>[^)）\]】〕(（\[【〔]{0,6})[)）\]】〕]"
    rf"|(?P<loose>[{_LOOSE}])"
    r"|[:：]\s*(?P<word>[是否])"
)


@dataclass(frozen=True)
class _Mark:
    text: str
    # Which option it belongs to: -1 the one before it, +1 the one after, 0 not known from its place.
    side: int
    loose_box: bool


def read_choices(text: str, options: tuple[str, ...], styled: Sequence[Styled] = ()) -> Choices:
    """Options chosen in `text`: by a mark in brackets or a tick or box beside each option (before
    or after it, whichever the sender used), or, when the options not chosen were deleted, by the
    option's presence alone. With no tick anywhere, by the look of the options (`styled`: the cell's
    bold, highlighted, shaded or coloured text) when that sets some of them apart, not all."""
    # A symbol font's tick typed as text (LibreOffice and WPS save w:sym so) reads as the tick it draws.
    folded = unicodedata.normalize("NFKC", fold_symbols(text)).replace("\u3000", " ")
    found = _locate(folded, options)
    if not found:
        return Choices(text)
    marks = _marks(folded, found)
    ticked = any(mark not in NOT_TICKED for own in marks for mark in own)
    if not ticked and len(found) == len(options) > 1 and (looks := _set_apart(found, styled)):
        return Choices(text, looks)
    if not any(marks):
        if len(found) == len(options) > 1 and _bare(folded, found):
            # Every printed option and not a mark anywhere: nothing ticked, or ticks this text cannot
            # hold (pictures, PDF form widgets). Not "all chosen": that would be a silent guess.
            return Choices(text)
        return Choices(text, tuple(option for option, _, _ in found))
    selected: list[str] = []
    unclear: list[str] = []
    for (option, _, _), own in zip(found, marks, strict=True):
        if any(mark in TICKS for mark in own):
            selected.append(option)
        elif any(mark not in NOT_TICKED for mark in own):
            unclear.append(option)
    return Choices(text, tuple(selected), tuple(unclear))


def _set_apart(found: list[tuple[str, int, int]], styled: Sequence[Styled]) -> tuple[str, ...]:
    """The options that one kind of look (bold, highlight, shading, colour) sets apart from the
    others; () when none does, when every option looks so (a bold template), or when two kinds
    set apart different options (which one means "chosen" is a guess)."""
    apart: set[tuple[str, ...]] = set()
    for how in {s.how for s in styled}:
        texts = [_squashed(s.text) for s in styled if s.how == how]
        chosen = tuple(option for option, _, _ in found if any(_squashed(option) in text for text in texts))
        if 0 < len(chosen) < len(found):
            apart.add(chosen)
    return apart.pop() if len(apart) == 1 else ()


def _squashed(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _bare(text: str, found: list[tuple[str, int, int]]) -> bool:
    """Only white space between the options, as the printed form has them (a typed list has 、)."""
    return all(not text[end:start].strip() for (_, _, end), (_, start, _) in pairwise(found))


def _locate(text: str, options: tuple[str, ...]) -> list[tuple[str, int, int]]:
    spots = []
    for option in options:
        start = text.find(unicodedata.normalize("NFKC", option))
        if start >= 0:
            spots.append((option, start, start + len(option)))
    return sorted(spots, key=lambda spot: spot[1])


def _marks(text: str, found: list[tuple[str, int, int]]) -> list[list[str]]:
    """The marks of each option. A mark between two options goes to the one it is written against
    ("团结引领√ 建家办事", "☐团结引领 ☑建家办事"); when its place does not say, to the side the
    sender's other marks are on, or failing that, boxes before and ticks or brackets after."""
    edges = [0, *(end for _, _, end in found)]
    starts = [start for _, start, _ in found] + [len(text)]
    gaps = [_gap_marks(text[edges[i] : starts[i]], i, len(found)) for i in range(len(found) + 1)]
    placed = [mark.side for gap in gaps for mark in gap if mark.side]
    lean = (placed.count(-1) < placed.count(1)) - (placed.count(-1) > placed.count(1))
    owned: list[list[str]] = [[] for _ in found]
    for i, gap in enumerate(gaps):
        for mark in gap:
            side = mark.side or lean or (1 if mark.loose_box else -1)
            owner = i - 1 if side < 0 else i
            if 0 <= owner < len(found):
                owned[owner].append(mark.text)
    return owned


def _gap_marks(gap: str, index: int, options: int) -> list[_Mark]:
    """The marks written between option `index - 1` and option `index`: the first if nothing but
    spaces stands between it and the option before, the last likewise with the option after."""
    matches = list(_MARK.finditer(gap))
    if not matches:
        return []
    first, last = matches[0], matches[-1]
    touches_before = index > 0 and not gap[: first.start()].strip()
    touches_after = index < options and not gap[last.end() :].strip()
    if first is last and touches_before and touches_after:
        return [_mark(first, _glued_side(gap, first))]
    marks = [_mark(first, -1)] if touches_before else []
    return marks + ([_mark(last, 1)] if touches_after and not (marks and first is last) else [])


def _mark(match: re.Match[str], side: int) -> _Mark:
    inner, loose, word = match.group("inner", "loose", "word")
    text = (inner if inner is not None else loose or word).strip().replace(" ", "")
    if word:
        side = -1
    return _Mark(text, side, bool(loose) and loose in BOXES)


def _glued_side(gap: str, match: re.Match[str]) -> int:
    """Between two options: -1 when a loose mark touches the option before it and not the one
    after, +1 the reverse; 0 when its place does not tell (brackets go by the sender's habit)."""
    if match.group("loose") is None:
        return 0
    before, after = gap[: match.start()], gap[match.end() :]
    return -1 if after and not before else 1 if before and not after else 0
