"""`poll_once`: fetch what the ledger has not seen, take each message in on its own, send what is due.
The one catch-all per message lives here: a message whose processing raised is recorded as failed with
its traceback, set aside for a person, and the poll goes on. A failure of the bot's own storage (disk full,
database locked, a read-only folder) is no fault of the message: the poll stops there, loudly, and the
message stays new for the next poll."""

from __future__ import annotations

import datetime as dt
import errno
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.intake import Intake, Services, describe, note_known_copy, take_in_mail
from bot.ledger import ledger, owed
from bot.ledger.schema import MessageRow
from bot.mailbox.port import Fetched, Mailbox, MessageRef
from bot.rawstore import RawStore
from bot.spool import Spool, read_mail
from parsers.message import Mail

log = logging.getLogger(__name__)
# OSErrors that say the bot's storage cannot be written, whatever message is being written.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO})


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
    store: RawStore,
    services: Services,
    now: Callable[[], dt.datetime],
    *,
    dry_run: bool = False,
    reply_backlog: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> PollReport:
    report = PollReport()
    with Session(engine) as session:
        known = ledger.known_refs(session, mailbox.name)
        # Not "no refs yet": a first poll of an empty mailbox records no ref, and the first mail after
        # it would be taken for backlog and never answered.
        first_run = ledger.last_poll(session, mailbox.name) is None
    refs = mailbox.list_refs()
    if not dry_run:
        _make_owed_marks(mailbox, engine, refs)
    new = [ref for ref in refs if (ref.uidvalidity, ref.uid) not in known]
    report.seen, report.new = len(refs), len(new)
    report.backlog = first_run and bool(new) and not reply_backlog
    for done, fetched in enumerate(mailbox.fetch(new), start=1):
        intake = _take_one(fetched, engine, store, services, now(), report, dry_run)
        # A failed message stays unmarked: staff see it where it arrived, not among the processed.
        if not dry_run and intake is not None and intake.status != "failed":
            mailbox.mark_processed(fetched.ref)
        if progress:
            progress(done, len(new))
    if not dry_run:
        with Session(engine) as session, session.begin():
            owed.strike_marks(session, mailbox.name)
            ledger.record_poll(session, mailbox.name, now())
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


def _take_one(
    fetched: Fetched,
    engine: Engine,
    store: RawStore,
    services: Services,
    now: dt.datetime,
    report: PollReport,
    dry_run: bool,
) -> Intake | None:
    # Before anything else: the raw bytes on disk. If this fails (disk full) the poll stops here.
    stored = _store(store, fetched, dry_run)
    mail: Mail | None = None  # kept for the failure record: who wrote, about what
    with Spool(services.spool) as spool:  # the message's big photos and videos, while it is taken in
        try:
            with Session(engine) as session:
                intake = note_known_copy(session, fetched, stored, now)
                if intake is None:
                    mail = read_mail(fetched, services.own_addresses, services.authserv_ids, spool)
                    intake = take_in_mail(session, fetched, stored, mail, services, now, report.backlog)
                if dry_run:
                    session.rollback()
                else:
                    # Marked in the mailbox once committed; owed until the poll ends, in case it ends early.
                    owed.owe_mark(session, fetched.ref, now)
                    session.commit()
        except Exception as exc:  # the one catch-all: record, set aside, carry on
            if storage_failure(exc):
                raise
            if dry_run:
                log.exception("message %s would fail", fetched.ref.uid)
                report.failed += 1
                return None
            intake = record_failure(engine, fetched, stored, traceback.format_exc(), now, mail)
    report.intakes.append(intake)
    _count(report, intake)
    return intake


def _store(store: RawStore, fetched: Fetched, dry_run: bool) -> tuple[str, str]:
    if fetched.spooled is not None:
        return store.address_file(fetched.spooled) if dry_run else store.put_file(fetched.spooled)
    return store.address(fetched.raw) if dry_run else store.put(fetched.raw)


def storage_failure(exc: BaseException) -> bool:
    """The database or the disk refused a write (or is locked): no fault of the message being taken in."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OperationalError):
            return True
        if isinstance(seen, OSError) and seen.errno in STORAGE_ERRNOS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


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


def record_failure(
    engine: Engine, fetched: Fetched, stored: tuple[str, str], trace: str, now: dt.datetime, mail: Mail | None = None
) -> Intake:
    """A message that could not be processed: kept, with why (and, when it was read, who wrote about what),
    for `subbot retry` and the digest."""
    sha, raw_path = stored
    with Session(engine) as session, session.begin():
        message = ledger.find_by_sha(session, sha)
        if message is None:
            message = MessageRow(
                sha256=sha,
                raw_path=raw_path,
                size=fetched.size,
                arrived_at=ledger.utc(fetched.arrived),
                recorded_at=ledger.utc(now),
                status="failed",
                attempts=1,
            )
            session.add(message)
        else:
            message.status, message.attempts = "failed", message.attempts + 1
        if mail is not None:
            describe(message, mail, fetched)
        message.error = trace
        session.flush()
        ledger.add_ref(session, fetched.ref, message, now)
        log.error("message %s failed and was set aside: %s", message.id, trace.strip().splitlines()[-1])
        return Intake(message.id, "failed", message.kind, "none")
