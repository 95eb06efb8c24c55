"""A document flattened to what the form reader needs: table rows and paragraphs, in reading order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One table row's cells, left to right; a merged cell appears once, a continued one as ''."""

    cells: tuple[str, ...]
    table: int


@dataclass(frozen=True)
class Paragraph:
    text: str


Block = Row | Paragraph
