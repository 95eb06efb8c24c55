"""Reading an annotated form back, for the tests: each comment with the cell or paragraph it sits on (its
label, text, fill, table), and LibreOffice's PDF of it with the comments exported as notes."""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import pdfplumber
from docx.oxml.ns import qn
from pdfminer.pdftypes import resolve1
from pdfminer.utils import decode_text

from bot.forms.convert import soffice_path
from parsers.records import FormLayout
from parsers.text import label_key

_INLINE = re.compile(r"^([^:：]{1,12})[:：]")


@dataclass(frozen=True)
class Anchor:
    """A comment read back: its text, and the cell (its label key, text, fill, table) or the
    paragraph it is anchored on."""

    message: str
    author: str
    label: str | None
    label_text: str
    text: str
    fill: str | None
    table: int | None


def anchors(data: bytes, layout: FormLayout) -> list[Anchor]:
    document = docx.Document(io.BytesIO(data))
    comments = {comment.comment_id: comment for comment in document.comments}
    body = document.element.body
    tables = list(body.iter(qn("w:tbl")))
    labels = {label_key(name): key for key, names in layout.labels.items() for name in names}
    found = []
    for start in body.iter(qn("w:commentRangeStart")):
        comment = comments[int(start.get(qn("w:id")))]
        cell = next(start.iterancestors(qn("w:tc")), None)
        if cell is None:
            paragraph = next(start.iterancestors(qn("w:p")))
            found.append(Anchor(comment.text, comment.author, None, "", _text(paragraph), _fill(paragraph), None))
            continue
        row = list(cell.getparent().iter(qn("w:tc")))
        label, label_text = _label_left_of(row, row.index(cell), labels)
        table = tables.index(next(cell.iterancestors(qn("w:tbl"))))
        found.append(Anchor(comment.text, comment.author, label, label_text, _text(cell), _fill(cell), table))
    assert len(found) == len(comments), "every comment is anchored once"
    return found


def _label_left_of(row: list[Any], index: int, labels: dict[str, str]) -> tuple[str | None, str]:
    for cell in reversed(row[: index + 1]):
        text = _text(cell)
        inline = _INLINE.match(text.strip())
        for candidate in (text, inline.group(1) if inline else ""):
            if key := labels.get(label_key(candidate)):
                return key, text
    return None, ""


def _text(element: Any) -> str:
    paragraphs = [element] if element.tag == qn("w:p") else list(element.iter(qn("w:p")))
    return "\n".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in paragraphs)


def _fill(element: Any) -> str | None:
    shading = element.find(f"{qn('w:tcPr')}/{qn('w:shd')}")
    if shading is None:
        shading = element.find(f"{qn('w:pPr')}/{qn('w:shd')}")
    return None if shading is None else str(shading.get(qn("w:fill")))


def by_message(found: list[Anchor]) -> dict[str, Anchor]:
    return {anchor.message: anchor for anchor in found}


def pdf_notes(path: Path) -> list[str]:
    notes = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            for annot in resolve1(page.page_obj.attrs.get("Annots")) or []:
                annot = resolve1(annot)
                if resolve1(annot.get("Subtype")).name == "Text":
                    notes.append(decode_text(resolve1(annot["Contents"])))
    return notes


def pdfs_with_notes(paths: list[Path], folder: Path) -> Path:
    """Each .docx converted by LibreOffice to a PDF with its comments as notes, in `folder`/pdf."""
    soffice = soffice_path()
    assert soffice, "LibreOffice (soffice) is needed; run `make system-deps`"
    out = folder / "pdf"
    command = [soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--norestore"]
    command += ["--convert-to", 'pdf:writer_pdf_Export:{"ExportNotes":{"type":"boolean","value":"true"}}']
    subprocess.run([*command, "--outdir", str(out), *map(str, paths)], capture_output=True, timeout=300, check=True)
    return out
