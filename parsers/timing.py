"""The 拟举办时间 cell: "第二阶段；5月28日—6月2日" and the many ways branches write it."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from parsers.numerals import date_digits
from parsers.records import Timing

_NUMERALS = {
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "两": 2,
    "Ⅰ": 1,
    "Ⅱ": 2,
    "Ⅲ": 3,
    "Ⅳ": 4,
    "Ⅴ": 5,
    "Ⅵ": 6,
    "I": 1,
    "II": 2,
    "III": 3,
    "IV": 4,
    "V": 5,
    "VI": 6,
}
_STAGE = re.compile(
    r"第\s*([一二三四五六七八九十两ⅠⅡⅢⅣⅤⅥ\d]+|I{1,3}|IV|VI?)\s*阶\s*段"
    # 二阶段, 2阶段 — but not the day of "5月28日阶段性活动".
    r"|(?<![\d年月日号A-Za-z])([一二三四五六七八九十两]|\d(?!\d)|I{1,3}|IV|VI?)\s*阶\s*段"
    # 阶段二, 阶段2 — but not the month of "阶段 5月28日".
    r"|阶\s*段\s*([一二三四五六七八九十]|\d(?![\d月./\-年日号]))"
)
_LEADING_STAGE = re.compile(r"^\s*([一二三四五六]|[1-6](?![\d月./\-年])|I{1,3}|IV|VI?)\s*(?:[;；,，、:：]|\s|$)")
_DATE = re.compile(
    r"(?:(?P<y>\d{4})\s*[年./\-]\s*)?(?P<m>\d{1,2})\s*(?:月|[./](?=\s*\d)|-(?=\s*\d{1,2}(?!\d)))"
    r"\s*(?P<d>\d{1,2})\s*[日号]?"
    r"|(?P<dd>\d{1,2})\s*[日号]"
)
_PLACEHOLDER = re.compile(r"_+")
# Hours are not dates: "5月28日 9:00-12:00" is one day.
_CLOCK = re.compile(r"\d{1,2}\s*:\s*\d{2}(?:\s*:\s*\d{2})?")
# What is left of the printed template once the blanks are removed: not something the sender wrote.
_TEMPLATE_WORDS = re.compile(r"[第阶段年月日号\s;；,，、:：—–\-~～至到.]")


def read_timing(text: str, year: int) -> Timing:
    """Stage number and date range; a date without a year is in `year`, an end without a month
    in the start's month."""
    # The printed blanks go first: senders type over them and leave some ("第_二_阶段").
    folded = _PLACEHOLDER.sub(" ", unicodedata.normalize("NFKC", text).replace("\u3000", " "))
    stage, stage_text, rest = _stage(folded)
    start, end, problem, dates_text = _dates(rest, year)
    return Timing(text, stage, stage_text, start, end, problem, dates_text)


def _stage(text: str) -> tuple[int | None, str, str]:
    match = _STAGE.search(text) or _LEADING_STAGE.search(text)
    if not match:
        return None, "", text
    token = next(group for group in match.groups() if group)
    number = int(token) if token.isdigit() else _NUMERALS.get(token.upper())
    return number, match.group(0).strip(" ;；,，、:："), text[: match.start()] + " " + text[match.end() :]


def _dates(text: str, year: int) -> tuple[dt.date | None, dt.date | None, str | None, str]:
    text = _CLOCK.sub(" ", text)
    # Shown as written ("五月二十八日"), read with its numerals as digits ("5月28日").
    shown = text.strip(" ;；,，、:：")
    matches = list(_DATE.finditer(date_digits(text)))
    if not matches:
        if not _TEMPLATE_WORDS.sub("", text):
            return None, None, "missing", ""
        return None, None, "unparsed", shown
    first = matches[0]
    if first.group("dd"):
        return None, None, "unparsed", shown
    try:
        start = _date(first, year, None)
        end = _date(matches[1], start.year, start.month) if len(matches) > 1 else start
    except ValueError:
        return None, None, "invalid", shown
    return start, end, None, shown


def _date(match: re.Match[str], year: int, month: int | None) -> dt.date:
    if match.group("dd"):
        if month is None:
            raise ValueError("a day without a month")
        return dt.date(year, month, int(match.group("dd")))
    return dt.date(int(match.group("y") or year), int(match.group("m")), int(match.group("d")))
