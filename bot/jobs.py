"""The daily jobs, each safe to run any number of times a day: the ledger, not the scheduler, decides
whether today's reminder or digest was already queued. `now` is always an argument (`--now` rehearsals)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App, open_mailer
from bot.compose import Thread, compose
from bot.digest.mail import queue_digest
from bot.intake import DELIVERABLE_NAMES, Services
from bot.ledger import ledger
from bot.ledger.schema import FindingRow, MessageRow, ReplyRow
from bot.outbox import flush_outbox
from bot.reminders import Reminder, reminders_due
from bot.scheduler import DailyJob
from bot.status import branch_statuses

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemindReport:
    queued: int
    skipped_no_address: int


def queue_reminders(session: Session, services: Services, now: dt.datetime) -> RemindReport:
    """Queue today's reminders in the outbox (the caller commits; `flush_outbox` sends them)."""
    roster = services.ctx.roster
    due = reminders_now(session, services, now)
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
        session.add(_reminder_row(session, services, reminder, to, last, now))
        queued += 1
    log.info("reminders: %d queued, %d branches without an address", queued, skipped)
    return RemindReport(queued, skipped)


def reminders_now(session: Session, services: Services, now: dt.datetime) -> tuple[Reminder, ...]:
    """The reminders due now, leaving out branches already reminded today (what `--dry-run` lists)."""
    campaign = services.ctx.campaign
    today = now.astimezone(campaign.zone).date()
    done = select(ReplyRow.branch).where(ReplyRow.kind == "reminder", ReplyRow.for_day == today)
    reminded = {branch for branch in session.execute(done).scalars() if branch}
    return reminders_due(branch_statuses(session, services.ctx.roster), campaign, now, reminded)


def _last_mail(session: Session, branch: str, deliverable: str) -> MessageRow | None:
    query = (
        select(MessageRow)
        .where(MessageRow.branch == branch, MessageRow.kind == "submission", MessageRow.status == "processed")
        .order_by((MessageRow.deliverable == deliverable).desc(), MessageRow.arrived_at.desc())
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none()


def _reminder_row(
    session: Session, services: Services, reminder: Reminder, to: str, last: MessageRow | None, now: dt.datetime
) -> ReplyRow:
    campaign = services.ctx.campaign
    corrections: list[str] = []
    if last is not None and reminder.reason == "correction":
        corrections = list(
            session.execute(
                select(FindingRow.message).where(FindingRow.message_pk == last.id, FindingRow.severity == "error")
            ).scalars()
        )
    context = {
        "office": campaign.office.name,
        "campaign": campaign.name,
        "branch": reminder.branch,
        "deliverable_name": DELIVERABLE_NAMES[reminder.deliverable],
        "deadline": f"{campaign.last_day(reminder.deliverable):%Y年%m月%d日}24时",
        "days_left": reminder.days_left,
        "reason": reminder.reason,
        "receipt": last.receipt if last is not None and reminder.reason == "correction" else "",
        "corrections": corrections,
    }
    rendered = services.renderer.render("reminder", context)
    domain = services.from_address.rpartition("@")[2] or "localhost"
    branch_id = hashlib.sha256(reminder.branch.encode()).hexdigest()[:12]
    outgoing_id = f"<reminder.{reminder.deliverable}.{reminder.day:%Y%m%d}.{branch_id}@{domain}>"
    thread = Thread(last.message_id, (), last.subject) if last is not None and last.message_id else None
    raw = compose(
        rendered,
        (services.from_name, services.from_address),
        to,
        thread,
        outgoing_id,
        now,
        f"reminder-{reminder.day:%Y%m%d}",
    )
    return ReplyRow(
        message_pk=None,
        kind="reminder",
        branch=reminder.branch,
        deliverable=reminder.deliverable,
        for_day=reminder.day,
        to_address=to,
        subject=rendered.subject,
        outgoing_id=outgoing_id,
        raw=raw,
        status="pending",
        reason=reminder.reason,
        created_at=ledger.utc(now),
    )


def daily_jobs(app: App, now: Callable[[], dt.datetime]) -> list[DailyJob]:
    """`subbot run`'s scheduled work: reminders at the campaign's hour, the digest at the settings' hour.
    Each holds the poll lock (its outbox flush must not overlap a poll's) and the jobs lock (one instance)."""

    def flush() -> None:
        flush_outbox(app.engine, open_mailer(app.settings), app.settings.bot.from_address, now)

    def remind() -> None:
        with _held(app):
            with Session(app.engine) as session, session.begin():
                queue_reminders(session, app.services, now())
            flush()

    def digest() -> None:
        with _held(app):
            with Session(app.engine) as session, session.begin():
                queue_digest(session, app.services, app.settings.digest.to, now())
            flush()

    jobs = [DailyJob("reminders", app.campaign.reminders.at, remind)]
    if app.settings.digest.to:
        jobs.append(DailyJob("digest", app.settings.digest.hour, digest))
    return jobs


@contextmanager
def _held(app: App) -> Iterator[None]:
    """The poll lock and the jobs lock, waiting for each; with a SQLite ledger they are one lock file."""
    with ExitStack() as stack:
        stack.enter_context(app.poll_lock.hold(wait=True))
        if app.jobs_lock != app.poll_lock:
            stack.enter_context(app.jobs_lock.hold(wait=True))
        yield
