"""The text of a .docx or text PDF, in reading order: what a summary says, to find the activities it names."""

from __future__ import annotations

from parsers.blocks import Paragraph
from parsers.docx_blocks import read_docx_blocks
from parsers.errors import UnreadableDocument
from parsers.pdf_blocks import read_pdf_blocks
from parsers.plan import PARSER_FAILURES

MAX_TEXT = 200_000  # characters kept: a summary is a few pages
_FAILURES: tuple[type[Exception], ...] = (UnreadableDocument, *PARSER_FAILURES)


def read_text(data: bytes, kind: str) -> str:
    """Paragraphs and table cells, one per line; "" for kinds not read directly or files that cannot be read."""
    try:
        if kind == "docx":
            blocks = read_docx_blocks(data)
        elif kind == "pdf":
            blocks = read_pdf_blocks(data)
        else:
            return ""
    except _FAILURES:
        return ""
    lines = [block.text if isinstance(block, Paragraph) else "\t".join(block.cells) for block in blocks]
    return "\n".join(line for line in lines if line.strip())[:MAX_TEXT]
