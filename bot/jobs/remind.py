"""Today's reminders queued in the outbox: to roster branches without an accepted deliverable (at the roster
address) and to those whose correction is outstanding (at the address that sent it, threaded to it). Safe to run
any number of times a day: the ledger, not the scheduler, says whether a branch was reminded today."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import wording
from bot.jobs.reminders import Reminder, reminders_due
from bot.ledger.schema import FindingRow, MessageRow, ReplyRow
from bot.ledger.status import branch_statuses
from bot.outgoing.compose import Thread
from bot.outgoing.queue import Letter, Letterhead, queue_letter
from config import Context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemindReport:
    queued: int
    skipped_no_address: int


def queue_reminders(session: Session, ctx: Context, letterhead: Letterhead, now: dt.datetime) -> RemindReport:
    """Queue today's reminders in the outbox (the caller commits; `flush_outbox` sends them)."""
    roster = ctx.roster
    due = reminders_now(session, ctx, now)
    queued = skipped = 0
    for reminder in due:
        branch = next(b for b in roster.branches if b.name == reminder.branch)
        last = _last_mail(session, reminder.branch, reminder.deliverable)
        to = last.sender if last is not None and reminder.reason == "correction" else None
        to = to or (branch.emails[0] if branch.emails else None)
        if not to:
            skipped += 1
            log.warning("no address to remind a roster branch (deliverable %s)", reminder.deliverable)
            continue
        queue_letter(session, letterhead, _reminder(session, ctx, letterhead, reminder, to, last), now)
        queued += 1
    log.info("reminders: %d queued, %d branches without an address", queued, skipped)
    return RemindReport(queued, skipped)


def reminders_now(session: Session, ctx: Context, now: dt.datetime) -> tuple[Reminder, ...]:
    """The reminders due now, leaving out branches already reminded today (what `--dry-run` lists)."""
    campaign = ctx.campaign
    today = now.astimezone(campaign.zone).date()
    done = select(ReplyRow.branch).where(ReplyRow.kind == "reminder", ReplyRow.for_day == today)
    reminded = {branch for branch in session.execute(done).scalars() if branch}
    return reminders_due(branch_statuses(session, ctx.roster), campaign, now, reminded)


def _last_mail(session: Session, branch: str, deliverable: str) -> MessageRow | None:
    query = (
        select(MessageRow)
        .where(MessageRow.branch == branch, MessageRow.kind == "submission", MessageRow.status == "processed")
        .order_by((MessageRow.deliverable == deliverable).desc(), MessageRow.arrived_at.desc())
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none()


def _reminder(
    session: Session, ctx: Context, letterhead: Letterhead, reminder: Reminder, to: str, last: MessageRow | None
) -> Letter:
    campaign = ctx.campaign
    correcting = last is not None and reminder.reason == "correction"
    corrections: list[str] = []
    if last is not None and correcting:
        corrections = list(
            session.execute(
                select(FindingRow.message).where(FindingRow.message_pk == last.id, FindingRow.severity == "error")
            ).scalars()
        )
    context = {
        "office": campaign.office.name,
        "campaign": campaign.name,
        "branch": reminder.branch,
        "deliverable_name": wording.deliverable_in_letter(reminder.deliverable),
        "deadline": wording.deadline(campaign.last_day(reminder.deliverable)),
        "days_left": reminder.days_left,
        "reason": reminder.reason,
        "receipt": last.receipt if last is not None and correcting else "",
        "corrections": corrections,
    }
    branch_id = hashlib.sha256(reminder.branch.encode()).hexdigest()[:12]
    return Letter(
        kind="reminder",
        rendered=letterhead.renderer.render("reminder", context),
        to=to,
        key=f"reminder.{reminder.deliverable}.{reminder.day:%Y%m%d}.{branch_id}",
        marker=f"reminder-{reminder.day:%Y%m%d}",
        thread=Thread(last.message_id, (), last.subject) if last is not None and last.message_id else None,
        branch=reminder.branch,
        deliverable=reminder.deliverable,
        for_day=reminder.day,
        reason=reminder.reason,
    )
