"""How many people an activity expects: "约200人", "1.5万人次", "约一千二百人", "100-150人"."""

from __future__ import annotations

import re
import unicodedata

from parsers.numerals import count_digits, numeral_value

_ARABIC = re.compile(r"(\d+(?:\.\d+)?)\s*(万|千|百)?")
_CHINESE = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
_LONGEST = 16
_SCALES = {"万": 10_000, "千": 1_000, "百": 100, "": 1}


def read_people(text: str) -> int | None:
    """The largest head count written in `text` (a range's upper end), or None when there is none."""
    folded = count_digits(unicodedata.normalize("NFKC", text).replace(",", ""))
    # A run of digits longer than any head count (a pasted ID, a hostile cell) is no count: as a float it
    # can be infinite, which round() refuses.
    counts = [round(float(num) * _SCALES[unit]) for num, unit in _ARABIC.findall(folded) if len(num) <= _LONGEST]
    if not counts:
        # A numeral with no word of counting beside it ("二百"): the only number the cell has.
        counts = [n for n in (numeral_value(m) for m in _CHINESE.findall(folded)) if n]
    return max(counts) if counts else None
