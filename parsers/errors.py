"""Exceptions the readers raise inside this package; `read_plan` turns them into `Unreadable` data."""

from __future__ import annotations

import struct
import zlib

# What third-party parsers raise on malformed input beyond their own exception types: they index,
# unpack and inflate what a file claims without checking it first.
LIBRARY_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    AssertionError,
    ArithmeticError,
    RecursionError,
    EOFError,
    struct.error,
    zlib.error,
)


class UnreadableDocument(Exception):
    """A file that cannot be read as a document: carries a code and a message for the sender."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        self.code = code
        self.message = message
        self.detail = detail
        super().__init__(f"{code}: {detail or message}")


class NeedsConversion(Exception):
    """A legacy format (.doc, .wps, .odt) that must be converted to .docx before reading."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(kind)
