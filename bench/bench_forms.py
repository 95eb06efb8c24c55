"""Forms read per second, .docx, .pdf, .doc and .wps, beside the floor: merely opening the same files with
python-docx / pdfplumber, or for .doc and .wps having the warm LibreOffice convert them and opening the
result with python-docx. Prints medians over several rounds and rewrites docs/BENCHMARKS.md's section."""

from __future__ import annotations

import io
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import docx
import pdfplumber

from bench.workload import entry, resave
from bot.forms.check import check_form
from bot.forms.convert import Converter, Office, convert_to_docx, converter
from bot.forms.layout import form_layout
from config import Context, load_campaign, load_roster
from parsers.form_writer import write_form

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "BENCHMARKS.md"
FORMS = 200
ROUNDS = 5
LEGACY = 20  # .doc forms (the .wps are the same files under WPS's name)
COLD = 5  # .doc forms read with a LibreOffice started per file, once: two seconds each
SECTION = "## Reading plan forms"


def main() -> int:
    campaign = load_campaign()
    ctx = Context(campaign, load_roster())
    layout = form_layout(campaign)
    rng = random.Random(2021)
    docx_files = [write_form(layout, [entry(rng) for _ in range(rng.randint(1, 3))]) for _ in range(FORMS)]
    pdf_files = resave(docx_files[:20], "pdf")
    if not pdf_files:
        print("soffice not installed: .pdf, .doc and .wps not measured", file=sys.stderr)
    rows = [
        _measure(".docx", docx_files, lambda d: check_form(d, "f.docx", ctx, None), _open_docx),
        _measure(".pdf", pdf_files, lambda d: check_form(d, "f.pdf", ctx, None), _open_pdf) if pdf_files else None,
    ]
    office = converter()
    if pdf_files and isinstance(office, Office):
        rows += _legacy_rows(ctx, office, resave(docx_files[:LEGACY], "doc"))
    lines = [
        SECTION,
        "",
        f"`make bench` on {platform.machine()}, Python {platform.python_version()}; median of {ROUNDS} rounds.",
        "Read = `check_form` (open, read every table and paragraph, run every rule); floor = open the same",
        "file with python-docx (`Document(...)`) or pdfplumber (open and load every page's characters); for .doc and .wps,",
        "the warm LibreOffice's conversion (bot/forms/convert/warm.py, started before timing) and python-docx on its result.",
        f"LibreOffice started per file (the cold path, as before the warm one): {COLD} files, one round. Target: ratio ≤ 1.5",
        "for .docx; a .doc under 0.5 s warm.",
        "",
        "| files | count | read (forms/s) | floor (files/s) | ratio read/floor time |",
        "|---|---|---|---|---|",
    ]
    lines += [row for row in rows if row]
    text = "\n".join(lines) + "\n"
    print(text)
    _write_section(text)
    return 0


def _legacy_rows(ctx: Context, office: Office, doc_files: list[bytes]) -> list[str]:
    try:
        office(doc_files[0], "doc")  # the server's start is not a form's reading
        rows = [
            _measure(kind, doc_files, _reader(ctx, office, kind), partial(_open_converted, office, kind[1:]))
            for kind in (".doc", ".wps")
        ]
    finally:
        office.close()
    soffice = office.soffice
    cold = _median_seconds(doc_files[:COLD], _reader(ctx, partial(convert_to_docx, soffice=soffice), ".doc"), 1)
    return [*rows, f"| .doc, LibreOffice per file | {COLD} | {COLD / cold:.1f} | — | — |"]


def _reader(ctx: Context, convert: Converter, kind: str) -> Callable[[bytes], object]:
    return lambda data: check_form(data, f"f{kind}", ctx, convert)


def _open_converted(office: Office, kind: str, data: bytes) -> object:
    return docx.Document(io.BytesIO(office(data, kind)))


def _open_docx(data: bytes) -> object:
    return docx.Document(io.BytesIO(data))


def _open_pdf(data: bytes) -> object:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return sum(len(page.chars) for page in pdf.pages)


def _measure(kind: str, files: list[bytes], read: Callable[[bytes], object], floor: Callable[[bytes], object]) -> str:
    read_s = _median_seconds(files, read)
    floor_s = _median_seconds(files, floor)
    return (
        f"| {kind} | {len(files)} | {len(files) / read_s:.0f} | {len(files) / floor_s:.0f} | {read_s / floor_s:.2f} |"
    )


def _median_seconds(files: list[bytes], work: Callable[[bytes], object], rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for data in files:
            work(data)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _write_section(text: str) -> None:
    old = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# Benchmarks\n\nWritten by `make bench`.\n\n"
    head, found, tail = old.partition(SECTION)
    rest = tail.split("\n## ", 1)
    after = ("\n## " + rest[1]) if found and len(rest) > 1 else ""
    REPORT.write_text(head.rstrip("\n") + "\n\n" + text + after, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
