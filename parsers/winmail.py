"""Outlook's winmail.dat (application/ms-tnef): the files and text it carries, read with tnefparse.

tnefparse trusts the counts written in the file: a 100-byte blob claiming four billion MAPI
properties keeps it busy for hours. `_bounded` walks the same structure first, only to check that
every count fits in the bytes that follow, and refuses the blob otherwise."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from tnefparse import TNEF

from parsers.charsets import codec_name, decode_bytes

_SIGNATURE = b"\x78\x9f\x3e\x22"
_EMBEDDED = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46" + _SIGNATURE
_ATTACH_START = 0x9002  # attAttachRendData opens each attachment
_ATTACH_TITLE = 0x8010
_MAPI_BLOCKS = (0x9003, 0x9005)  # attMAPIProps, attAttachment
_RECIPIENTS = 0x9004
_MAX_OBJECTS = 20_000
_MAX_EMBEDDED = 20
# Sizes of fixed-size MAPI values; variable ones (strings, binary, objects) carry their lengths.
_FIXED = {0x0002: 2, 0x000B: 2, 0x0003: 4, 0x0004: 4, 0x000A: 4, 0x0048: 16}
_FIXED.update(dict.fromkeys((0x0005, 0x0006, 0x0007, 0x0014, 0x0040), 8))
_VARIABLE = frozenset({0x0000, 0x000D, 0x001E, 0x001F, 0x0102})
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")


class UnreadableWinmail(Exception):
    """A winmail.dat that could not be read; carries why, for the log."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Winmail:
    files: tuple[tuple[str, bytes], ...]  # (name as written, data)
    body: str


def unpack_winmail(data: bytes) -> Winmail:
    """The attachments and body text inside a TNEF blob; raises UnreadableWinmail."""
    if not data.startswith(_SIGNATURE):
        raise UnreadableWinmail("no TNEF signature")
    if not all(_bounded(data[at + 16 :]) for at in _embedded_offsets(data)) or not _bounded(data):
        raise UnreadableWinmail("counts larger than the data")
    try:
        tnef = TNEF(data, do_checksum=False)
        titles = _titles(tnef)
        codepage = codec_name(tnef.codepage)
        files = tuple((_name(a, titles, i, codepage), bytes(a.data)) for i, a in enumerate(tnef.attachments))
        body = _text(tnef.body, codepage) or _text(tnef.htmlbody, codepage)
    # tnefparse is not hardened against hostile input and raises whatever its arithmetic meets
    # (struct.error, IndexError, NameError, AssertionError...): all of it means "unreadable".
    except Exception as exc:
        raise UnreadableWinmail(repr(exc)) from exc
    return Winmail(files, body)


def _name(attachment: Any, titles: list[bytes], index: int, codepage: str | None) -> str:
    try:
        name = attachment.long_filename()
    except UnicodeError:  # tnefparse decodes the 8.3 title as UTF-8; Chinese Outlook writes GBK
        name = ""
    if isinstance(name, bytes):
        name = decode_bytes(name.rstrip(b"\x00"), codepage)
    if not name and index < len(titles):
        name = decode_bytes(titles[index].rstrip(b"\x00"), codepage)
    return str(name).strip("\x00")


def _titles(tnef: TNEF) -> list[bytes]:
    titles: list[bytes] = []
    for obj in tnef.objects:
        if obj.name == _ATTACH_START:
            titles.append(b"")
        elif obj.name == _ATTACH_TITLE and obj.level == 2 and titles and isinstance(obj.data, bytes):
            titles[-1] = obj.data
    return titles


def _text(body: object, codepage: str | None) -> str:
    if isinstance(body, bytes):
        return decode_bytes(body.rstrip(b"\x00"), codepage)
    return body if isinstance(body, str) else ""


def _embedded_offsets(data: bytes) -> list[int]:
    offsets: list[int] = []
    at = data.find(_EMBEDDED)
    while at >= 0 and len(offsets) <= _MAX_EMBEDDED:
        offsets.append(at)
        at = data.find(_EMBEDDED, at + 1)
    if len(offsets) > _MAX_EMBEDDED:
        raise UnreadableWinmail("too many embedded messages")
    return offsets


def _bounded(data: bytes) -> bool:
    """Whether every object and count in the blob fits the bytes that follow it."""
    offset, objects = 6, 0
    while offset + 12 < len(data):
        objects += 1
        if objects > _MAX_OBJECTS:
            return False
        name = _U16.unpack_from(data, offset + 1)[0]
        length = min(_U32.unpack_from(data, offset + 5)[0], len(data) - offset - 11)
        body = data[offset + 9 : offset + 9 + length]
        if name in _MAPI_BLOCKS and _mapi_end(body, 0) is None:
            return False
        if name == _RECIPIENTS and not _recipients_bounded(body):
            return False
        offset += length + 11
    return True


def _recipients_bounded(body: bytes) -> bool:
    try:
        rows = _U32.unpack_from(body, 0)[0]
    except struct.error:
        return True
    offset: int | None = 4
    for _ in range(min(rows, len(body) // 4 + 1)):
        if offset is None or offset + 4 > len(body):
            return offset is not None  # tnefparse stops here with an error we catch
        offset = _mapi_end(body, offset)
    return offset is not None


def _mapi_end(block: bytes, start: int) -> int | None:
    """Where a MAPI property list ends, or None when a count claims more than the block holds."""
    try:
        count = _U32.unpack_from(block, start)[0]
        offset = start + 4
        if count > (len(block) - offset) // 4 + 1:
            return None
        for _ in range(count):
            if offset >= len(block):
                break
            ptype, pid = _U16.unpack_from(block, offset)[0], _U16.unpack_from(block, offset + 2)[0]
            offset = _skip_name(block, offset + 4) if pid >= 0x8000 else offset + 4
            values, multi = 1, bool(ptype & 0x1000)
            if multi:
                ptype ^= 0x1000
                values = _U32.unpack_from(block, offset)[0]
                offset += 4
                if values * max(_FIXED.get(ptype, 4), 1) > len(block) - offset + 8:
                    return None
            for _ in range(values):
                after = _skip_value(block, offset, ptype, multi)
                if after is None:
                    return None
                offset = after
            if values % 2 and ptype in (0x0002, 0x000B):
                offset += 2
    except (struct.error, ValueError):
        return len(block)  # tnefparse stops at the same place, with an error it logs
    return offset


def _skip_name(block: bytes, offset: int) -> int:
    offset += 16  # property set GUID
    kind: int = _U32.unpack_from(block, offset)[0]
    if kind == 0:
        return offset + 8
    size: int = _U32.unpack_from(block, offset + 4)[0]
    return offset + 8 + size + (-size % 4)


def _skip_value(block: bytes, offset: int, ptype: int, multi: bool) -> int | None:
    if ptype in _FIXED:
        return offset + _FIXED[ptype]
    if ptype not in _VARIABLE:
        raise ValueError(f"unknown MAPI type {ptype:#06x}")
    items = 1
    if not multi:
        items = _U32.unpack_from(block, offset)[0]
        offset += 4
        if items > (len(block) - offset) // 4 + 1:
            return None
    for _ in range(items):
        size = _U32.unpack_from(block, offset)[0]
        offset += 4 + size + (-size % 4)
    return offset
