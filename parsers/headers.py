"""Header values as the sender meant them: encoded words, RFC 2231 parameters, raw 8-bit bytes.

The values come raw from `Message.raw_items()`: the standard parser keeps a header's bytes as
surrogate escapes, and we decode each value once here, with the charset rules in `charsets`,
instead of letting `email.policy.default` decode GB2312 labels with the narrow GB2312 codec."""

from __future__ import annotations

import binascii
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from email.message import Message
from email.utils import decode_params, getaddresses, parsedate_to_datetime
from email.utils import unquote as unquote_param

from parsers.charsets import decode_bytes, decode_raw_header

# Python's header parsers are not meant for hostile input; these are what they raise on it.
HEADER_ERRORS = (ValueError, TypeError, IndexError, KeyError, AttributeError, LookupError, OverflowError)

# The charset may carry an RFC 2231 language (=?utf-8*zh?B?...?=).
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,60})\?([bBqQ])\?([^?]*)\?=")
_MSG_ID = re.compile(r"<[^<>\s]{1,500}>")
_SPACES = re.compile(r"\s+")
_FOLD = re.compile(r"\r?\n|\r")
_MAX_VALUE = 100_000
_Param = str | tuple[str | None, str | None, str]  # what email.utils.decode_params gives
_CONTROLS = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class Headers:
    """A message's raw header values by lower-cased name, in the order they came."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            key = name.strip().lower()
            self._values.setdefault(key, []).append(_FOLD.sub("", str(value))[:_MAX_VALUE])

    @classmethod
    def of(cls, message: Message) -> Headers:
        return cls(message.raw_items())

    def raw(self, name: str) -> str:
        """The first value, still encoded; '' when absent."""
        values = self._values.get(name.lower())
        return values[0] if values else ""

    def all_raw(self, name: str) -> list[str]:
        return list(self._values.get(name.lower(), ()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values


def decode_value(raw: str, hint: str | None = None) -> str:
    """A header value as one clean line: encoded words and raw 8-bit bytes decoded, control
    characters (CR, LF, NUL...) turned into spaces so nothing decoded can start a new header."""
    return clean_line(decode_words(raw, hint))


def decode_words(raw: str, hint: str | None = None) -> str:
    """RFC 2047 encoded words decoded, also where RFC 2047 forbids them (inside quotes).

    Adjacent words in one charset are joined as bytes before decoding: some mailers split a long
    GBK subject in the middle of a character."""
    pieces: list[str] = []
    pending = bytearray()
    pending_charset: str | None = None  # set once a word was decoded: the last token was a word
    position = 0
    for match in _ENCODED_WORD.finditer(raw):
        decoded = _word_bytes(match.group(2), match.group(3))
        if decoded is None:  # not really an encoded word: it stays in the text around it
            continue
        between = raw[position : match.start()]
        charset = match.group(1).split("*", 1)[0].lower()
        if pending_charset is not None and (not between or between.isspace()):
            if charset != pending_charset:  # adjacent words: the space between them is not text
                _flush(pieces, pending, pending_charset)
        else:
            _flush(pieces, pending, pending_charset or "")
            pieces.append(decode_raw_text(between, hint))
        pending_charset = charset
        pending.extend(decoded)
        position = match.end()
    _flush(pieces, pending, pending_charset or "")
    pieces.append(decode_raw_text(raw[position:], hint))
    return "".join(pieces)


def _flush(pieces: list[str], pending: bytearray, charset: str) -> None:
    if pending:
        pieces.append(decode_bytes(bytes(pending), charset))
        pending.clear()


def _word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        data = text.encode("ascii")
        if encoding in "bB":
            return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
        return binascii.a2b_qp(data, header=True)
    except (binascii.Error, UnicodeError, ValueError):
        return None


def decode_raw_text(text: str, hint: str | None = None) -> str:
    """Text that may hold raw 8-bit bytes (as surrogate escapes): UTF-8, else legacy Chinese."""
    if text.isascii():
        return text
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that never was a byte (text from elsewhere than a parser)
        data = text.encode("utf-8", "replace")
    return decode_raw_header(data, hint)


def clean_line(text: str) -> str:
    """One line: control and format characters become spaces, runs of space collapse."""
    return _SPACES.sub(" ", strip_controls(text)).strip()


def strip_controls(text: str) -> str:
    """Control characters (C0, C1, bidi overrides, zero-width) replaced by spaces."""
    return "".join(" " if unicodedata.category(ch) in _CONTROLS else ch for ch in text)


def split_params(raw: str) -> tuple[str, dict[str, str]]:
    """A structured header (Content-Type, Content-Disposition) as its lower-cased value and its
    parameters, each decoded: RFC 2231 (with continuations), encoded words, or raw 8-bit bytes."""
    pieces = _split_semicolons(raw)
    value = clean_line(decode_raw_text(pieces[0])).lower()
    pairs = [("", "")]
    for piece in pieces[1:]:
        name, equals, param = piece.partition("=")
        if equals and name.strip():
            pairs.append((name.strip().lower(), param.strip()))
    params: dict[str, str] = {}
    decoded: list[tuple[str, _Param]]
    try:
        decoded = decode_params(pairs)[1:]
    except HEADER_ERRORS:
        decoded = [(name, f'"{param}"') for name, param in pairs[1:]]
    for key, found in decoded:
        text = _rfc2231_text(found) if isinstance(found, tuple) else decode_words(unquote_param(found))
        if key not in params or isinstance(found, tuple):  # RFC 2231 form wins over a plain copy
            params[key] = text
    return value, params


def _rfc2231_text(param: tuple[str | None, str | None, str]) -> str:  # (charset, language, octets)
    charset, _language, text = param
    try:
        data = unquote_param(text).encode("latin-1", "surrogateescape")
    except UnicodeError:  # not octets: a caller gave text that never came from bytes
        return decode_words(unquote_param(text))
    return decode_bytes(data, charset)


def _split_semicolons(raw: str) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in raw:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current))
    return pieces


def parse_addresses(raw: str, hint: str | None = None) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs, parsed before decoding so that a decoded comma
    in a name cannot split it."""
    try:
        found = getaddresses([raw])
    except HEADER_ERRORS:
        found = []
    pairs = []
    for name, address in found:
        address = clean_line(decode_raw_text(address, hint)).lower().replace(" ", "")
        if address:
            pairs.append((decode_value(name, hint), address))
    return pairs


def parse_msg_ids(raw: str) -> tuple[str, ...]:
    """Message-IDs in angle brackets; a bare token when a mailer left the brackets off."""
    text = clean_line(decode_raw_text(raw))
    ids = _MSG_ID.findall(text)
    if ids:
        return tuple(dict.fromkeys(ids))
    bare = text.split()
    return tuple(dict.fromkeys(bare[:1]))


def parse_date(raw: str) -> dt.datetime | None:
    """The Date header as an aware datetime (UTC when the header gives no zone); None if unreadable."""
    if not raw.strip():
        return None
    try:
        date = parsedate_to_datetime(clean_line(decode_raw_text(raw)))
    except HEADER_ERRORS:
        return None
    if date.tzinfo is None:
        date = date.replace(tzinfo=dt.UTC)
    return date
