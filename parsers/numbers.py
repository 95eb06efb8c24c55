"""How many people an activity expects: "约200人", "1.5万人次", "二百人", "100-150人"."""

from __future__ import annotations

import re
import unicodedata

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_ARABIC = re.compile(r"(\d+(?:\.\d+)?)\s*(万|千|百)?")
_CHINESE = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
_SCALES = {"万": 10_000, "千": 1_000, "百": 100, "": 1}


def read_people(text: str) -> int | None:
    """The largest head count written in `text` (a range's upper end), or None when there is none."""
    folded = unicodedata.normalize("NFKC", text).replace(",", "")
    counts = [round(float(num) * _SCALES[unit]) for num, unit in _ARABIC.findall(folded)]
    if not counts:
        counts = [n for n in (_chinese_number(m) for m in _CHINESE.findall(folded)) if n]
    return max(counts) if counts else None


def _chinese_number(text: str) -> int:
    # Small enough to write here: a library for numerals up to 万 would be a heavier dependency.
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _UNITS:
            section += (digit or 1) * _UNITS[ch]
            digit = 0
        elif ch == "万":
            total += (section + digit) * 10_000
            section, digit = 0, 0
    return total + section + digit
