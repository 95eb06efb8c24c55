"""Names in the exported tree that every file system takes: Windows (no reserved names or characters, no trailing
dot, names unique whatever their case, paths kept well under 260 characters) and Linux (at most 255 bytes a
name), readable by staff: a photo is named by when it was taken and what the sender called it. Pure."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from parsers.names import safe_name

# Characters a name may have, and bytes (ext4 allows 255; one CJK character is three).
BRANCH_CHARS = 60
ACTIVITY_CHARS = 60
FILE_CHARS = 80
MAX_BYTES = 240
# DOS device names: reserved on Windows with any extension, in any case.
RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))})
# Endings that name the same kind of file as the ending the store chose from its content.
SAME_ENDINGS = {
    ".jpg": frozenset({".jpg", ".jpeg", ".jpe", ".jfif"}),
    ".tif": frozenset({".tif", ".tiff"}),
    ".mpg": frozenset({".mpg", ".mpeg"}),
    ".heic": frozenset({".heic", ".heif"}),
    ".mov": frozenset({".mov", ".qt"}),
}
_SLASHES = re.compile(r"[\\/]")
ELLIPSIS = "…"


def folder_name(text: str, limit: int, fallback: str) -> str:
    """A branch's or an activity's name as one folder: slashes and what Windows refuses replaced, cut to `limit`
    characters (with … where it was cut)."""
    return fit(safe_name(_SLASHES.sub("_", text)) or fallback, limit)


def file_name(original: str, stored: str, when: str, fallback: str) -> str:
    """`when` and the sender's name for the file, ending as its content says: '2021-05-28 09.30.05 IMG_0001.jpg';
    a photo sent as 活动.docx becomes '… 活动.docx.jpg'. `stored` is the store's ending (".bin" when unknown)."""
    name = safe_name(original) or fallback
    ending = _split(name)[1].lower()
    if stored != ".bin" and ending not in SAME_ENDINGS.get(stored, frozenset({stored})):
        name += stored
    return fit(f"{when} {name}" if when else name, FILE_CHARS)


def when_taken(taken: dt.datetime | None, arrived: dt.date) -> str:
    """The camera's time to the second, or the day the mail came (a day only: it is not when it was taken)."""
    return f"{taken:%Y-%m-%d %H.%M.%S}" if taken else f"{arrived:%Y-%m-%d}"


def fit(name: str, limit: int) -> str:
    """`name` (NFC) within `limit` characters and MAX_BYTES of UTF-8, cut in the middle (titles that differ only
    at the end, 第1场 and 第2场, stay apart) with … there and its ending kept; never a name Windows reserves."""
    name = unicodedata.normalize("NFC", name)
    if len(name) > limit or len(name.encode()) > MAX_BYTES:
        stem, ending = _split(name)
        room = max(2, limit - len(ending) - 1)
        head, tail = room - room // 3, room // 3
        while len((stem[:head] + ELLIPSIS + stem[len(stem) - tail :] + ending).encode()) > MAX_BYTES and head > 1:
            head, tail = (head - 1, tail) if head > 2 * tail else (head, max(0, tail - 1))
        name = stem[:head].rstrip(" .") + ELLIPSIS + stem[len(stem) - tail :].lstrip(" ") + ending
    if name.partition(".")[0].strip().casefold() in RESERVED:
        name = "_" + name
    return name


def unique(name: str, taken: set[str], limit: int) -> str:
    """`name`, or with ' (2)', ' (3)'… before its ending when a name equal but for case is taken (Windows and
    macOS do not tell them apart); the one returned is added to `taken` (which holds casefolded names)."""
    candidate = name
    stem, ending = _split(name)
    number = 2
    while candidate.casefold() in taken:
        tail = f" ({number}){ending}"
        candidate = _cut(stem, tail, limit) + tail
        number += 1
    taken.add(candidate.casefold())
    return candidate


def _cut(stem: str, tail: str, limit: int) -> str:
    """The longest start of `stem` that, with `tail` after it, fits `limit` characters and MAX_BYTES."""
    room = max(1, limit - len(tail))
    stem = stem[:room]
    while len((stem + tail).encode()) > MAX_BYTES and len(stem) > 1:
        stem = stem[:-1]
    return stem.rstrip(" .") or stem


def _split(name: str) -> tuple[str, str]:
    """(stem, ending): 'IMG.JPG' -> ('IMG', '.JPG'); no ending when there is no stem or it is long or spaced."""
    stem, dot, ending = name.rpartition(".")
    if dot and stem and len(ending) <= 10 and " " not in ending:
        return stem, f".{ending}"
    return name, ""
