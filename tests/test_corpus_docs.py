"""Every document in the corpus (tests/corpus, with their origins in its NOTICE: other people's PDFs and .docx: WPS, Google Docs, Pages,
LibreOffice, Strict OOXML, scanned, encrypted, empty) through the real `subbot check --json`: none is
our form, so none is accepted, and each gets the verdict a person would expect, with no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent / "corpus" / "docs"
EXIT_CODES = {"accepted": 0, "needs_correction": 1, "unreadable": 2}

# File name -> (verdict, the one file-level finding code).
EXPECTED: dict[str, tuple[str, str]] = {
    "01-cn-lab-report-form.pdf": ("needs_correction", "form_not_found"),
    "02-cn-standard-tables-merged.pdf": ("needs_correction", "form_not_found"),
    "03-cn-resume-duplicate-chars.pdf": ("needs_correction", "form_not_found"),
    # A scan, but with an OCR text layer: the text is there, the form is not.
    "04-cn-scanned-audit-letter-ocr.pdf": ("needs_correction", "form_not_found"),
    "05-encrypted-password-test.pdf": ("unreadable", "encrypted"),
    "06-empty-zero-bytes.pdf": ("unreadable", "empty"),
    "07-row-span-table.pdf": ("needs_correction", "form_not_found"),
    "08-column-span-table.pdf": ("needs_correction", "form_not_found"),
    "12-cn-payment-notice-wps.docx": ("needs_correction", "form_not_found"),
    "13-cn-resume-layout-wps.docx": ("needs_correction", "form_not_found"),
    "14-merged-cells-word.docx": ("needs_correction", "form_not_found"),
    "15-form-checkboxes.docx": ("needs_correction", "form_not_found"),
    "16-dropdown-content-controls.docx": ("needs_correction", "form_not_found"),
    "17-google-docs-export.docx": ("needs_correction", "form_not_found"),
    "18-libreoffice-export-12-tables.docx": ("needs_correction", "form_not_found"),
    "19-strict-ooxml.docx": ("needs_correction", "form_not_found"),
    "20-apple-pages-export.docx": ("needs_correction", "form_not_found"),
}


@pytest.mark.parametrize("path", sorted(DOCS.iterdir()) if DOCS.is_dir() else [], ids=lambda p: p.name)
def test_corpus_document_gets_a_sensible_verdict(path: Path) -> None:
    assert path.name in EXPECTED, f"{path.name} is new in the corpus: add its expected verdict here"
    verdict, code = EXPECTED[path.name]
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["verdict"] != "accepted"
    assert done.returncode == EXIT_CODES[result["verdict"]]
    assert (result["verdict"], [f["code"] for f in result["findings"]]) == (verdict, [code])


def test_the_corpus_is_there() -> None:
    # The corpus is carried in the repository; without it the test above would pass by testing nothing.
    assert DOCS.is_dir(), f"no corpus at {DOCS}"
    assert set(EXPECTED) <= {p.name for p in DOCS.iterdir()}
