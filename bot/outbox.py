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
    sent = deferred = failed = 0
    with Session(engine) as session:
        due = [reply.id for reply in ledger.pending_replies(session, now())]
    for reply_id in due:
        with Session(engine) as session, session.begin():
            reply = session.get(ReplyRow, reply_id)
            if reply is None or reply.status != "pending":
                continue
            reply.attempts += 1
            try:
                mailer.send(reply.raw, from_address, [reply.to_address])
            except SendTemporary as exc:
                reply.last_error = str(exc)
                reply.next_attempt_at = ledger.utc(now() + _wait(reply.attempts))
                deferred += 1
                log.warning("reply %s deferred (attempt %d): %s", reply.id, reply.attempts, type(exc).__name__)
                continue
            except SendPermanent as exc:
                reply.status, reply.last_error = "failed", str(exc)
                failed += 1
                log.error("reply %s refused by the SMTP server: %s", reply.id, exc.code)
                continue
            reply.status, reply.sent_at = "sent", ledger.utc(now())
            raw = reply.raw
        sent += 1
        if keep_copy is not None:
            _keep(keep_copy, raw, reply_id)
    return FlushReport(sent, deferred, failed)


def _wait(attempts: int) -> dt.timedelta:
    return BACKOFF[attempts - 1] if attempts <= len(BACKOFF) else LATER


def _keep(keep_copy: Callable[[bytes], None], raw: bytes, reply_id: int) -> None:
    # The copy in Sent is a courtesy to staff: failing to write it must not undo the sending.
    try:
        keep_copy(raw)
    except (OSError, MailboxError) as exc:
        log.warning("reply %s sent, but its copy was not kept in Sent: %s", reply_id, exc)
