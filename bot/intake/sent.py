"""Held mail staff answered themselves from the shared mailbox: their answer in the Sent folder, threaded to it (its
In-Reply-To or References), marks it handled as `subbot done` would, by "mailbox". Looked for at each poll, and
only while some held mail waits: the Sent folder's headers are read, never its bodies."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.intake.services import Services
from bot.ledger.overrides import handled
from bot.ledger.schema import MessageRow, ReplyRow
from bot.mailbox.port import Mailbox, MailboxError
from bot.staff.actions import Staff, carry_out, held
from parsers.staff import StaffCommand

log = logging.getLogger(__name__)
WHO, VIA = "mailbox", "sent"
NOTE = "工作人员已从邮箱直接回复"
KINDS = ("for_person", "unauthenticated", "submission", "link")


def mark_answered_from_sent(mailbox: Mailbox, engine: Engine, services: Services, now: dt.datetime) -> int:
    """Returns how many held mails were marked handled."""
    with Session(engine) as session:
        waiting = _waiting(session)
    if not waiting:
        return 0
    try:
        answered = mailbox.answered_in_sent()
    except MailboxError as exc:  # the Sent folder unreadable: intake goes on, the mail stays listed for a person
        log.warning("cannot read the Sent folder for staff's answers: %s", exc)
        return 0
    settled = [pk for message_id, pk in waiting.items() if message_id in answered]
    if not settled:
        return 0
    staff = Staff(services.ctx, services.letterhead, WHO, VIA, now)
    with Session(engine) as session, session.begin():
        for pk in settled:
            message = session.get(MessageRow, pk)
            if message is not None and message.receipt:
                carry_out(session, StaffCommand("done", message.receipt, None, None, NOTE, f"已处理 {message.receipt}"), staff)
    log.info("%d held mails answered by staff from the mailbox: marked handled", len(settled))
    return len(settled)


def _waiting(session: Session) -> dict[str, int]:
    """Held mail not yet handled, by Message-ID."""
    done = handled(session)
    answered = {pk for pair in session.execute(select(ReplyRow.message_pk, ReplyRow.about_pk)) for pk in pair if pk}
    rows = session.execute(
        select(MessageRow).where(
            MessageRow.status == "processed", MessageRow.kind.in_(KINDS), MessageRow.message_id != ""
        )
    ).scalars()
    return {
        row.message_id: row.id
        for row in rows
        if row.id not in done and row.receipt and held(row, row.id in answered)
    }
