"""Which of a branch's accepted activities a summary reports: those whose title it repeats, or all of them.

How a summary is matched to activities: the branch's accepted activities whose title the subject, body,
file names or the summary's text mention; if none is named, all of the branch's accepted activities
(a branch often writes one summary of its day), with a warning when that is more than one; if the
branch has no accepted activity, none, and the summary is flagged for staff."""

from __future__ import annotations

import unicodedata
from difflib import SequenceMatcher

from bot.summary.records import MatchedBy, Planned

MIN_TITLE_MATCH = 6  # characters of a title a summary must repeat when it does not repeat all of it


def match_activities(texts: list[str], planned: tuple[Planned, ...]) -> tuple[tuple[Planned, ...], MatchedBy]:
    text = fold("\n".join(texts))
    named = tuple(p for p in planned if mentions(text, fold(p.title)))
    if named:
        return named, "title"
    if len(planned) == 1:
        return planned, "only"
    return planned, "all" if planned else ""


def mentions(text: str, title: str) -> bool:
    """The title appears whole, or a long enough run of it does ("地质科普进校园" for "2021年地质科普进校园活动")."""
    if len(title) < 4:
        return False  # "座谈会" alone names nothing
    if title in text:
        return True
    match = SequenceMatcher(None, title, text, autojunk=False).find_longest_match(0, len(title), 0, len(text))
    return match.size >= max(MIN_TITLE_MATCH, round(len(title) * 0.6))


def fold(text: str) -> str:
    """Letters and digits only, NFKC, lower case: what two spellings of one title share."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


