"""A document flattened to what the form reader needs: table rows and paragraphs, in reading order."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Styled:
    """A stretch of a cell's text set apart by how it looks, the way some senders mark their choice
    instead of ticking it: `how` is "bold", "highlight", "shading" or "colour"."""

    how: str
    text: str


@dataclass(frozen=True)
class Row:
    """One table row's cells, left to right; a merged cell appears once, a continued one as ''.
    `styled` holds each cell's set-apart text, beside `cells` (empty when the reader has none: PDF)."""

    cells: tuple[str, ...]
    table: int
    styled: tuple[tuple[Styled, ...], ...] = ()
    # Where the row stands among the document's blocks (-1 when unknown), so that a writer can point
    # back at what was read (parsers/annotate.py); not part of what the row says.
    at: int = field(default=-1, compare=False)

    def styled_in(self, index: int) -> tuple[Styled, ...]:
        return self.styled[index] if index < len(self.styled) else ()


@dataclass(frozen=True)
class Paragraph:
    text: str
    at: int = field(default=-1, compare=False)


Block = Row | Paragraph
