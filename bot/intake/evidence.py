"""Evidence: every attachment read before anything is decided. Forms are checked in the sandbox's worker; for a
summary, its documents are read there too for their text and pictures, and its photos and videos measured
(kind, hash, EXIF date; a spilled one from its file). This is the only place intake calls the sandbox:
`decide` works on what is gathered here. One call comes after `decide`, for the answer: a correction gives the
branch its own .docx forms back with their findings shaded and commented (`annotated_copies`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import mmap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.forms.check import CheckResult
from bot.forms.convert import Converter
from bot.forms.sandbox import (
    ChildError,
    Exhausted,
    annotate_limited,
    cell_marks,
    check_limited,
    ocr_installed,
    read_text_and_photos,
    run_limited,
)
from bot.outgoing.compose import FileToAttach, one_line
from bot.summary.records import SummaryDocument
from config import Context
from parsers.media import MediaInfo, media_kind, read_media, taken_at
from parsers.message import Attachment, Mail

# Attachments read as forms; images are photos (of the activity, or, wrongly, of the form).
FORM_KINDS = frozenset({"docx", "pdf", "doc", "wps", "odt", "rtf", "encrypted", "broken_zip", "empty"})
# A summary document the sender can do nothing about reading it: kept and counted, not read for titles.
READ_BY_STAFF = frozenset({"needs_docx", "scanned", "too_large"})
# A mail whose only files are at most this many pictures may be a photographed form (one picture a page).
MAX_FORM_PHOTOS = 4
# A correction brings back at most this many annotated forms, and this many bytes of them: a reply that
# grows past what the branch's mail server takes would bounce, and the correction with it.
MAX_ANNOTATED = 5
MAX_ANNOTATED_BYTES = 8 << 20

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentCheck:
    attachment: Attachment
    result: CheckResult


@dataclass(frozen=True)
class SummaryEvidence:
    """What a summary mail's files are: one MediaInfo per attachment, in the mail's order, and each document
    (an attachment read as a form) as a summary document, by attachment name."""

    media: tuple[MediaInfo, ...]
    documents: Mapping[str, SummaryDocument]


def check_forms(mail: Mail, ctx: Context, convert: Converter | None) -> tuple[DocumentCheck, ...]:
    """Every attachment that may be a form, read and checked. Pictures are read as a form (by OCR, when it is
    installed) only when they are all the mail brings, are few and the mail does not say it is a summary; a
    picture in which no form is found is left out, to be taken as a photo as before."""
    files = [a for a in mail.attachments if a.origin != "inline"]
    documents = [a for a in files if a.kind in FORM_KINDS]
    pictures = [a for a in files if a.kind == "image"] if _form_photos(mail, files, documents, ctx) else []
    # In the sandbox's worker, held to limits; a part spilled to a file is read there, from the file.
    checks = (DocumentCheck(a, check_limited(_file(a), a.name, ctx, convert)) for a in documents + pictures)
    return tuple(c for c in checks if c.attachment.kind != "image" or c.result.read.activities or c.result.read.blank_tables)


def _form_photos(mail: Mail, files: list[Attachment], documents: list[Attachment], ctx: Context) -> bool:
    if documents or not files or len(files) > MAX_FORM_PHOTOS or any(a.kind != "image" for a in files):
        return False
    if not ocr_installed():  # without OCR a picture cannot be read as a form: not sent to the worker for nothing
        return False
    words = ctx.campaign.deliverables.summary_words
    return not any(word in text for word in words for text in (mail.subject, *(a.name for a in files)))


def _file(attachment: Attachment) -> bytes | Path:
    return Path(attachment.spill.path) if attachment.spill else attachment.data


def annotated_copies(
    forms: tuple[DocumentCheck, ...], ctx: Context, when: dt.datetime
) -> tuple[FileToAttach, ...]:
    """Each .docx form that needs correcting, annotated in the sandbox's worker, named 「原文件名（请按批注修改）.docx」.
    Only a .docx as sent is annotated: a .doc or .wps is read from a conversion that is not kept, and giving back
    another format than the one sent would only confuse. A form that cannot be annotated is left out (logged)."""
    from parsers.annotate import annotated_name  # python-docx: loaded when a correction needs it

    copies: list[FileToAttach] = []
    names: set[str] = set()
    size = 0
    for check in forms:
        if check.result.verdict != "needs_correction" or not cell_marks(check.result):
            continue
        if len(copies) == MAX_ANNOTATED:
            log.info("more forms to annotate than the %d a reply brings: the rest go without", MAX_ANNOTATED)
            break
        attachment = check.attachment
        if size + attachment.size > MAX_ANNOTATED_BYTES:  # annotated, a form only grows
            log.info("a form of %d bytes would make the reply too big: not annotated", attachment.size)
            continue
        data = annotate_limited(_file(attachment), check.result, ctx, when)
        if data is None:
            log.warning("a form with findings could not be annotated: the correction goes without it")
            continue
        if size + len(data) > MAX_ANNOTATED_BYTES:
            log.info("an annotated form of %d bytes would make the reply too big: left out", len(data))
            continue
        size += len(data)
        copies.append(FileToAttach(_unique(annotated_name(one_line(attachment.name)), names), data))
    return tuple(copies)


def _unique(name: str, taken: set[str]) -> str:
    """Two attachments of one name (a form sent twice, or from two folders) are told apart by a number."""
    stem, number, unique = name.removesuffix(".docx"), 1, name
    while unique in taken:
        number += 1
        unique = f"{stem}（{number}）.docx"
    taken.add(unique)
    return unique


def gather_summary(mail: Mail, forms: tuple[DocumentCheck, ...]) -> SummaryEvidence:
    media = tuple(media_info(a) for a in mail.attachments)
    documents = {check.attachment.name: summary_document(check.attachment, check.result) for check in forms}
    return SummaryEvidence(media, documents)


def summary_document(attachment: Attachment, result: CheckResult) -> SummaryDocument:
    read = result.read
    if read.blank_tables or read.activities:
        return SummaryDocument(attachment.name, read.kind, "plan_form", "", "", 0)
    if read.unreadable and read.unreadable.code not in READ_BY_STAFF:
        return SummaryDocument(attachment.name, read.kind, "unreadable", read.unreadable.message, "", 0)
    if read.unreadable:
        # Kept for staff, never read again here: "too_large" may be a file that exhausted the sandbox.
        return SummaryDocument(attachment.name, read.kind, "", "", "", 0)
    # Read again for its text and pictures, in the sandbox too: a summary is untrusted input like a form.
    kind = attachment.kind
    file = Path(attachment.spill.path) if attachment.spill else attachment.data  # a spilled one: read there
    try:
        text, photos = run_limited(read_text_and_photos, file, kind)
    except (Exhausted, ChildError):
        text, photos = "", 0
    return SummaryDocument(attachment.name, kind, "", "", text, photos)


def media_info(attachment: Attachment) -> MediaInfo:
    """`read_media` of an attachment; a spilled one is classified by its first bytes, hashed as it was
    written, and its EXIF read through a map of the file (only the pages read come into memory)."""
    spill = attachment.spill
    if spill is None:
        return read_media(attachment.data, attachment.name)
    kind, form = media_kind(spill.head, attachment.name, spill.kind)
    taken = None
    if kind == "photo" and spill.size:
        with _mapped(Path(spill.path)) as data:
            taken = taken_at(data, form)
    return MediaInfo(kind, form, spill.sha256, spill.size, taken)


@contextlib.contextmanager
def _mapped(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        yield data  # type: ignore[misc]  # read by slicing and indexing only, as bytes are
