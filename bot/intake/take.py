"""One fetched message, start to finish inside one transaction: kept on disk, read, examined, recorded, answered.

`take_one` holds the one catch-all per message, for a poll and for `subbot retry` alike: a message whose
processing raised is recorded as failed with its traceback, set aside for a person, and the caller goes on. A
failure of the bot's own storage (disk full, database locked, a read-only folder) is no fault of the message:
it is raised, and the message stays new for the next poll."""

from __future__ import annotations

import datetime as dt
import errno
import logging
import traceback
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.intake.answer import queue_answer
from bot.intake.decide import Routing
from bot.intake.examine import Release, examine
from bot.intake.read import read_mail
from bot.intake.record import describe, record_decision, record_summary
from bot.intake.senders import learn_sender, learned_addresses
from bot.intake.services import Services
from bot.intake.staff_mail import take_staff_mail
from bot.ledger import history, owed, queries
from bot.ledger.schema import MessageRow
from bot.mailbox.port import Fetched, MessageRef
from bot.store.content import RAW_SUFFIX, ContentStore, sha256_of, sha256_of_file
from bot.store.spills import SpillFolder
from bot.summary.records import History
from parsers.message import Mail
from parsers.staff import staff_sender

log = logging.getLogger(__name__)
# OSErrors that say the bot's storage cannot be written, whatever message is being written.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO})
Stored = tuple[str, str]  # (sha256, path in the raw store): the raw bytes are hashed once


@dataclass(frozen=True)
class Intake:
    """What happened to one fetched message, for the poll report and logs (no personal data)."""

    message_pk: int
    status: str  # processed | duplicate | known | failed
    kind: str
    reply: str  # ack | correction | none | suppressed


def keep_raw(store: ContentStore, fetched: Fetched, dry_run: bool = False) -> Stored:
    """The raw bytes on disk before anything else (a dry run only works out where they would go)."""
    if fetched.spooled is not None:
        sha = sha256_of_file(fetched.spooled)
        relative = store.relative(sha, RAW_SUFFIX) if dry_run else store.put_file(fetched.spooled, sha, RAW_SUFFIX)
    else:
        sha = sha256_of(fetched.raw)
        relative = store.relative(sha, RAW_SUFFIX) if dry_run else store.put(fetched.raw, sha, RAW_SUFFIX)
    return sha, relative


def take_one(
    engine: Engine,
    fetched: Fetched,
    stored: Stored,
    services: Services,
    now: dt.datetime,
    *,
    backlog: bool = False,
    dry_run: bool = False,
    owe_mark: bool = True,
    existing: int | None = None,
) -> Intake | None:
    """Take in one message in its own transaction; with `owe_mark`, its processed mark in the mailbox is owed
    in that transaction (made by the poll, or by the next one). `existing` is the ledger's id of a message
    taken in before and failed (`subbot retry`). None only for a dry run's failure, which records nothing."""
    mail: Mail | None = None  # kept for the failure record: who wrote, about what
    with SpillFolder(services.spills) as spills:  # the message's big parts, while it is taken in
        try:
            with Session(engine) as session:
                known = session.get(MessageRow, existing) if existing is not None else None
                intake = note_known_copy(session, fetched, stored, now, known)
                if intake is None:
                    mail = read_mail(fetched, services.own_addresses, services.authserv_ids, spills)
                    intake = take_in_mail(session, fetched, stored, mail, services, now, backlog, known)
                if dry_run:
                    session.rollback()
                    return intake
                if owe_mark:  # marked in the mailbox once committed; owed until then, in case the poll ends early
                    owed.owe_mark(session, fetched.ref, now)
                session.commit()
                return intake
        except Exception as exc:  # the one catch-all per message: record, set aside, carry on
            if storage_failure(exc):
                raise
            if dry_run:
                log.exception("message %s would fail", fetched.ref.uid)
                return None
            return record_failure(engine, fetched, stored, traceback.format_exc(), now, mail)


def note_known_copy(
    session: Session, fetched: Fetched, stored: Stored, now: dt.datetime, existing: MessageRow | None = None
) -> Intake | None:
    """The same bytes seen again (another UID, a new UIDVALIDITY): the new ref is recorded, nothing else."""
    same_bytes = existing or queries.find_by_sha(session, stored[0])
    if same_bytes is None or same_bytes.status == "failed":
        return None
    queries.add_ref(session, fetched.ref, same_bytes, now)
    return Intake(same_bytes.id, "known", same_bytes.kind, "none")


def take_in_mail(
    session: Session,
    fetched: Fetched,
    stored: Stored,
    mail: Mail,
    services: Services,
    now: dt.datetime,
    backlog: bool,
    existing: MessageRow | None = None,
    release: Release | None = None,
) -> Intake:
    """A parsed message not yet taken in (or failed before, or released by staff): recorded, examined, its
    answer queued. A staff address's mail is read for commands instead (bot.intake.staff_mail)."""
    sha, raw_path = stored
    message = (
        existing
        or queries.find_by_sha(session, sha)
        or MessageRow(sha256=sha, raw_path=raw_path, size=fetched.size, recorded_at=queries.utc(now), status="processing")
    )
    describe(message, mail, fetched)
    session.add(message)
    original = queries.find_same_message(session, mail.message_id, mail.sender.address)
    if original is not None and original is not message:
        message.status, message.duplicate_of, message.kind = "duplicate", original.id, mail.kind
        session.flush()
        queries.add_ref(session, fetched.ref, message, now)
        return Intake(message.id, "duplicate", mail.kind, "none")
    check = staff_sender(mail, services.staff_addresses, services.staff_checks)
    if check.staff_address and release is None:
        session.flush()
        queries.add_ref(session, fetched.ref, message, now)
        reply = take_staff_mail(session, message, mail, check, services, now, backlog, retake)
        return Intake(message.id, "processed", message.kind, reply)
    to = (mail.reply_to or mail.sender).address
    replies_today = queries.replies_on_day(session, to, _day_start(fetched.arrived, services))

    def history_of(mail: Mail, routing: Routing) -> History:
        branch = routing.branch.name if routing.branch else None
        return history.branch_history(session, branch, mail.sender.address)

    learned = learned_addresses(session)
    decision = examine(mail, services, fetched.arrived, history_of, replies_today, release, learned)
    message.status = "processed"
    session.flush()
    record_decision(session, message, decision)
    learn_sender(session, message, decision, services.ctx, now)
    record_summary(session, message, decision, services.media)
    message.receipt = queries.receipt_for(message, services.ctx.campaign.year)
    queries.add_ref(session, fetched.ref, message, now)
    reply = queue_answer(session, message, mail, decision, services, now, backlog) if decision.reply != "none" else "none"
    return Intake(message.id, "processed", message.kind, reply)


def retake(session: Session, message_pk: int, services: Services, now: dt.datetime, release: Release) -> Intake:
    """A mail taken in before, taken in again from its stored copy as staff said (released, credited to a
    branch): what deciding it wrote is forgotten, and it is decided anew; what it was answered stays."""
    row = session.get(MessageRow, message_pk)
    if row is None or services.raw is None:
        raise LookupError(f"message {message_pk} is not in the ledger, or no raw store to read it from")
    ref = row.refs[0] if row.refs else None
    fetched = Fetched(  # read from the stored copy as a file: a big one is never held whole
        MessageRef(ref.mailbox, ref.uidvalidity, ref.uid) if ref else MessageRef("retake", 0, row.sha256),
        b"",
        queries.aware(row.arrived_at),
        spooled=services.raw.path(row.raw_path),
    )
    queries.forget_decision(session, row)
    with SpillFolder(services.spills) as spills:
        mail = read_mail(fetched, services.own_addresses, services.authserv_ids, spills)
        return take_in_mail(session, fetched, (row.sha256, row.raw_path), mail, services, now, False, row, release)


def _day_start(arrived: dt.datetime, services: Services) -> dt.datetime:
    zone = services.ctx.campaign.zone
    return dt.datetime.combine(arrived.astimezone(zone).date(), dt.time(0, 0), tzinfo=zone)


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


def record_failure(
    engine: Engine, fetched: Fetched, stored: Stored, trace: str, now: dt.datetime, mail: Mail | None = None
) -> Intake:
    """A message that could not be processed: kept, with why (and, when it was read, who wrote about what),
    for `subbot retry` and the digest."""
    sha, raw_path = stored
    with Session(engine) as session, session.begin():
        message = queries.find_by_sha(session, sha)
        if message is None:
            message = MessageRow(
                sha256=sha,
                raw_path=raw_path,
                size=fetched.size,
                arrived_at=queries.utc(fetched.arrived),
                recorded_at=queries.utc(now),
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
        queries.add_ref(session, fetched.ref, message, now)
        log.error("message %s failed and was set aside: %s", message.id, trace.strip().splitlines()[-1])
        return Intake(message.id, "failed", message.kind, "none")
