"""Chinese numerals where a date or a head count stands ("五月二十八日", "约一千二百人"), as digits.

Only numerals in such places are rewritten: 一 is also a word ("一项一表", "统一", "一线"), so a
numeral counts as a date or a number by what stands beside it (年/月/日/号 for dates; 人/名/余/多/
左右 after it or 约/近/共 before it for counts). Turning a numeral into a number is cn2an's work,
imported on first use (building its converters takes about 0.1 s).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

_DIGIT = "零〇一二两三四五六七八九"
_NUMERAL = f"{_DIGIT}十百千万廿卅"
# A year written digit by digit: "二〇二一年", "二零二一年", "二○二一年" (a circle typed for 〇).
_YEAR = re.compile(rf"(?<![{_NUMERAL}\d])([{_DIGIT}○OＯ]{{4}})(?=\s*年)")
# A month or a day, 1 to 39 in its well-formed spellings only, so that "统一五月" gives "五月" alone.
_SMALL = r"(?:[二三]?十[一二三四五六七八九]?|[廿卅][一二三四五六七八九]?|[一二三四五六七八九])"
_MONTH_OR_DAY = re.compile(rf"{_SMALL}(?=\s*[月日号])|(?<=月){_SMALL}|(?<=月\s){_SMALL}")
# A count: the numeral run before a word of counting or of a range's end, or after a word of estimate.
_RUN = rf"(?<![{_NUMERAL}\d.])[{_NUMERAL}]+(?![{_NUMERAL}])"
_COUNT = re.compile(
    rf"{_RUN}(?=\s*(?:人|名|位|余|多|来(?=[人名位])|左右|上下|以上|以内|至|到|[-~～—–]))"
    rf"|(?<=[约近共计逾]){_RUN}"
    rf"|(?<=[约近共计逾]\s){_RUN}"
)
# Arabic digits with Chinese units in one number: "1万2千".
_MIXED = re.compile(r"(?<![\d.])\d+[万千](?:\d+[千百]?)+(?![\d.])")
# "二三十", "两三百", "三五十": about so many; the larger figure is what the range reaches.
_ABOUT = re.compile(r"([一二两三四五六七八九])([二两三四五六七八九])(?=[十百千万])")
# No date or head count is written with more characters ("一千二百三十四万五千六百七十八" has 15).
_LONGEST = 16
_VALUES = {
    ch: n for n, chars in enumerate(("零〇", "一", "二两", "三", "四", "五", "六", "七", "八", "九")) for ch in chars
}


def date_digits(text: str) -> str:
    """`text` with the numerals of years, months and days as digits: "二〇二一年五月二十八日" → "2021年5月28日"."""
    text = _YEAR.sub(lambda m: "".join(str(_VALUES.get(ch, 0)) for ch in m.group(1)), text)
    return _MONTH_OR_DAY.sub(_as_digits, text)


def count_digits(text: str) -> str:
    """`text` with the numerals of head counts as digits: "约一千二百人" → "约1200人", "两三百人" → "300人"."""
    text = _MIXED.sub(_as_digits, text)
    return _COUNT.sub(_as_digits, text)


def numeral_value(numeral: str) -> int | None:
    """The number a Chinese numeral (or digits with Chinese units) writes, or None when it is not one:
    "一千二百" → 1200, "百" → 100, "两三百" → 300, "1万2千" → 12000, "万一" → None."""
    # cn2an knows 廿 (twenty) but not 卅 (thirty), both written in dates.
    numeral = _ABOUT.sub(_larger, numeral.strip().replace("卅", "三十"))
    if numeral in ("百", "千", "万"):
        numeral = "一" + numeral  # "百余人", "千余人", "万人": one hundred, thousand, ten thousand
    if not numeral or numeral[0] in "百千万" or len(numeral) > _LONGEST:
        return None
    try:
        value = _convert()(numeral, "smart")
    except (ValueError, KeyError, IndexError):
        # Not a numeral cn2an knows; it says so with ValueError, and with a KeyError for some ("0千11").
        return None
    return int(value) if isinstance(value, int | float) and value == int(value) else None


def _as_digits(match: re.Match[str]) -> str:
    value = numeral_value(match.group(0))
    return match.group(0) if value is None else str(value)


def _larger(match: re.Match[str]) -> str:
    low, high = (_VALUES[ch] for ch in match.groups())
    return match.group(2) if high > low else match.group(0)


@cache
def _convert() -> Callable[[str, str], Any]:
    import cn2an

    convert: Callable[[str, str], Any] = cn2an.cn2an
    return convert
