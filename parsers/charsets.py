"""Bytes to text under the charset labels Chinese mail really carries, never failing."""

from __future__ import annotations

import codecs
import re

# Mailers label GBK text "gb2312" (names such as 喆, 堃, 玥, 昇 are outside GB2312), and Big5
# text carries Hong Kong and Microsoft extensions: decode each label as its widest superset.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "ascii": "utf-8",
}
_SURROGATE = re.compile("[\ud800-\udfff]")
# Labels Python does not know that name GB text.
_ALIASES = {
    "x-gbk": "gbk",
    "x-euc-cn": "gbk",
    "csgb2312": "gbk",
    "gb_2312-80": "gbk",
    "chinese": "gbk",
    "x-mac-chinesesimp": "gbk",
    "windows-936": "gbk",
    "ms936": "gbk",
    "x-cp936": "gbk",
}
# Labels that name no charset at all.
_NO_CHARSET = frozenset({"", "unknown-8bit", "x-unknown", "unknown", "default", "8bit", "binary"})
# Encodings whose bytes are all ASCII, or may be: ASCII bytes do not mean ASCII text.
_SEVEN_BIT = ("iso2022", "utf-7", "utf_7", "hz", "utf-16", "utf_16", "utf-32", "utf_32")
# Encodings in which a double-encoded header (legacy bytes read as Latin-1, sent as UTF-8) is repaired.
_CJK = frozenset({"gb18030", "big5hkscs", "cp949", "cp932", "euc_jp", "iso2022_jp"})


def codec_name(label: str | None) -> str | None:
    """The Python codec for a MIME charset label, widened to its superset; None if unknown."""
    if label is None:
        return None
    cleaned = label.strip().strip("\"'").lower()
    if cleaned in _NO_CHARSET or len(cleaned) > 40:
        return None
    cleaned = _ALIASES.get(cleaned, cleaned)
    try:
        name = codecs.lookup(cleaned).name
    except (LookupError, ValueError, TypeError):
        return None
    try:
        b"a".decode(name)  # refuses codecs that are not text encodings (rot13, base64, zlib)
    except LookupError:
        return None
    except (UnicodeError, ValueError):
        pass
    return _SUPERSETS.get(name, name)


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Text from bytes: UTF-8 if valid (a wrong label is commoner than text valid in both), then
    the labelled charset, then GB18030, and at worst UTF-8 with replacement characters."""
    codec = codec_name(label)
    if codec is not None and codec.startswith(_SEVEN_BIT):  # ASCII bytes that are not ASCII text
        candidates: tuple[str | None, ...] = (codec, "utf-8", "gb18030")
    elif data.isascii():
        return data.decode("ascii")
    else:
        candidates = ("utf-8", codec, "gb18030")
    for candidate in candidates:
        text = _strict(data, candidate)
        if text is not None:
            return text
    return _SURROGATE.sub("\ufffd", data.decode(codec or "utf-8", "replace"))


def decode_raw_header(data: bytes, hint: str | None = None) -> str:
    """Raw 8-bit header bytes: UTF-8, else the message's charset, else GB18030.

    A UTF-8 result made only of Latin-1 letters is legacy text that went through Latin-1 on the
    way (Big5 or GBK read as ISO-8859-1, then sent as UTF-8): it is decoded again with the hint.
    One holding U+FFFD is legacy text a server already mangled: the hint keeps what survived."""
    codec = codec_name(hint)
    text = _strict(data, "utf-8")
    if text is not None:
        repaired = None
        if codec in _CJK and _is_latin1_mojibake(text):
            repaired = _strict(text.encode("latin-1"), codec)
        elif codec in _CJK and "\ufffd" in text:
            repaired = _strict(data, codec)
        return repaired or text
    return decode_bytes(data, hint)


def _is_latin1_mojibake(text: str) -> bool:
    return all(ord(ch) < 0x100 for ch in text) and any(ord(ch) >= 0x80 for ch in text)


def _strict(data: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        text = data.decode(codec)
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None
    # UTF-7 and the escape codecs can yield lone surrogates, which no database or file will store.
    return None if _SURROGATE.search(text) else text
