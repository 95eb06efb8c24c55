"""Sending what the ledger queued: each reply is marked sent in its own transaction right after the SMTP
server accepts it, so a reply can be sent twice only if the bot dies inside that hand-off."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.ledger import ledger
from bot.ledger.schema import ReplyRow
from bot.mailbox.port import MailboxError
from bot.mailer import Mailer, SendPermanent, SendTemporary

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
    with Session(engine) as session:
        due = [reply.id for reply in ledger.pending_replies(session, now())]
    outcomes: list[str] = []
    for reply_id in due:
        outcome, raw = _send_one(engine, mailer, from_address, now, reply_id)
        outcomes.append(outcome)
        if outcome == "sent" and keep_copy is not None:
            _keep(keep_copy, raw, reply_id)
        if outcome == "server_down":
            # One try while the server is down, not one per reply: against a server that hangs, each
            # try costs the whole timeout. The others stay due and go first next time.
            log.warning("SMTP server unavailable: %d more replies left for the next round", len(due) - len(outcomes))
            break
    deferred = outcomes.count("deferred") + outcomes.count("server_down") + len(due) - len(outcomes)
    return FlushReport(outcomes.count("sent"), deferred, outcomes.count("failed"))


def _send_one(
    engine: Engine, mailer: Mailer, from_address: str, now: Callable[[], dt.datetime], reply_id: int
) -> tuple[str, bytes]:
    """Send one pending reply and record what happened: sent, deferred, server_down, failed or skipped."""
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
            reply.next_attempt_at = ledger.utc(now() + _wait(reply.attempts))
            log.warning("reply %s deferred (attempt %d): %s", reply.id, reply.attempts, type(exc).__name__)
            return ("server_down" if exc.code in SERVER_DOWN else "deferred"), b""
        except SendPermanent as exc:
            reply.status, reply.last_error = "failed", str(exc)
            log.error("reply %s refused by the SMTP server: %s", reply.id, exc.code)
            return "failed", b""
        reply.status, reply.sent_at = "sent", ledger.utc(now())
        return "sent", reply.raw


def _wait(attempts: int) -> dt.timedelta:
    return BACKOFF[attempts - 1] if attempts <= len(BACKOFF) else LATER


def _keep(keep_copy: Callable[[bytes], None], raw: bytes, reply_id: int) -> None:
    # The copy in Sent is a courtesy to staff: failing to write it must not undo the sending.
    try:
        keep_copy(raw)
    except (OSError, MailboxError) as exc:
        log.warning("reply %s sent, but its copy was not kept in Sent: %s", reply_id, exc)
