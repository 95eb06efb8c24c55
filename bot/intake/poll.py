"""`poll_once`: fetch what the ledger has not seen, take each message in on its own (`take.take_one`, with the
one catch-all per message), mark what was taken in as processed in the mailbox."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.intake.senders import reassign
from bot.intake.sent import mark_answered_from_sent
from bot.intake.services import Services
from bot.intake.take import Intake, keep_raw, take_one
from bot.ledger import owed, queries
from bot.mailbox.port import Fetched, Mailbox, MessageRef
from bot.store.content import ContentStore

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    seen: int = 0
    new: int = 0
    processed: int = 0
    duplicates: int = 0
    failed: int = 0
    replies: dict[str, int] = field(default_factory=dict)
    backlog: bool = False
    intakes: list[Intake] = field(default_factory=list)


def poll_once(
    mailbox: Mailbox,
    engine: Engine,
    store: ContentStore,
    services: Services,
    now: Callable[[], dt.datetime],
    *,
    dry_run: bool = False,
    reply_backlog: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> PollReport:
    report = PollReport()
    with Session(engine) as session:
        known = queries.known_refs(session, mailbox.name)
        # Not "no refs yet": a first poll of an empty mailbox records no ref, and the first mail after
        # it would be taken for backlog and never answered.
        first_run = queries.last_poll(session, mailbox.name) is None
    refs = mailbox.list_refs()
    if not dry_run:
        _make_owed_marks(mailbox, engine, refs)
        with Session(engine) as session, session.begin():  # an address added since: its mail moves to its branch
            reassign(session, services.ctx)
    new = [ref for ref in refs if (ref.uidvalidity, ref.uid) not in known]
    report.seen, report.new = len(refs), len(new)
    report.backlog = first_run and bool(new) and not reply_backlog
    for done, fetched in enumerate(mailbox.fetch(new), start=1):
        intake = _take(fetched, engine, store, services, now(), report, dry_run)
        # A failed message stays unmarked: staff see it where it arrived, not among the processed.
        if not dry_run and intake is not None and intake.status != "failed":
            mailbox.mark_processed(fetched.ref)
        if progress:
            progress(done, len(new))
    if not dry_run:
        mark_answered_from_sent(mailbox, engine, services, now())
        with Session(engine) as session, session.begin():
            owed.strike_marks(session, mailbox.name)
            queries.record_poll(session, mailbox.name, now())
    return report


def _make_owed_marks(mailbox: Mailbox, engine: Engine, refs: list[MessageRef]) -> None:
    """Marks a poll that died (or lost its connection) after recording a message did not get to make.
    Making one twice is harmless; one no longer in the folder is struck off with the rest at the end."""
    with Session(engine) as session:
        due = set(owed.marks_owed(session, mailbox.name)) & set(refs)
    for ref in sorted(due, key=refs.index):
        mailbox.mark_processed(ref)
    if due:
        log.info("%d messages recorded by an earlier poll are marked processed now", len(due))


def _take(
    fetched: Fetched,
    engine: Engine,
    store: ContentStore,
    services: Services,
    now: dt.datetime,
    report: PollReport,
    dry_run: bool,
) -> Intake | None:
    # Before anything else: the raw bytes on disk. If this fails (disk full) the poll stops here.
    stored = keep_raw(store, fetched, dry_run)
    intake = take_one(engine, fetched, stored, services, now, backlog=report.backlog, dry_run=dry_run)
    if intake is None:
        report.failed += 1
        return None
    report.intakes.append(intake)
    _count(report, intake)
    return intake


def _count(report: PollReport, intake: Intake) -> None:
    if intake.status == "failed":
        report.failed += 1
    elif intake.status == "duplicate":
        report.duplicates += 1
    elif intake.status == "processed":
        report.processed += 1
    if intake.reply != "none":
        report.replies[intake.reply] = report.replies.get(intake.reply, 0) + 1
    log.info("message %s: %s, %s, reply %s", intake.message_pk, intake.status, intake.kind, intake.reply)
