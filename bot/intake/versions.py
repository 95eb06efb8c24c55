"""Which of a branch's earlier activities each activity of a resent form continues. The receipt asks for the whole
file each time, so a resent form's activities are the branch's activities from then on: one that matches an
earlier one (by title, or, renamed, by its dates, venue and modules) is that activity in a new version, and an
earlier one that nothing matches is withdrawn. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from bot.summary.match import fold
from bot.summary.records import Planned
from parsers.records import Activity

# How much each resemblance weighs; two activities are one when they score at least MATCH.
TITLE, DATES, VENUE, MODULES = 0.55, 0.2, 0.15, 0.1
MATCH = 0.5
# A title this alike is the same activity whatever else changed (a date moved, a venue spelled out).
SAME_TITLE = 0.8


@dataclass(frozen=True)
class Continuation:
    """For each new activity (in reading order), the earlier one it continues, or None for a new activity; and
    the earlier ones no new activity continues."""

    continues: tuple[Planned | None, ...]
    withdrawn: tuple[Planned, ...]


def continue_versions(earlier: Sequence[Planned], new: Sequence[Activity]) -> Continuation:
    scores = sorted(
        ((_score(before, after), i, j) for i, before in enumerate(earlier) for j, after in enumerate(new)),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    taken: dict[int, int] = {}  # new activity -> earlier activity
    used: set[int] = set()
    for score, i, j in scores:
        if score < MATCH or i in used or j in taken:
            continue
        taken[j] = i
        used.add(i)
    continues = tuple(earlier[taken[j]] if j in taken else None for j in range(len(new)))
    return Continuation(continues, tuple(before for i, before in enumerate(earlier) if i not in used))


def _score(before: Planned, after: Activity) -> float:
    title = _alike(before.title, after.title)
    if title >= SAME_TITLE:
        return 1.0
    timing = after.timing
    return (
        TITLE * title
        + DATES * _dates(before.start, before.end, timing.start, timing.end)
        + VENUE * _alike(before.venue, after.venue)
        + MODULES * (1.0 if before.modules and set(before.modules) == set(after.modules.selected) else 0.0)
    )


def _alike(a: str, b: str) -> float:
    a, b = fold(a), fold(b)
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _dates(start: dt.date | None, end: dt.date | None, new_start: dt.date | None, new_end: dt.date | None) -> float:
    if start is None or new_start is None:
        return 0.0
    if (start, end or start) == (new_start, new_end or new_start):
        return 1.0
    overlaps = start <= (new_end or new_start) and new_start <= (end or start)
    return 0.5 if overlaps else 0.0
