"""Where each roster branch stands for each deliverable, derived from the ledger (never stored twice)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.ledger.ledger import aware
from bot.ledger.schema import MessageRow, ReplyRow
from config import Roster

STATUS_NAMES = {
    "accepted": "已受理",
    "needs_correction": "待修改",
    "unreadable": "待修改",
    "no_attachment": "待修改",
    "missing": "未报送",
}


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
