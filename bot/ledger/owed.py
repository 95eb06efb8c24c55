"""Mailbox chores owed after a commit: marking a message processed, keeping a reply's copy in Sent. Each is
noted in the transaction that makes it due and struck off once done, so a process killed (or a connection
lost) between the commit and the IMAP command does the chore at its next start instead of never."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.ledger.queries import utc
from bot.ledger.schema import StateRow
from bot.mailbox.port import MessageRef

MARK = "owed-mark:"
COPY = "owed-copy:"


def owe_mark(session: Session, ref: MessageRef, now: dt.datetime) -> None:
    where = json.dumps([ref.mailbox, ref.uidvalidity, ref.uid], ensure_ascii=False)
    # The key is a digest: a Maildir's name is a path of any length, the key a column of 255.
    key = MARK + hashlib.sha256(where.encode()).hexdigest()
    session.merge(StateRow(key=key, value=where, updated_at=utc(now)))


def marks_owed(session: Session, mailbox: str) -> list[MessageRef]:
    return [ref for _, ref in _marks(session) if ref.mailbox == mailbox]


def strike_marks(session: Session, mailbox: str) -> None:
    """Every mark owed in `mailbox` is made: called once a poll has marked what it took in."""
    keys = [key for key, ref in _marks(session) if ref.mailbox == mailbox]
    if keys:
        session.execute(delete(StateRow).where(StateRow.key.in_(keys)))


def _marks(session: Session) -> list[tuple[str, MessageRef]]:
    rows = session.execute(select(StateRow.key, StateRow.value).where(StateRow.key.startswith(MARK)))
    return [(key, MessageRef(*json.loads(value))) for key, value in rows]


def owe_copy(session: Session, reply_id: int, now: dt.datetime) -> None:
    session.merge(StateRow(key=f"{COPY}{reply_id}", value="", updated_at=utc(now)))


def copies_owed(session: Session) -> list[int]:
    rows = session.execute(select(StateRow.key).where(StateRow.key.startswith(COPY)))
    return sorted(int(key.removeprefix(COPY)) for (key,) in rows)


def strike_copy(session: Session, reply_id: int) -> None:
    session.execute(delete(StateRow).where(StateRow.key == f"{COPY}{reply_id}"))
