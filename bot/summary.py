"""A summary mail read as evidence: its documents, photos, videos and links, and the planned activities it reports.

Pure: what the ledger knew of the branch before this mail (`History`) and the arrival time are passed in.

How a summary is matched to activities: the branch's accepted activities whose title the subject, body,
file names or the summary's text mention; if none is named, all of the branch's accepted activities
(a branch often writes one summary of its day), with a warning when that is more than one; if the
branch has no accepted activity, none, and the summary is flagged for staff. Photos count once each:
a photo whose SHA-256 the branch already sent (in this mail or an earlier one) is a repeat."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Literal

from bot.check import CheckResult
from bot.sandbox import ChildError, Exhausted, read_text_and_photos, run_limited
from bot.spool import media_info
from parsers.links import Link, classify_link
from parsers.media import MediaInfo, MediaKind
from parsers.message import Attachment, Mail

MatchedBy = Literal["title", "only", "all", ""]

# A summary document the sender can do nothing about reading it: kept and counted, not read for titles.
READ_BY_STAFF = frozenset({"needs_docx", "scanned", "too_large"})
# Pictures pasted into the body (multipart/related) this large are photos, not logos in a signature.
MIN_INLINE_PHOTO_BYTES = 20 * 1024
MIN_TITLE_MATCH = 6  # characters of a title a summary must repeat when it does not repeat all of it


@dataclass(frozen=True)
class Planned:
    """One of the branch's accepted activities (its current version), as the ledger knows it."""

    key: int  # the ActivityRow's id
    title: str
    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True)
class History:
    """What the ledger knew of the branch before this mail."""

    activities: tuple[Planned, ...] = ()
    media: frozenset[str] = frozenset()  # SHA-256 of every file the branch sent with a summary
    documents: tuple[str, ...] = ()  # names of the summary documents it sent
    media_sent: int = 0  # photos, videos and media links it sent


@dataclass(frozen=True)
class MediaFile:
    """A file of the mail as media: what it is, and whether the branch sent the same bytes before."""

    attachment: Attachment = field(repr=False)
    kind: MediaKind
    info: MediaInfo
    repeat: Literal["", "mail", "earlier"] = ""


@dataclass(frozen=True)
class SummaryDocument:
    name: str
    kind: str
    # "" (a summary, read or kept for staff), "plan_form" (the blank plan form), "unreadable"
    problem: str
    message: str  # the reader's words when unreadable
    text: str = field(repr=False)
    photos: int  # photos pasted into it

    @property
    def usable(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class Summary:
    arrived: dt.datetime
    files: tuple[MediaFile, ...]
    documents: tuple[SummaryDocument, ...]
    links: tuple[Link, ...]
    activities: tuple[Planned, ...]  # the activities it reports
    matched_by: MatchedBy
    history: History

    def photos(self, repeat: bool = False) -> tuple[MediaFile, ...]:
        return tuple(f for f in self.files if f.kind == "photo" and bool(f.repeat) == repeat)

    def videos(self, repeat: bool = False) -> tuple[MediaFile, ...]:
        return tuple(f for f in self.files if f.kind == "video" and bool(f.repeat) == repeat)

    @property
    def embedded_photos(self) -> int:
        return sum(d.photos for d in self.documents if d.usable)

    @property
    def media_links(self) -> tuple[Link, ...]:
        return tuple(link for link in self.links if link.kind != "other")

    @property
    def usable_documents(self) -> tuple[SummaryDocument, ...]:
        return tuple(d for d in self.documents if d.usable)

    @property
    def has_media(self) -> bool:
        return bool(self.files_of("photo", "video") or self.embedded_photos or self.media_links)

    def files_of(self, *kinds: str) -> tuple[MediaFile, ...]:
        return tuple(f for f in self.files if f.kind in kinds)


def read_summary(mail: Mail, results: Mapping[str, CheckResult], history: History, arrived: dt.datetime) -> Summary:
    """`results` are the form checks of the attachments read as documents, by attachment name."""
    files = _media_files(mail, results, history)
    documents = tuple(_document(f.attachment, results[f.attachment.name]) for f in files if f.kind == "document")
    texts = [mail.subject, mail.body_text, *(a.name for a in mail.attachments), *(d.text for d in documents)]
    activities, matched_by = match_activities(texts, history.activities)
    links = tuple(classify_link(url) for url in mail.links)
    return Summary(arrived, files, documents, links, activities, matched_by, history)


def _media_files(mail: Mail, results: Mapping[str, CheckResult], history: History) -> tuple[MediaFile, ...]:
    seen: set[str] = set()
    files: list[MediaFile] = []
    for attachment in mail.attachments:
        info = media_info(attachment)  # a spilled photo or video: from its file
        if attachment.origin == "inline" and (info.kind != "photo" or info.size < MIN_INLINE_PHOTO_BYTES):
            continue
        kind: MediaKind = "document" if attachment.name in results else info.kind
        repeat: Literal["", "mail", "earlier"] = (
            "earlier" if info.sha256 in history.media else "mail" if info.sha256 in seen else ""
        )
        seen.add(info.sha256)
        files.append(MediaFile(attachment, kind, info, repeat))
    return tuple(files)


def _document(attachment: Attachment, result: CheckResult) -> SummaryDocument:
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


def match_activities(texts: list[str], planned: tuple[Planned, ...]) -> tuple[tuple[Planned, ...], MatchedBy]:
    text = fold("\n".join(texts))
    named = tuple(p for p in planned if mentions(text, fold(p.title)))
    if named:
        return named, "title"
    if len(planned) == 1:
        return planned, "only"
    return planned, "all" if planned else ""


def mentions(text: str, title: str) -> bool:
    """The title appears whole, or a long enough run of it does ("地质科普进校园" for "2021年地质科普进校园活动")."""
    if len(title) < 4:
        return False  # "座谈会" alone names nothing
    if title in text:
        return True
    match = SequenceMatcher(None, title, text, autojunk=False).find_longest_match(0, len(title), 0, len(text))
    return match.size >= max(MIN_TITLE_MATCH, round(len(title) * 0.6))


def fold(text: str) -> str:
    """Letters and digits only, NFKC, lower case: what two spellings of one title share."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")
