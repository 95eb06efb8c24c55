"""Forms read per second, .docx and .pdf, beside the floor: merely opening the same files with
python-docx / pdfplumber. Prints medians over several rounds and rewrites docs/BENCHMARKS.md's section."""

from __future__ import annotations

import io
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import docx
import pdfplumber

from bench.workload import entry
from bot.forms.check import check_form
from bot.forms.layout import form_layout
from config import Context, load_campaign, load_roster
from parsers.form_writer import write_form

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "BENCHMARKS.md"
FORMS = 200
ROUNDS = 5
SECTION = "## Reading plan forms"


def main() -> int:
    campaign = load_campaign()
    ctx = Context(campaign, load_roster())
    layout = form_layout(campaign)
    rng = random.Random(2021)
    docx_files = [write_form(layout, [entry(rng) for _ in range(rng.randint(1, 3))]) for _ in range(FORMS)]
    pdf_files = _to_pdf(docx_files[:20])
    rows = [
        _measure(".docx", docx_files, lambda d: check_form(d, "f.docx", ctx, None), _open_docx),
        _measure(".pdf", pdf_files, lambda d: check_form(d, "f.pdf", ctx, None), _open_pdf) if pdf_files else None,
    ]
    lines = [
        SECTION,
        "",
        f"`make bench` on {platform.machine()}, Python {platform.python_version()}; median of {ROUNDS} rounds.",
        "Read = `check_form` (open, read every table and paragraph, run every rule); floor = open the same",
        "file with python-docx (`Document(...)`) or pdfplumber (open and load every page's characters). Target: ratio ≤ 1.5 for .docx.",
        "",
        "| files | count | read (forms/s) | floor (files/s) | ratio read/floor time |",
        "|---|---|---|---|---|",
    ]
    lines += [row for row in rows if row]
    text = "\n".join(lines) + "\n"
    print(text)
    _write_section(text)
    return 0


def _to_pdf(files: list[bytes]) -> list[bytes]:
    soffice = shutil.which("soffice")
    if not soffice:
        print("soffice not installed: .pdf not measured", file=sys.stderr)
        return []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for number, data in enumerate(files):
            (folder / f"{number}.docx").write_bytes(data)
        profile = (folder / "profile").as_uri()
        docs = sorted(str(p) for p in folder.glob("*.docx"))
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation={profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(folder),
                *docs,
            ],
            capture_output=True,
            check=True,
            timeout=600,
        )
        return [p.read_bytes() for p in sorted(folder.glob("*.pdf"))]


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


def _median_seconds(files: list[bytes], work: Callable[[bytes], object]) -> float:
    times = []
    for _ in range(ROUNDS):
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
