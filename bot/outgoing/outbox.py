"""Sending what the ledger queued: each reply is marked sent in its own transaction right after the SMTP
server accepts it, so a reply can be sent twice only if the bot dies inside that hand-off."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.ledger import owed, queries
from bot.ledger.schema import ReplyRow
from bot.mailbox.port import MailboxError
from bot.outgoing.mailer import Mailer, SendPermanent, SendTemporary

log = logging.getLogger(__name__)
# Waits between attempts while the SMTP server is down or answering 4xx; then every six hours.
BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2))
LATER = dt.timedelta(hours=6)
# Temporary failures of the session rather than of one message, so every other reply would fail alike: no
# answer at all (refused, dropped, timed out, TLS), 421 "service not available" (RFC 5321 3.8), or the
# login refused (RFC 4954: 454, 530, 534, 535).
SERVER_DOWN = frozenset({None, 421, 454, 530, 534, 535})


@dataclass(frozen=True)
class FlushReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0


def flush_outbox(
    engine: Engine,
    mailer: Mailer,
    from_address: str,
    now: Callable[[], dt.datetime],
    keep_copy: Callable[[bytes], None] | None = None,
) -> FlushReport:
    if keep_copy is not None:
        _keep_owed_copies(engine, keep_copy)
    with Session(engine) as session:
        due = queries.due_reply_ids(session, now())
    outcomes: list[str] = []
    with mailer.session():  # one SMTP connection for the round, not one per reply
        for reply_id in due:
            outcome, raw = _send_one(engine, mailer, from_address, now, reply_id, keep_copy is not None)
            outcomes.append(outcome)
            if outcome == "sent" and keep_copy is not None:
                _keep(keep_copy, raw, reply_id)
                _copy_kept(engine, reply_id)
            if outcome == "server_down":
                # One try while the server is down, not one per reply: against a server that hangs, each
                # try costs the whole timeout. The others stay due and go first next time.
                left = len(due) - len(outcomes)
                log.warning("SMTP server unavailable: %d more replies left for the next round", left)
                break
    deferred = outcomes.count("deferred") + outcomes.count("server_down") + len(due) - len(outcomes)
    return FlushReport(outcomes.count("sent"), deferred, outcomes.count("failed"))


def _send_one(
    engine: Engine, mailer: Mailer, from_address: str, now: Callable[[], dt.datetime], reply_id: int, copy: bool
) -> tuple[str, bytes]:
    """Send one pending reply and record what happened: sent, deferred, server_down, failed or skipped.
    With `copy`, a copy in Sent is owed from the moment it is recorded as sent."""
    with Session(engine) as session, session.begin():
        # Row-locked while it is sent (PostgreSQL; SQLite has one writer anyway): an instance flushing the
        # same outbox at the same moment skips this reply rather than sending it a second time.
        reply = session.get(ReplyRow, reply_id, with_for_update={"skip_locked": True})
        if reply is None or reply.status != "pending":
            return "skipped", b""
        reply.attempts += 1
        try:
            mailer.send(reply.raw, from_address, [reply.to_address])
        except SendTemporary as exc:
            reply.last_error = str(exc)
            reply.next_attempt_at = queries.utc(now() + _wait(reply.attempts))
            log.warning("reply %s deferred (attempt %d): %s", reply.id, reply.attempts, type(exc).__name__)
            return ("server_down" if exc.code in SERVER_DOWN else "deferred"), b""
        except SendPermanent as exc:
            reply.status, reply.last_error = "failed", str(exc)
            log.error("reply %s refused by the SMTP server: %s", reply.id, exc.code)
            return "failed", b""
        reply.status, reply.sent_at = "sent", queries.utc(now())
        if copy:
            owed.owe_copy(session, reply.id, now())
        return "sent", reply.raw


def _wait(attempts: int) -> dt.timedelta:
    return BACKOFF[attempts - 1] if attempts <= len(BACKOFF) else LATER


def _keep_owed_copies(engine: Engine, keep_copy: Callable[[bytes], None]) -> None:
    """Copies in Sent of replies a flush that died sent without getting to keep them."""
    with Session(engine) as session:
        owed_ids = owed.copies_owed(session)
    for reply_id in owed_ids:
        with Session(engine) as session:
            reply = session.get(ReplyRow, reply_id)
            raw = reply.raw if reply is not None and reply.status == "sent" else b""
        if raw:
            _keep(keep_copy, raw, reply_id)
        _copy_kept(engine, reply_id)
    if owed_ids:
        log.info("%d copies in Sent an earlier round left undone are kept now", len(owed_ids))


def _copy_kept(engine: Engine, reply_id: int) -> None:
    # Kept, or failed and logged: either way not tried again (a Sent folder that refuses would be tried forever).
    with Session(engine) as session, session.begin():
        owed.strike_copy(session, reply_id)


def _keep(keep_copy: Callable[[bytes], None], raw: bytes, reply_id: int) -> None:
    # The copy in Sent is a courtesy to staff: failing to write it must not undo the sending.
    try:
        keep_copy(raw)
    except (OSError, MailboxError) as exc:
        log.warning("reply %s sent, but its copy was not kept in Sent: %s", reply_id, exc)
