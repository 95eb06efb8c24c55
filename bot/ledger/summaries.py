"""Summaries in the ledger: what a branch sent before (for matching and repeats), the media of a summary mail,
the activities it reports, and where each activity stands (planned → held → summarised).

"Held" is derived, never stored: an activity is held once its last day (its first, without one) is over
in the campaign's timezone. It is summarised once an accepted summary reported it (`summary_pk`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from bot.decide import Decision, DocumentCheck, identify, which_deliverable
from bot.ledger.schema import ActivityRow, MediaRow, MessageRow
from bot.mediastore import MediaStore
from bot.rules import Context
from bot.summary import History, Planned
from config import Branch
from parsers.media import MediaInfo
from parsers.message import Attachment, Mail

Stage = Literal["planned", "held", "summarised"]


def summary_history(
    session: Session, mail: Mail, documents: tuple[DocumentCheck, ...], ctx: Context, arrived: dt.datetime
) -> History:
    """What the ledger knows of the sender's branch, for a summary mail; nothing for any other mail."""
    if mail.kind != "submission" or which_deliverable(mail, documents, ctx, arrived) != "summary":
        return History()
    branch, _ = identify(mail, documents, ctx)
    key = branch.name if branch else f"sender:{mail.sender.address}"
    activities = session.execute(
        select(ActivityRow)
        .where(ActivityRow.branch_key == key, ActivityRow.current.is_(True), ActivityRow.accepted.is_(True))
        .order_by(ActivityRow.id)
    ).scalars()
    media = session.execute(
        select(MediaRow.kind, MediaRow.name, MediaRow.sha256)
        .join(MessageRow, MediaRow.message_pk == MessageRow.id)
        .where(_of_branch(branch, mail.sender.address), MessageRow.status == "processed")
        .order_by(MediaRow.id)
    ).all()
    return History(
        activities=tuple(Planned(a.id, a.title, a.start, a.end) for a in activities),
        media=frozenset(sha for _, _, sha in media if sha),
        documents=tuple(name for kind, name, _ in media if kind == "document"),
        media_sent=sum(kind in ("photo", "video", "link") for kind, _, _ in media),
    )


def _of_branch(branch: Branch | None, sender: str) -> ColumnElement[bool]:
    """A branch's messages; a sender the roster does not know is a branch of its own."""
    if branch is not None:
        return MessageRow.branch == branch.name
    return and_(MessageRow.branch.is_(None), MessageRow.sender == sender)


def record_summary(session: Session, message: MessageRow, decision: Decision, store: MediaStore | None) -> None:
    """A summary's files (stored on disk when a store is given) and media links as media rows; the activities
    an accepted summary reports are marked summarised by it. Nothing for any other decision."""
    summary = decision.summary
    if summary is None:
        return
    branch = decision.branch
    usable = {d.name for d in summary.usable_documents}
    first = _first_rows(session, branch, message, frozenset(f.info.sha256 for f in summary.files))
    for position, media in enumerate(summary.files):
        info = media.info
        kind = "other" if media.kind == "document" and media.attachment.name not in usable else media.kind
        row = MediaRow(
            message_pk=message.id,
            position=position,
            kind=kind,
            name=media.attachment.name,
            sha256=info.sha256,
            size=info.size,
            stored_path=_stored(store, media.attachment, info) if store else None,
            taken_at=info.taken_at,
            duplicate_of=first.get(info.sha256),
        )
        session.add(row)
        session.flush()
        first.setdefault(info.sha256, row.id)
    for number, link in enumerate(summary.media_links, start=len(summary.files)):
        session.add(MediaRow(message_pk=message.id, position=number, kind="link", name=link.url))
    if decision.verdict == "accepted":
        for planned in summary.activities:
            activity = session.get(ActivityRow, planned.key)
            if activity is not None:
                activity.summary_pk = message.id


def _first_rows(session: Session, branch: Branch | None, message: MessageRow, hashes: frozenset[str]) -> dict[str, int]:
    """The branch's first media row for each of these hashes: what a repeat of it is a duplicate of."""
    if not hashes:
        return {}
    rows = session.execute(
        select(MediaRow.sha256, MediaRow.id)
        .join(MessageRow, MediaRow.message_pk == MessageRow.id)
        .where(
            _of_branch(branch, message.sender),
            MediaRow.sha256.in_(hashes),
            MediaRow.duplicate_of.is_(None),
            MediaRow.message_pk != message.id,
        )
        .order_by(MediaRow.id)
    ).all()
    first: dict[str, int] = {}
    for sha, pk in rows:
        if sha is not None:
            first.setdefault(sha, pk)
    return first


@dataclass(frozen=True)
class ActivityStage:
    branch_key: str
    title: str
    start: dt.date | None
    end: dt.date | None
    stage: Stage
    summary_pk: int | None


def stage_of(start: dt.date | None, end: dt.date | None, summarised: bool, today: dt.date) -> Stage:
    if summarised:
        return "summarised"
    last = end or start
    return "held" if last is not None and last < today else "planned"


def activity_stages(session: Session, now: dt.datetime, zone: dt.tzinfo) -> list[ActivityStage]:
    """Every accepted activity (its current version) and its stage at `now`."""
    today = now.astimezone(zone).date()
    rows = session.execute(
        select(ActivityRow)
        .where(ActivityRow.current.is_(True), ActivityRow.accepted.is_(True))
        .order_by(ActivityRow.branch_key, ActivityRow.id)
    ).scalars()
    return [
        ActivityStage(
            row.branch_key,
            row.title,
            row.start,
            row.end,
            stage_of(row.start, row.end, row.summary_pk is not None, today),
            row.summary_pk,
        )
        for row in rows
    ]


def _stored(store: MediaStore, attachment: Attachment, info: MediaInfo) -> str:
    if attachment.spill is not None:  # decoded to a file as the mail was read: linked, never read back
        return store.put_file(Path(attachment.spill.path), info.sha256, info.format)
    return store.put(attachment.data, info.sha256, info.format)
