"""`queue_letter`: every mail the bot sends — a receipt, a correction, a reminder, a digest — composed once and
written to the outbox (the ledger's replies table) inside the caller's transaction; `outbox.flush_outbox`
sends it. The Message-ID is made here from the letter's key, so the ledger's unique key refuses a second
copy of the same letter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.ledger.queries import utc
from bot.ledger.schema import ReplyRow
from bot.outgoing.compose import FileToAttach, Thread, compose
from replies.render import Rendered, Renderer


@dataclass(frozen=True)
class Letterhead:
    """Who the bot writes as, and the templates it writes with."""

    renderer: Renderer
    from_name: str
    from_address: str

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "localhost"


@dataclass(frozen=True)
class Letter:
    kind: str  # ack | correction | reminder | digest
    rendered: Rendered
    to: str
    key: str  # the Message-ID's left part: what makes this letter the one it is (receipt, day, recipient...)
    marker: str  # the X-Subbot-Reply header: how the bot knows its own mail when it comes back
    thread: Thread | None = None
    files: Sequence[FileToAttach] = ()
    auto_submitted: str = "auto-replied"  # RFC 3834: auto-generated for a digest
    message_pk: int | None = None  # the mail it answers (one answer a mail)
    about_pk: int | None = None  # a mail it is about beside that answer: staff's letters, a released mail's answer
    branch: str | None = None
    deliverable: str | None = None
    for_day: dt.date | None = None  # reminders and digests: the local day it is for
    reason: str = ""
    suppressed: bool = False  # recorded, never sent (mail that was in the mailbox before the bot started)


def message_id(letterhead: Letterhead, key: str) -> str:
    return f"<{key}@{letterhead.domain}>"


def queue_letter(session: Session, letterhead: Letterhead, letter: Letter, now: dt.datetime) -> ReplyRow:
    outgoing_id = message_id(letterhead, letter.key)
    raw = compose(
        letter.rendered,
        (letterhead.from_name, letterhead.from_address),
        letter.to,
        letter.thread,
        outgoing_id,
        now,
        letter.marker,
        letter.files,
        auto_submitted=letter.auto_submitted,
    )
    row = ReplyRow(
        message_pk=letter.message_pk,
        about_pk=letter.about_pk,
        kind=letter.kind,
        branch=letter.branch,
        deliverable=letter.deliverable,
        for_day=letter.for_day,
        to_address=letter.to,
        subject=letter.rendered.subject,
        outgoing_id=outgoing_id,
        raw=raw,
        status="suppressed" if letter.suppressed else "pending",
        reason=letter.reason,
        created_at=utc(now),
    )
    session.add(row)
    return row
