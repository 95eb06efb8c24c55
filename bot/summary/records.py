"""A summary mail as records: its photos, videos, documents and links, the planned activities it reports, and
what the ledger knew of the branch before it (`History`). Photos count once each: a photo whose SHA-256 the
branch already sent (in this mail or an earlier one) is a repeat."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from parsers.links import Link
from parsers.media import MediaInfo, MediaKind
from parsers.message import Attachment

MatchedBy = Literal["title", "only", "all", ""]


@dataclass(frozen=True)
class Planned:
    """One of the branch's activities (one version of it), as the ledger knows it."""

    key: int  # the ActivityRow's id
    title: str
    start: dt.date | None
    end: dt.date | None
    identity: int = 0  # the activity across versions: its first row's id
    venue: str = ""
    modules: tuple[str, ...] = ()


@dataclass(frozen=True)
class History:
    """What the ledger knew of the branch before this mail."""

    activities: tuple[Planned, ...] = ()  # its accepted activities: those of its latest accepted plan
    sent: tuple[Planned, ...] = ()  # the activities of the latest plan it sent, accepted or not
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
