"""A document flattened to what the form reader needs: table rows and paragraphs, in reading order."""

from __future__ import annotations

from dataclasses import dataclass


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

    def styled_in(self, index: int) -> tuple[Styled, ...]:
        return self.styled[index] if index < len(self.styled) else ()


@dataclass(frozen=True)
class Paragraph:
    text: str


Block = Row | Paragraph
