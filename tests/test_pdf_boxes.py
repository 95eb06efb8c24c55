"""Check boxes in a PDF (AcroForm fields, or squares drawn with an X when ticked) read as ☒/☐ beside
their option, from small PDFs written here byte by byte; the real forms are golden fixtures
(pdf-form-fields.pdf, pdf-checkboxes.pdf)."""

from __future__ import annotations

import io

import pdfplumber
import pytest
from test_bad_files import FONT, pdf

from parsers.blocks import Paragraph
from parsers.pdf_blocks import read_pdf_blocks
from parsers.pdf_boxes import box_chars

# Three options on one line, 12 pt Helvetica at y = 700: "Alpha" from x = 100, "Beta" 200, "Gamma" 300.
LINE = b"BT /F1 12 Tf 100 700 Td (Alpha) Tj 100 0 Td (Beta) Tj 100 0 Td (Gamma) Tj ET"


def _form(annots: list[bytes], drawn: bytes = b"", extra: list[bytes] | None = None) -> bytes:
    """A one-page PDF: the line above, what is `drawn`, and the annotations (objects 5 on), then `extra` objects."""
    content = LINE + b"\n" + drawn
    refs = b" ".join(b"%d 0 R" % (5 + n) for n in range(len(annots)))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R /Resources << %s >> /Annots [%s] >>"
    return pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
            page % (FONT, refs),
            *annots,
            *(extra or []),
        ]
    )


def _box(x: int, rest: bytes) -> bytes:
    """A widget 10 pt square at x, on the line."""
    return b"<< /Type /Annot /Subtype /Widget /Rect [%d 698 %d 708] %s >>" % (x, x + 10, rest)


def _boxes(data: bytes) -> list[tuple[str, float]]:
    with pdfplumber.open(io.BytesIO(data)) as document:
        return [(char["text"], char["x0"]) for char in box_chars(document.pages[0])]


def _line(data: bytes) -> str:
    return "".join(b.text for b in read_pdf_blocks(data) if isinstance(b, Paragraph)).replace(" ", "")


def test_ticked_and_empty_check_boxes_before_their_options() -> None:
    data = _form([_box(86, b"/FT /Btn /V /Yes /AS /Yes"), _box(186, b"/FT /Btn /V /Off /AS /Off")])
    assert _boxes(data) == [("☒", 86.0), ("☐", 186.0)]
    assert _line(data) == "☒Alpha☐BetaGamma"


def test_a_box_after_its_option() -> None:
    data = _form([_box(132, b"/FT /Btn /AS /On")])
    assert _line(data) == "Alpha☒BetaGamma"


@pytest.mark.parametrize(
    ("annot", "extra", "read"),
    [
        # Any state name but /Off is ticked; with no /AS, the value says it.
        (b"/FT /Btn /AS /Choice1", [], "☒"),
        (b"/FT /Btn /V /Yes", [], "☒"),
        (b"/FT /Btn", [], "☐"),
        # Type and value inherited from the field the widget belongs to.
        (b"/Parent 6 0 R", [b"<< /FT /Btn /V /Yes /T (m1) >>"], "☒"),
        (b"/Parent 6 0 R", [b"<< /Parent 7 0 R >>", b"<< /FT /Btn /V /Off >>"], "☐"),
        # A radio button is ticked by its own state only: the group's value names the chosen button.
        (b"/Parent 6 0 R /AS /Off", [b"<< /FT /Btn /Ff 32768 /V /Choice1 >>"], "☐"),
        (b"/Parent 6 0 R /AS /Choice1", [b"<< /FT /Btn /Ff 32768 /V /Choice1 >>"], "☒"),
    ],
)
def test_field_states(annot: bytes, extra: list[bytes], read: str) -> None:
    assert _boxes(_form([_box(86, annot)], extra=extra)) == [(read, 86.0)]


@pytest.mark.parametrize(
    ("annot", "extra"),
    [
        (b"/FT /Btn /Ff 65536 /AS /Yes", []),  # a push button
        (b"/FT /Tx /V (Yes)", []),  # a text field
        (b"/Parent 6 0 R /AS /Yes", [b"<< /Parent 7 0 R >>", b"<< /Parent 6 0 R >>"]),  # parents in a loop, no type
    ],
)
def test_widgets_that_are_not_check_boxes(annot: bytes, extra: list[bytes]) -> None:
    assert _boxes(_form([_box(86, annot)], extra=extra)) == []


@pytest.mark.parametrize(
    "annot",
    [
        b"<< /Type /Annot /Subtype /Widget /FT /Btn /AS /Yes /Rect [86 600 96 610] >>",  # on no text line
        b"<< /Type /Annot /Subtype /Widget /FT /Btn /AS /Yes /Rect [10 698 20 708] >>",  # far from any text
        b"<< /Type /Annot /Subtype /Widget /FT /Btn /AS /Yes /Rect [86 698 96] >>",  # a broken Rect
        b"<< /Type /Annot /Subtype /Widget /FT /Btn /AS /Yes /Rect [86 (a) 96 708] >>",
        b"<< /Type /Annot /Subtype /Widget /FT /Btn /AS /Yes /Rect [86 600 186 708] >>",  # not box-sized
        b"<< /Type /Annot /Subtype /Link /Rect [86 698 96 708] >>",
        b"(not a dictionary)",
    ],
)
def test_annotations_that_are_no_box_beside_an_option(annot: bytes) -> None:
    data = _form([annot])
    assert _boxes(data) == []
    assert _line(data) == "AlphaBetaGamma"


def test_drawn_squares_with_and_without_a_cross() -> None:
    ticked = b"0.5 w 86 698 10 10 re S 87 699 m 95 707 l S 87 707 m 95 699 l S"
    empty = b"186 698 10 10 re S"
    underlined = b"286 698 10 10 re S 287 700 m 295 700 l S"  # a stroke inside, but not across the box
    data = _form([], drawn=b"\n".join((ticked, empty, underlined)))
    assert _line(data) == "☒Alpha☐Beta☐Gamma"


def test_a_square_round_a_character_is_not_a_box() -> None:
    boxed = b"98 697 12 12 re S"  # round the A of Alpha
    assert _boxes(_form([], drawn=boxed)) == []
