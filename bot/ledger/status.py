"""Where each roster branch stands for each deliverable, derived from the ledger (never stored twice).

A branch's standing comes from what it submitted, never from its last mail. A *version* of a deliverable is a
mail that brought a document for it (read or not). The branch stands accepted once a version was accepted,
whatever came after (a faulty or unreadable newer version is noted beside it: 已受理（新版本待修改）); before
that, exempt when staff said it need not send it, else as its latest version was judged; with no version,
missing. A thank-you, a question, a cloud link or a
mail whose file is missing changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.ledger import activities
from bot.ledger.overrides import exemptions
from bot.ledger.queries import aware
from bot.ledger.schema import MessageRow, ReplyRow
from config import Roster


@dataclass(frozen=True)
class BranchStatus:
    branch: str
    known: bool  # False for a sender the roster does not list
    deliverable: str
    status: str  # accepted | needs_correction | unreadable | exempt | missing
    versions: int  # mails that brought a document for this deliverable
    late: bool  # the mail the standing comes from came after the deadline
    last_arrived: dt.datetime | None  # that mail's arrival (with no version: the latest mail about it, if any)
    last_reply: str  # to that mail: "ack sent", "correction pending", "none" (not answered); "" if no mail
    newer: str | None = None  # accepted, and a newer version was not: that version's verdict


@dataclass(frozen=True)
class FailedMessage:
    """A message whose processing raised: set aside for a person and `subbot retry`."""

    id: int
    arrived: dt.datetime
    attempts: int
    subject: str
    error: str  # the traceback's last line


VERSION_VERDICTS = frozenset({"accepted", "needs_correction", "unreadable"})


def branch_statuses(
    session: Session, roster: Roster, deliverables: tuple[str, ...] = ("plan", "summary")
) -> list[BranchStatus]:
    messages = session.execute(
        select(MessageRow)
        .where(MessageRow.status == "processed", MessageRow.deliverable.is_not(None))
        .where(MessageRow.kind.in_(("submission", "link")))
        .order_by(MessageRow.arrived_at, MessageRow.id)
    ).scalars()
    by_key: dict[tuple[str, str], list[MessageRow]] = {}
    for message in messages:
        owner = message.branch or f"（未知发件人）{message.sender}"
        by_key.setdefault((owner, message.deliverable or "plan"), []).append(message)
    replies = _last_replies(session)
    exempt = exemptions(session)
    names = [b.name for b in roster.branches]
    unknown = sorted({owner for owner, _ in by_key if owner not in names})
    return [
        _standing(owner, owner in names, deliverable, by_key.get((owner, deliverable), []), replies, exempt)
        for owner in [*names, *unknown]
        for deliverable in deliverables
        if owner in names or by_key.get((owner, deliverable))
    ]


def _standing(
    owner: str,
    known: bool,
    deliverable: str,
    mails: list[MessageRow],
    replies: dict[int, str],
    exempt: set[tuple[str, str]],
) -> BranchStatus:
    versions = [m for m in mails if m.kind == "submission" and m.verdict in VERSION_VERDICTS]
    shown: MessageRow | None
    accepted = [m for m in versions if m.verdict == "accepted"]
    if accepted:
        # Late is whether the plan (or summary) first stood in time; its latest accepted version is the one shown.
        status, late, shown = "accepted", bool(accepted[0].late), accepted[-1]
        newer = versions[-1].verdict if versions[-1] is not accepted[-1] else None
    elif (owner, deliverable) in exempt:  # staff said it need not send this one
        status, late, newer = "exempt", False, None
        shown = versions[-1] if versions else (mails[-1] if mails else None)
    elif versions:
        status, late, shown, newer = str(versions[-1].verdict), bool(versions[-1].late), versions[-1], None
    else:
        status, late, newer = "missing", False, None
        shown = mails[-1] if mails else None
    return BranchStatus(
        branch=owner,
        known=known,
        deliverable=deliverable,
        status=status,
        versions=len(versions),
        late=late,
        last_arrived=aware(shown.arrived_at) if shown is not None else None,
        last_reply=replies.get(shown.id, "none") if shown is not None else "",
        newer=newer,
    )


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
    """Every accepted activity (of each branch's standing plan) and where it stands at `now`."""
    today = now.astimezone(zone).date()
    rows = sorted(activities.standing(session), key=lambda row: (row.branch_key, row.id))
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
