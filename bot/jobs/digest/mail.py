"""`queue_digest`: today's digest, with the 汇总表 attached, queued in the outbox once per staff address
per local day (the caller commits; `flush_outbox` sends it). Safe to call any number of times a day."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.jobs.digest.model import Digest, build_digest
from bot.jobs.digest.query import read_snapshot
from bot.jobs.digest.rollup import rollup_name, write_rollup
from bot.jobs.digest.view import render_digest
from bot.ledger.schema import ReplyRow
from bot.outgoing.compose import FileToAttach
from bot.outgoing.queue import Letter, Letterhead, queue_letter
from config import Context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DigestReport:
    day: dt.date
    queued: int
    already: int  # addresses that already had today's digest


def queue_digest(
    session: Session, ctx: Context, letterhead: Letterhead, staff: Sequence[str], now: dt.datetime
) -> DigestReport:
    day = now.astimezone(ctx.campaign.zone).date()
    done = set(
        session.execute(select(ReplyRow.to_address).where(ReplyRow.kind == "digest", ReplyRow.for_day == day)).scalars()
    )
    due = [address for address in dict.fromkeys(staff) if address not in done]
    if not due:
        return DigestReport(day, 0, len(staff))
    digest = current_digest(session, ctx, now)
    name = rollup_name(digest)
    rendered = render_digest(digest, letterhead.renderer, name)
    workbook = FileToAttach(name, write_rollup(digest, ctx.campaign))
    for address in due:
        letter = Letter(
            kind="digest",
            rendered=rendered,
            to=address,
            key=digest_key(digest.day, address),
            marker=f"digest-{digest.day:%Y%m%d}",
            files=[workbook],
            auto_submitted="auto-generated",
            for_day=digest.day,
        )
        queue_letter(session, letterhead, letter, now)
    log.info("digest for %s: %d queued, %d already queued today", day, len(due), len(staff) - len(due))
    return DigestReport(day, len(due), len(staff) - len(due))


def current_digest(session: Session, ctx: Context, now: dt.datetime) -> Digest:
    return build_digest(read_snapshot(session, ctx.roster, now), ctx.roster, ctx.campaign, now)


def digest_key(day: dt.date, address: str) -> str:
    """The same (day, address) always gives the same Message-ID, so the ledger's unique key refuses a second."""
    who = hashlib.sha256(address.lower().encode()).hexdigest()[:12]
    return f"digest.{day:%Y%m%d}.{who}"
