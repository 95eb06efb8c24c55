"""Reading a sender's file in a separate process held to limits of memory, CPU and wall-clock time.

The readers bound what they can see coming (zip members, pages, characters), but a library may still
inflate a PDF content stream whole (1 MB of PDF, 2 GB of memory) or loop on a crafted file: those
limits only a process can enforce. Here is the work sent to that process (a form checked, a summary's
text and photos read, a file's kind sniffed, a form annotated with its findings), each function
importable by name and taking the file as bytes or as a path the process reads itself; bot/worker.py is
the process, its limits, and the trade made for speed (one process reading file after file)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from bot.forms.check import CheckResult, check_form
from bot.forms.convert import Converter
from bot.forms.layout import form_layout
from bot.forms.worker import ChildError, Exhausted, Exhaustion, Limits, Reader, run_limited
from bot.rules.findings import Finding
from config import Context
from parsers.package import sniff
from parsers.plan import SCANNED
from parsers.records import FormLayout, PlanRead, Unreadable

if TYPE_CHECKING:  # python-docx, which the annotator needs, is loaded only when a form is annotated
    from parsers.annotate import CellMark

__all__ = [
    "ANNOTATE_LIMITS",
    "OCR_LIMITS",
    "ChildError",
    "Exhausted",
    "Limits",
    "Reader",
    "annotate_file",
    "annotate_limited",
    "cell_marks",
    "check_file",
    "check_limited",
    "ocr_installed",
    "read_text_and_photos",
    "run_limited",
    "sniff_file",
]

log = logging.getLogger(__name__)
# Annotating starts no LibreOffice: a typical form takes 40-70 ms; a crafted one is stopped well before a form's check.
ANNOTATE_LIMITS = Limits(cpu_seconds=20, wall_seconds=30.0)

_MESSAGES: dict[Exhaustion, str] = {
    "memory": "文件内容展开后过大，无法安全读取",
    "cpu": "文件读取耗时过长（结构异常），无法安全读取",
    "time": "文件读取耗时过长（结构异常），无法安全读取",
    "crash": "文件已损坏或格式异常，读取程序异常退出",
}


# OCR (parsers/scan) loads onnxruntime and the models: a fresh process needs about 1.3 GB of address space
# to read a page (docs/BENCHMARKS.md) and 2-4 CPU seconds a page; a form runs to a few pages.
OCR_LIMITS = Limits(memory=1536 << 20, cpu_seconds=90, wall_seconds=180.0)


def check_limited(
    file: bytes | Path,
    name: str,
    ctx: Context,
    convert: Converter | None,
    limits: Limits | None = None,
    ocr_limits: Limits | None = None,
) -> CheckResult:
    """`check_form` in the worker; a file that exhausts the limits is unreadable ("too_large").
    A path is opened and read by the worker, within its limits, so the caller need not hold the file.
    A scan or a photo (the first reading found a picture of a page) is read again by OCR when the extra is
    installed, under `ocr_limits`; if OCR exhausts them the answer is the first reading's."""
    limits = limits or Limits()
    if isinstance(file, Path):
        file = file.absolute()  # the worker's working directory is the one the parent had when it forked it
    first = _checked(file, name, ctx, convert, False, limits)
    problem = first.read.unreadable
    if problem is None or problem.code not in SCANNED or not ocr_installed():
        return first
    again = _checked(file, name, ctx, convert, True, ocr_limits or OCR_LIMITS)
    trouble = again.read.unreadable
    if trouble is not None and trouble.code == "too_large" and trouble.detail.startswith("sandbox "):
        detail = f"{problem.detail}; OCR: {trouble.detail}"
        return replace(first, read=replace(first.read, unreadable=replace(problem, detail=detail)))
    return again


def _checked(
    file: bytes | Path, name: str, ctx: Context, convert: Converter | None, ocr: bool, limits: Limits
) -> CheckResult:
    try:
        return run_limited(check_file, file, name, ctx, convert, ocr, limits=limits)
    except Exhausted as exc:
        message = _MESSAGES[exc.reason]
        unreadable = Unreadable("too_large", message, f"sandbox {exc.reason}: {exc.detail}")
        read = PlanRead(name, _kind(file, name, limits), unreadable=unreadable)
        return CheckResult(name, read, (Finding(None, "file", "error", "too_large", message),))


@functools.cache
def ocr_installed() -> bool:
    """Whether the `ocr` extra is there (its libraries and models), looked up once a process."""
    from parsers.scan import ocr_available

    return ocr_available()


def annotate_limited(
    file: bytes | Path, result: CheckResult, ctx: Context, when: dt.datetime, limits: Limits | None = None
) -> bytes | None:
    """The checked .docx with its findings shaded and commented (parsers.annotate), made in the worker; None when
    there is nothing to mark (not a .docx, no form read, no findings) or when the work fails or exhausts its limits.
    The annotated copy is a courtesy: its failure is logged (no name, no content) and never raised."""
    marks = cell_marks(result)
    if not marks:
        return None
    if isinstance(file, Path):
        file = file.absolute()
    layout, author = form_layout(ctx.campaign), ctx.campaign.office.name
    try:
        return run_limited(annotate_file, file, layout, marks, author, when, limits=limits or ANNOTATE_LIMITS)
    except Exhausted as exc:
        log.warning("annotating a form exhausted the sandbox (%s): %s", exc.reason, exc.detail)
    except Exception as exc:  # noqa: BLE001 - whatever python-docx or lxml raise on a hostile file, in the worker
        log.warning("annotating a form failed in the sandbox: %s", type(exc).__name__)
    return None


def cell_marks(result: CheckResult) -> tuple[CellMark, ...]:
    """The marks for a read .docx form: one per finding, on its activity's cell (or the file's heading)."""
    if result.read.kind != "docx" or not result.read.activities or result.read.unreadable:
        return ()
    from parsers.annotate import CellMark

    return tuple(CellMark(f.activity, f.field, f.message, f.severity) for f in result.findings)


def annotate_file(
    file: bytes | Path, layout: FormLayout, marks: tuple[CellMark, ...], author: str, when: dt.datetime
) -> bytes | None:
    """`annotate_form` on the file's bytes, read here when it is a path (work for the worker)."""
    from parsers.annotate import annotate_form

    return annotate_form(_content(file), layout, marks, author, date=when)


def check_file(
    file: bytes | Path, name: str, ctx: Context, convert: Converter | None, ocr: bool = False
) -> CheckResult:
    """`check_form` on the file's bytes, read here when it is a path (work for the worker)."""
    return check_form(_content(file), name, ctx, convert, ocr)


def read_text_and_photos(file: bytes | Path, kind: str) -> tuple[str, int]:
    """A summary's document: its text and how many photos it holds (work for the worker)."""
    from parsers.document_text import read_text  # the PDF and Word libraries: loaded by the worker, when needed
    from parsers.media import embedded_photos

    data = _content(file)
    return read_text(data, kind), embedded_photos(data, kind)


def sniff_file(file: bytes | Path, name: str) -> str:
    """The file's kind from its content (work for the worker)."""
    return sniff(_content(file), name)


def _content(file: bytes | Path) -> bytes:
    return file.read_bytes() if isinstance(file, Path) else file


def _kind(file: bytes | Path, name: str, limits: Limits) -> str:
    """The kind of a file the worker gave up on: sniffed here from bytes, by a fresh worker from a path."""
    if isinstance(file, bytes):
        return sniff(file, name)
    brief = replace(limits, cpu_seconds=min(limits.cpu_seconds, 5), wall_seconds=min(limits.wall_seconds, 10.0))
    try:
        return run_limited(sniff_file, file, name, limits=brief)
    except (Exhausted, ChildError, OSError):
        return "unknown"
