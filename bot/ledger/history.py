"""What the ledger knew of a branch before a mail: its accepted activities and those it sent last (for a plan's
new version), and the photos, videos, links and documents it sent with earlier summaries. Queries only."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, select, true
from sqlalchemy.orm import Session

from bot.ledger import activities
from bot.ledger.queries import utc
from bot.ledger.schema import MediaRow, MessageRow
from bot.summary.records import History


def branch_key(branch: str | None, sender: str) -> str:
    """Whose activities these are: a roster branch, or a sender the roster does not know, as a branch of its own."""
    return branch if branch is not None else f"sender:{sender}"


def branch_history(session: Session, branch: str | None, sender: str, before: dt.datetime | None = None) -> History:
    """`before`: only what arrived before then (a mail looked at again after it was taken in)."""
    earlier = MessageRow.arrived_at < utc(before) if before is not None else true()
    key = branch_key(branch, sender)
    media = session.execute(
        select(MediaRow.kind, MediaRow.name, MediaRow.sha256)
        .join(MessageRow, MediaRow.message_pk == MessageRow.id)
        .where(of_branch(branch, sender), MessageRow.status == "processed", earlier)
        .order_by(MediaRow.id)
    ).all()
    return History(
        activities=activities.planned(activities.standing(session, key, before)),
        sent=activities.planned(activities.latest(session, key, before)),
        media=frozenset(sha for _, _, sha in media if sha),
        documents=tuple(name for kind, name, _ in media if kind == "document"),
        media_sent=sum(kind in ("photo", "video", "link") for kind, _, _ in media),
    )


def of_branch(branch: str | None, sender: str) -> ColumnElement[bool]:
    """A branch's messages; a sender the roster does not know is a branch of its own."""
    if branch is not None:
        return MessageRow.branch == branch
    return and_(MessageRow.branch.is_(None), MessageRow.sender == sender)


def first_media(
    session: Session, branch: str | None, sender: str, message_pk: int, hashes: frozenset[str]
) -> dict[str, int]:
    """The branch's first media row for each of these hashes (outside message `message_pk`): what a repeat of it
    is a duplicate of."""
    if not hashes:
        return {}
    rows = session.execute(
        select(MediaRow.sha256, MediaRow.id)
        .join(MessageRow, MediaRow.message_pk == MessageRow.id)
        .where(
            of_branch(branch, sender),
            MediaRow.sha256.in_(hashes),
            MediaRow.duplicate_of.is_(None),
            MediaRow.message_pk != message_pk,
        )
        .order_by(MediaRow.id)
    ).all()
    first: dict[str, int] = {}
    for sha, pk in rows:
        if sha is not None:
            first.setdefault(sha, pk)
    return first
