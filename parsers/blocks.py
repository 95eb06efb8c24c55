"""A document flattened to what the form reader needs: table rows and paragraphs, in reading order."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    """One table row's cells, left to right; a merged cell appears once, a continued one as ''."""

    cells: tuple[str, ...]
    table: int
    # Where the row stands among the document's blocks (-1 when unknown), so that a writer can point
    # back at what was read (parsers/annotate.py); not part of what the row says.
    at: int = field(default=-1, compare=False)


@dataclass(frozen=True)
class Paragraph:
    text: str
    at: int = field(default=-1, compare=False)


Block = Row | Paragraph
