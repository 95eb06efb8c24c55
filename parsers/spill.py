"""A big message read without holding it whole: its files (photos, videos, documents) are decoded to disk as
the bytes go by, and what is left (headers, text) is a small message `parse_message` reads as any other.

`reduce_message` walks the MIME structure line by line, the way the standard library's parser does (a
delimiter of any enclosing multipart ends a part), copying every line to the reduced message except the
bodies of base64 leaf parts bigger than `threshold`: photos, videos and documents alike, all but the few
the reader opens itself (`opened_in_memory`). Such a body is decoded into a file opened by the caller's
`Sink` and replaced by a short marker (`Spill.key`, base64 encoded as the part says) that `parse_message`
turns back into the file's record. The marker carries a nonce the caller draws per message, so a sender
cannot write one that matches. No IO but the sink's files: written, then sniffed for their kind."""

from __future__ import annotations

import base64
import binascii
import email.errors
import email.policy
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Protocol

from parsers.headers import HEADER_ERRORS, split_params
from parsers.package import sniff_path
from parsers.parts import MAX_DEPTH, TNEF_TYPES

THRESHOLD = 64 * 1024  # encoded bytes of a part below which it stays in the reduced message
HEAD_BYTES = 4096  # decoded bytes of a spilled part kept in memory: its kind (EXIF is read from the file)
MAX_SPILLED = 2 << 30  # decoded bytes of one message written to disk; past it a part is dropped, not kept
MAX_LINE = 1 << 20  # a "line" longer than this (binary with no newline) is handed on in pieces
MAX_HEADER_BYTES = 256 * 1024  # a part's header block; a longer one is copied as it is, never spilled
_DELIMITER_LINE = 1000  # RFC 2046: a boundary is at most 70 characters; anything longer is not one
_WHITESPACE = b" \t\r\n"
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]")
_HEADER_LINE = re.compile(rb"^(From |[\x21-\x39\x3b-\x7e]*:|[ \t])")  # the standard library's
_PACKAGES = (".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".pptx", ".odt", ".ods", ".odp")
_BREAK = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class Spill:
    """A part decoded to a file: where, how big, its SHA-256 and its first bytes. `path` is "" for a part
    dropped because the message had already spilled `MAX_SPILLED` bytes."""

    key: bytes  # what the part's payload decodes to in the reduced message
    path: str
    size: int
    sha256: str
    head: bytes = field(repr=False)
    kind: str = "unknown"  # parsers.package.sniff of the whole file

    @property
    def kept(self) -> bool:
        return bool(self.path)


class Writer(Protocol):
    def write(self, data: bytes, /) -> int: ...

    def close(self) -> None: ...


class Sink(Protocol):
    def open(self, number: int) -> tuple[str, Writer]:
        """A new file for the `number`th spilled part: its path and a stream to write it to."""
        ...


@dataclass(frozen=True)
class Reduced:
    raw: bytes
    spills: dict[bytes, Spill]


def reduce_message(
    chunks: Iterable[bytes], sink: Sink, nonce: str, threshold: int = THRESHOLD, max_spilled: int = MAX_SPILLED
) -> Reduced:
    """The message in `chunks` (its raw bytes, in pieces of any size), with its big attachments spilled."""
    reducer = _Reducer(_Lines(iter(chunks)), sink, nonce, threshold, max_spilled)
    reducer.entity((), 0)
    while (line := reducer.lines.next()) is not None:  # past the end of the top-level entity: keep it all
        reducer.out.append(line.data)
    return Reduced(b"".join(reducer.out), reducer.spills)


@dataclass(frozen=True)
class _Line:
    data: bytes
    whole: bool  # starts at the beginning of a line (not the rest of an overlong one)


class _Lines:
    """Lines with their endings (\r\n, \n or \r, as the standard library's parser splits them), one of them
    pushed back at most; or, for a body, its bytes in blocks up to the next delimiter line (`until`)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._ready: list[_Line] = []
        self._partial = b""
        self._continued = False  # _partial does not begin a line (the rest of an overlong one)
        self._back: _Line | None = None

    def next(self) -> _Line | None:
        if self._back is not None:
            line, self._back = self._back, None
            return line
        while not self._ready:
            if not self._fill():
                return None
        return self._ready.pop()

    def push_back(self, line: _Line) -> None:
        self._back = line

    def until(self, delimiters: tuple[bytes, ...]) -> Iterator[bytes]:
        """The bytes up to the next delimiter line of `delimiters` (left for `next`), in blocks: a body of
        hundreds of megabytes is searched for its end without being cut into lines."""
        while self._back is not None or self._ready:
            line = self.next()
            assert line is not None
            if _delimiter(line, delimiters):
                self.push_back(line)
                return
            yield line.data
        text, starts_line = self._partial, not self._continued
        self._partial, self._continued = b"", False
        while True:
            chunk = next(self._chunks, None)
            final = chunk is None
            text += chunk or b""
            found = _find_delimiter(text, starts_line, final, delimiters)
            if found is not None:
                if found:
                    yield text[:found]
                self._partial = text[found:]
                return
            if final:
                if text:
                    yield text
                return
            # Kept for the next round: the last line, which may be a delimiter not yet whole.
            last_break = max(text.rfind(b"\n"), text.rfind(b"\r"))
            if last_break < 0:
                if starts_line and len(text) <= _DELIMITER_LINE:
                    continue  # the start of a line, maybe of a delimiter: wait for its end
                yield text  # a run with no line break: no delimiter begins in it
                text = b""
            else:
                if last_break:
                    yield text[:last_break]
                text = text[last_break:]
            starts_line = False

    def _fill(self) -> bool:
        chunk = next(self._chunks, None)
        if chunk is None:
            if not self._partial:
                return False
            pieces = self._partial.splitlines(keepends=True)
            self._ready = [_Line(piece, index > 0 or not self._continued) for index, piece in enumerate(pieces)][::-1]
            self._partial, self._continued = b"", False
            return True
        pieces = (self._partial + chunk).splitlines(keepends=True)
        # Kept for the next chunk: a line with no ending yet, or one ending in \r that may be half a \r\n.
        last = pieces.pop() if pieces and not pieces[-1].endswith(b"\n") else b""
        lines = []
        for piece in pieces:
            lines.append(_Line(piece, not self._continued))
            self._continued = False
        if len(last) > MAX_LINE:
            lines.append(_Line(last, not self._continued))
            last, self._continued = b"", True
        self._partial = last
        self._ready = lines[::-1]
        return True


def _find_delimiter(text: bytes, starts_line: bool, final: bool, delimiters: tuple[bytes, ...]) -> int | None:
    """Where in `text` the first delimiter line begins; None if there is none, or none yet whole."""
    candidates = [0] if starts_line and text.startswith(b"--") else []
    position = 0
    while True:
        for start in candidates:
            end = _BREAK.search(text, start)
            if end is None and not final:
                return None  # a line not yet whole: decided with the next chunk
            line = text[start : end.end() if end else len(text)]
            if _delimiter(_Line(line, True), delimiters):
                return start
        # bytes.find, not a regular expression: it skips through megabytes of base64 at memchr speed.
        found = [at for at in (text.find(b"\n--", position), text.find(b"\r--", position)) if at >= 0]
        if not found:
            return None
        position = min(found) + 1
        candidates = [position]


class _Reducer:
    def __init__(self, lines: _Lines, sink: Sink, nonce: str, threshold: int, max_spilled: int) -> None:
        self.lines = lines
        self.sink = sink
        self.nonce = nonce
        self.threshold = threshold
        self.max_spilled = max_spilled
        self.out: list[bytes] = []
        self.spills: dict[bytes, Spill] = {}
        self.spilled = 0

    def entity(self, delimiters: tuple[bytes, ...], depth: int) -> _Line | None:
        """Copy (or spill) one entity, headers and body, up to the delimiter line of an enclosing multipart,
        which is returned unread (None at the end of the input). Past MAX_DEPTH it is copied as it is: the
        reader goes no deeper either."""
        headers, ended, stop = self._headers(delimiters)
        if stop is not None or not ended or depth > MAX_DEPTH:
            return stop if stop is not None else self.copy_until(delimiters)
        content_type, boundary, encoding, name = _describe(headers)
        if content_type.startswith("multipart/") and boundary:
            return self._multipart(delimiters, b"--" + boundary.encode("latin-1", "replace"), depth)
        if content_type.startswith("message/") and content_type != "message/delivery-status":
            return self.entity(delimiters, depth + 1)  # a message inside, as the standard library reads it
        if encoding == "base64" and not content_type.startswith(("text/", "message/", "multipart/")):
            return self._leaf(delimiters, content_type, name)
        return self.copy_until(delimiters)

    def copy_until(self, delimiters: tuple[bytes, ...]) -> _Line | None:
        self.out.extend(self.lines.until(delimiters))
        return self.lines.next()

    def _headers(self, delimiters: tuple[bytes, ...]) -> tuple[bytes, bool, _Line | None]:
        """The header block, copied: (its bytes, whether it ended in a blank line after lines that all look
        like headers, the delimiter that cut it short)."""
        block: list[bytes] = []
        size = 0
        while (line := self.lines.next()) is not None:
            if _delimiter(line, delimiters):
                return b"".join(block), False, line
            self.out.append(line.data)
            if line.data in (b"\r\n", b"\n", b"\r"):
                return b"".join(block), True, None
            size += len(line.data)
            if not line.whole or size > MAX_HEADER_BYTES or not _HEADER_LINE.match(line.data):
                return b"".join(block), False, None
            block.append(line.data)
        return b"".join(block), False, None

    def _multipart(self, delimiters: tuple[bytes, ...], own: bytes, depth: int) -> _Line | None:
        inner = (*delimiters, own)
        line = self.copy_until(inner)  # the preamble
        while line is not None and _delimiter(line, (own,)) == "part":
            self.out.append(line.data)
            line = self.entity(inner, depth + 1)
        if line is not None and _delimiter(line, (own,)) == "end":
            self.out.append(line.data)
            return self.copy_until(delimiters)  # the epilogue
        return line  # an enclosing delimiter, or the end of the input

    def _leaf(self, delimiters: tuple[bytes, ...], content_type: str, name: str) -> _Line | None:
        buffered: list[bytes] = []
        size = 0
        while size <= self.threshold:
            line = self.lines.next()
            if line is None or _delimiter(line, delimiters):
                self.out.extend(buffered)
                return line
            buffered.append(line.data)
            size += len(line.data)
        decoder = _Base64()
        first = decoder.feed(b"".join(buffered))
        if opened_in_memory(content_type, name, first):
            self.out.extend(buffered)
            return self.copy_until(delimiters)
        return self._spill(delimiters, decoder, first, buffered[-1], name)

    def _spill(
        self, delimiters: tuple[bytes, ...], decoder: _Base64, first: bytes, last: bytes, name: str
    ) -> _Line | None:
        number = len(self.spills) + 1
        key = f"\0subbot-spill\0{self.nonce}\0{number}\0".encode("ascii")
        digest, head, size = hashlib.sha256(), bytearray(), 0
        path, out = self.sink.open(number) if self.spilled < self.max_spilled else ("", None)

        def take(data: bytes) -> None:
            nonlocal size
            digest.update(data)
            size += len(data)
            if len(head) < HEAD_BYTES:
                head.extend(data[: HEAD_BYTES - len(head)])
            if out is not None:
                out.write(data)

        try:
            take(first)
            for block in self.lines.until(delimiters):
                take(decoder.feed(block))
                last = block
            take(decoder.close())
        finally:
            if out is not None:
                out.close()
        line = self.lines.next()
        self.spilled += size
        kind = sniff_path(Path(path), name) if path else "unknown"
        self.spills[key] = Spill(key, path, size, digest.hexdigest(), bytes(head), kind)
        ending = b"\r\n" if last.endswith(b"\r\n") else b"\n"
        self.out.append(base64.b64encode(key) + ending)
        return line


class _Base64:
    """Base64 decoded as it comes, whitespace and stray characters skipped as the standard library does."""

    def __init__(self) -> None:
        self._carry = b""

    def feed(self, data: bytes) -> bytes:
        text = self._carry + data.translate(None, _WHITESPACE)
        whole = len(text) // 4 * 4
        try:
            decoded = binascii.a2b_base64(text[:whole], strict_mode=True)  # the usual case, at C speed
        except binascii.Error:
            text = _NOT_BASE64.sub(b"", text)
            whole = len(text) // 4 * 4
            decoded = _decode(text[:whole])
        self._carry = text[whole:]
        return decoded

    def close(self) -> bytes:
        rest, self._carry = self._carry, b""
        return _decode(rest + b"=" * (-len(rest) % 4)) if rest.strip(b"=") else b""


def _decode(text: bytes) -> bytes:
    try:
        return binascii.a2b_base64(text)
    except binascii.Error:
        return b""


def opened_in_memory(content_type: str, name: str, head: bytes) -> bool:
    """Parts the message's reader opens itself, so they stay in the message: Outlook's winmail.dat, an
    attached .eml, and a zip archive (unpacked for the files in it; an Office or OpenDocument file is a zip
    too, but is read as the document it is, from its file)."""
    lower = name.lower()
    if content_type in TNEF_TYPES or lower == "winmail.dat" or lower.endswith(".eml"):
        return True
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06")) and not lower.endswith(_PACKAGES)


def _delimiter(line: _Line, delimiters: tuple[bytes, ...]) -> str:
    """ "part" or "end" when `line` is a delimiter (or close delimiter) of one of `delimiters`, else ""."""
    data = line.data
    if not line.whole or not data.startswith(b"--") or len(data) > _DELIMITER_LINE:
        return ""
    text = data.rstrip(b"\r\n").rstrip(b" \t")
    for delimiter in delimiters:
        if text == delimiter:
            return "part"
        if text == delimiter + b"--":
            return "end"
    return ""


def _describe(block: bytes) -> tuple[str, str | None, str, str]:
    """(content type, boundary, transfer encoding, file name) of a part's header block, the content type and
    boundary as the standard library's parser takes them."""
    try:
        headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(block)
        boundary = headers.get_boundary()
        content_type = headers.get_content_type()
        encoding = str(headers.get("content-transfer-encoding", "")).strip().lower()
        _, type_params = split_params(str(headers.get("content-type", "")))
        _, disposition = split_params(str(headers.get("content-disposition", "")))
    except (*HEADER_ERRORS, email.errors.MessageError):
        return "", None, "", ""
    return content_type, boundary, encoding, disposition.get("filename") or type_params.get("name") or ""
