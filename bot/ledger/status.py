"""Where each roster branch stands for each deliverable, derived from the ledger (never stored twice)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.ledger.queries import aware
from bot.ledger.schema import ActivityRow, MessageRow, ReplyRow
from config import Roster


@dataclass(frozen=True)
class BranchStatus:
    branch: str
    known: bool  # False for a sender the roster does not list
    deliverable: str
    status: str  # accepted | needs_correction | unreadable | no_attachment | missing
    versions: int
    late: bool
    last_arrived: dt.datetime | None
    last_reply: str  # of the last mail: "ack sent", "correction pending", "none" (not answered); "" if no mail


@dataclass(frozen=True)
class FailedMessage:
    """A message whose processing raised: set aside for a person and `subbot retry`."""

    id: int
    arrived: dt.datetime
    attempts: int
    subject: str
    error: str  # the traceback's last line


def branch_statuses(
    session: Session, roster: Roster, deliverables: tuple[str, ...] = ("plan", "summary")
) -> list[BranchStatus]:
    messages = session.execute(
        select(MessageRow)
        .where(MessageRow.status == "processed", MessageRow.kind == "submission")
        .order_by(MessageRow.arrived_at)
    ).scalars()
    by_key: dict[tuple[str, str], list[MessageRow]] = {}
    for message in messages:
        owner = message.branch or f"（未知发件人）{message.sender}"
        by_key.setdefault((owner, message.deliverable or "plan"), []).append(message)
    replies = _last_replies(session)
    rows: list[BranchStatus] = []
    names = [b.name for b in roster.branches]
    unknown = sorted({owner for owner, _ in by_key if owner not in names})
    for owner in [*names, *unknown]:
        for deliverable in deliverables:
            history = by_key.get((owner, deliverable), [])
            if not history and owner in unknown:
                continue
            last = history[-1] if history else None
            rows.append(
                BranchStatus(
                    branch=owner,
                    known=owner in names,
                    deliverable=deliverable,
                    status=(last.verdict or "missing") if last else "missing",
                    versions=len(history),
                    late=bool(last and last.late),
                    last_arrived=aware(last.arrived_at) if last else None,
                    last_reply=replies.get(last.id, "none") if last else "",
                )
            )
    return rows


def _last_replies(session: Session) -> dict[int, str]:
    rows = session.execute(
        select(ReplyRow.message_pk, ReplyRow.kind, ReplyRow.status).where(ReplyRow.message_pk.is_not(None))
    )
    return {pk: f"{kind} {status}" for pk, kind, status in rows if pk is not None}


def failed_messages(session: Session) -> list[FailedMessage]:
    rows = session.execute(select(MessageRow).where(MessageRow.status == "failed").order_by(MessageRow.id)).scalars()
    return [
        FailedMessage(row.id, aware(row.arrived_at), row.attempts, row.subject, _last_line(row.error)) for row in rows
    ]


def _last_line(trace: str) -> str:
    lines = trace.strip().splitlines()
    return lines[-1] if lines else ""


# Where an activity stands, planned -> held -> summarised. "Held" is derived, never stored: an activity is held
# once its last day (its first, without one) is over in the campaign's timezone; summarised once an accepted
# summary reported it (`ActivityRow.summary_pk`).
Progress = Literal["planned", "held", "summarised"]


@dataclass(frozen=True)
class ActivityProgress:
    branch_key: str
    title: str
    start: dt.date | None
    end: dt.date | None
    progress: Progress
    summary_pk: int | None


def progress_of(start: dt.date | None, end: dt.date | None, summarised: bool, today: dt.date) -> Progress:
    if summarised:
        return "summarised"
    last = end or start
    return "held" if last is not None and last < today else "planned"


def activity_progress(session: Session, now: dt.datetime, zone: dt.tzinfo) -> list[ActivityProgress]:
    """Every accepted activity (its current version) and where it stands at `now`."""
    today = now.astimezone(zone).date()
    rows = session.execute(
        select(ActivityRow)
        .where(ActivityRow.current.is_(True), ActivityRow.accepted.is_(True))
        .order_by(ActivityRow.branch_key, ActivityRow.id)
    ).scalars()
    return [
        ActivityProgress(
            row.branch_key,
            row.title,
            row.start,
            row.end,
            progress_of(row.start, row.end, row.summary_pk is not None, today),
            row.summary_pk,
        )
        for row in rows
    ]
