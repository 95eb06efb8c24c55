"""The summary round as the ledger has it: every activity's versions, every summary mail with the activities it
reported, and the photos, videos, files and links those mails brought. Read once, as frozen records, for the
digest, its 汇总表 and the media export. Queries only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.ledger import activities
from bot.ledger.queries import aware
from bot.ledger.schema import ActivityRow, MediaRow, MessageRow, SummaryActivityRow

# The messages that are summaries: taken in, judged as a branch's summary (whatever the verdict).
SUMMARIES = (MessageRow.status == "processed", MessageRow.kind == "submission", MessageRow.deliverable == "summary")


@dataclass(frozen=True)
class TrackedActivity:
    """An activity as its branch's plan stands, with the ids of all its versions: a summary reported the version
    that stood when it came."""

    key: int  # the standing version's ActivityRow id
    versions: frozenset[int]
    branch_key: str  # the roster branch, or "sender:<address>" for a sender the roster does not list
    title: str
    start: dt.date | None
    end: dt.date | None
    accepted: bool
    summary_pk: int | None  # the accepted summary that marked it summarised


@dataclass(frozen=True)
class SummaryMail:
    pk: int
    branch: str | None  # None: a sender the roster does not list
    sender: str
    arrived: dt.datetime  # aware, UTC
    receipt: str | None
    verdict: str | None
    late: bool
    reported: frozenset[int]  # the ActivityRow ids it reported

    @property
    def branch_key(self) -> str:
        return self.branch if self.branch is not None else f"sender:{self.sender}"


@dataclass(frozen=True)
class MediaItem:
    """A photo, video, document, other file or link of a summary mail (`MediaRow`)."""

    id: int
    message_pk: int
    position: int
    kind: str  # photo | video | document | link | other
    name: str  # the file's name as sent, or the link's URL
    sha256: str | None
    size: int | None
    stored_path: str | None  # relative to the data folder
    taken_at: dt.datetime | None  # EXIF, the camera's local time (naive)
    duplicate_of: int | None


@dataclass(frozen=True)
class SummaryRecords:
    activities: tuple[TrackedActivity, ...] = ()  # every activity at its current version, by first version
    mails: tuple[SummaryMail, ...] = ()  # processed summary submissions, oldest first
    media: tuple[MediaItem, ...] = ()  # of those mails, in the order recorded


def read_summary_records(session: Session) -> SummaryRecords:
    return SummaryRecords(read_tracked_activities(session), read_summary_mails(session), read_media(session))


def read_tracked_activities(session: Session) -> tuple[TrackedActivity, ...]:
    """Each branch's activities as its plan stands (bot.ledger.activities), each with the ids of every version of
    it: a summary reported the version that stood when it came."""
    versions: dict[int, set[int]] = {}
    for identity, pk in session.execute(select(ActivityRow.identity, ActivityRow.id)):
        versions.setdefault(identity or pk, set()).add(pk)
    standing = sorted(activities.as_it_stands(session), key=lambda item: item[0].identity or item[0].id)
    return tuple(
        TrackedActivity(
            key=row.id,
            versions=frozenset(versions.get(row.identity or row.id, {row.id})),
            branch_key=row.branch_key,
            title=row.title,
            start=row.start,
            end=row.end,
            accepted=accepted,
            summary_pk=row.summary_pk,
        )
        for row, accepted in standing
    )


def read_summary_mails(session: Session) -> tuple[SummaryMail, ...]:
    reported: dict[int, set[int]] = {}
    for message_pk, activity_pk in session.execute(
        select(SummaryActivityRow.message_pk, SummaryActivityRow.activity_pk)
    ):
        reported.setdefault(message_pk, set()).add(activity_pk)
    m = MessageRow
    rows = session.execute(
        select(m.id, m.branch, m.sender, m.arrived_at, m.receipt, m.verdict, m.late)
        .where(*SUMMARIES)
        .order_by(m.arrived_at, m.id)
    )
    return tuple(
        SummaryMail(
            pk=row.id,
            branch=row.branch,
            sender=row.sender or "",
            arrived=aware(row.arrived_at),
            receipt=row.receipt,
            verdict=row.verdict,
            late=bool(row.late),
            reported=frozenset(reported.get(row.id, ())),
        )
        for row in rows
    )


def read_media(session: Session) -> tuple[MediaItem, ...]:
    rows = session.execute(
        select(MediaRow).join(MessageRow, MessageRow.id == MediaRow.message_pk).where(*SUMMARIES).order_by(MediaRow.id)
    ).scalars()
    return tuple(
        MediaItem(
            id=row.id,
            message_pk=row.message_pk,
            position=row.position,
            kind=row.kind,
            name=row.name,
            sha256=row.sha256,
            size=row.size,
            stored_path=row.stored_path,
            taken_at=row.taken_at,
            duplicate_of=row.duplicate_of,
        )
        for row in rows
    )
