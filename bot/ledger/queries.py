"""The ledger's queries about messages, where the mailbox showed them, polls and replies, each inside the caller's
transaction (one Session per message); and the stored form of a time."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.ledger.schema import (
    ActivityRow,
    DocumentRow,
    FindingRow,
    MediaRow,
    MessageRow,
    RefRow,
    ReplyRow,
    StateRow,
    SummaryActivityRow,
)
from bot.mailbox.port import MessageRef

RECEIPT_LETTERS = {"plan": "P", "summary": "S", None: "M"}


def utc(moment: dt.datetime) -> dt.datetime:
    """Stored form of a time: naive UTC (SQLite keeps no zone)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def aware(stored: dt.datetime) -> dt.datetime:
    return stored.replace(tzinfo=dt.UTC)


def known_refs(session: Session, mailbox: str) -> set[tuple[int, str]]:
    rows = session.execute(select(RefRow.uidvalidity, RefRow.uid).where(RefRow.mailbox == mailbox))
    return {(validity, uid) for validity, uid in rows}


def _poll_key(mailbox: str) -> str:
    return f"poll_ok:{mailbox}"


def last_poll(session: Session, mailbox: str) -> dt.datetime | None:
    """When a poll of `mailbox` last went through to the end; None if none ever did."""
    state = session.get(StateRow, _poll_key(mailbox))
    return aware(state.updated_at) if state is not None else None


def record_poll(session: Session, mailbox: str, now: dt.datetime) -> None:
    state = session.get(StateRow, _poll_key(mailbox)) or StateRow(key=_poll_key(mailbox))
    state.value, state.updated_at = now.astimezone(dt.UTC).isoformat(), utc(now)
    session.add(state)


def find_by_sha(session: Session, sha256: str) -> MessageRow | None:
    return session.execute(select(MessageRow).where(MessageRow.sha256 == sha256)).scalar_one_or_none()


def find_same_message(session: Session, message_id: str, sender: str) -> MessageRow | None:
    """A re-delivered copy: same Message-ID from the same sender, bytes differing only in transit headers."""
    if not message_id:
        return None
    query = select(MessageRow).where(
        MessageRow.message_id == message_id, MessageRow.sender == sender, MessageRow.status != "failed"
    )
    return session.execute(query.order_by(MessageRow.id).limit(1)).scalar_one_or_none()


def add_ref(session: Session, ref: MessageRef, message: MessageRow, now: dt.datetime) -> None:
    exists = session.execute(
        select(RefRow.id).where(
            RefRow.mailbox == ref.mailbox, RefRow.uidvalidity == ref.uidvalidity, RefRow.uid == ref.uid
        )
    ).first()
    if not exists:
        session.add(
            RefRow(mailbox=ref.mailbox, uidvalidity=ref.uidvalidity, uid=ref.uid, message=message, seen_at=utc(now))
        )


def replies_on_day(session: Session, address: str, day_start: dt.datetime) -> int:
    """Replies queued or sent to `address` for mail that arrived on the local day starting at `day_start`:
    the reply cap counts by the mail's arrival, so a backlog polled after an outage is judged day by day."""
    day_end = day_start + dt.timedelta(days=1)
    query = (
        select(func.count(ReplyRow.id))
        .join(MessageRow, ReplyRow.message_pk == MessageRow.id)
        .where(
            ReplyRow.to_address == address,
            ReplyRow.status.in_(("pending", "sent")),
            MessageRow.arrived_at >= utc(day_start),
            MessageRow.arrived_at < utc(day_end),
        )
    )
    return int(session.execute(query).scalar_one())


def receipt_for(message: MessageRow, year: int) -> str:
    return f"{RECEIPT_LETTERS.get(message.deliverable, 'M')}{year}-{message.id:04d}"


def letters_about(session: Session, message_pk: int) -> int:
    """How many letters answer or are about the message."""
    query = select(func.count(ReplyRow.id)).where((ReplyRow.message_pk == message_pk) | (ReplyRow.about_pk == message_pk))
    return int(session.execute(query).scalar_one())


def credit(session: Session, message: MessageRow, branch: str | None, how: str) -> None:
    """A taken-in mail (and its activities) counted as the branch's from now on; None: as its unknown sender's."""
    old_key = message.branch if message.branch is not None else f"sender:{message.sender}"
    new_key = branch if branch is not None else f"sender:{message.sender}"
    message.branch, message.matched_by = branch, how
    session.execute(
        update(ActivityRow)
        .where(ActivityRow.message_pk == message.id, ActivityRow.branch_key == old_key)
        .values(branch_key=new_key)
    )


def uncredit_learned(session: Session, address: str) -> int:
    """Mail counted as a branch's only because its sender was a learned address: an unknown sender's again
    (its activities with it). Returns how many."""
    query = select(MessageRow).where(MessageRow.sender == address.lower(), MessageRow.matched_by == "learned")
    rows = list(session.execute(query).scalars())
    for message in rows:
        credit(session, message, None, "")
    return len(rows)


def forget_decision(session: Session, message: MessageRow) -> None:
    """What deciding a message wrote (its documents, findings, activities, media; the activities it reported as
    summarised), removed before it is taken in again. Its answers and refs stay: they happened."""
    session.execute(update(ActivityRow).where(ActivityRow.summary_pk == message.id).values(summary_pk=None))
    own_media = select(MediaRow.id).where(MediaRow.message_pk == message.id)
    session.execute(update(MediaRow).where(MediaRow.duplicate_of.in_(own_media)).values(duplicate_of=None))
    session.execute(delete(SummaryActivityRow).where(SummaryActivityRow.message_pk == message.id))
    reported = select(ActivityRow.id).where(ActivityRow.message_pk == message.id)
    session.execute(delete(SummaryActivityRow).where(SummaryActivityRow.activity_pk.in_(reported)))
    for table in (ActivityRow, MediaRow, FindingRow, DocumentRow):
        session.execute(delete(table).where(table.message_pk == message.id))
    message.verdict, message.excerpt, message.late = None, "", False


def due_reply_ids(session: Session, now: dt.datetime) -> list[int]:
    """Every reply due to be sent now, oldest first: ids only, so a poll that took in a thousand mails
    answers them all in one round without holding a thousand raw replies in memory."""
    query = (
        select(ReplyRow.id)
        .where(ReplyRow.status == "pending")
        .where((ReplyRow.next_attempt_at.is_(None)) | (ReplyRow.next_attempt_at <= utc(now)))
        .order_by(ReplyRow.id)
    )
    return list(session.execute(query).scalars())
