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

from bot.compose import FileToAttach, compose
from bot.digest.model import Digest, build_digest
from bot.digest.query import read_snapshot
from bot.digest.rollup import rollup_name, write_rollup
from bot.digest.view import render_digest
from bot.intake import Services
from bot.ledger import ledger
from bot.ledger.schema import ReplyRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DigestReport:
    day: dt.date
    queued: int
    already: int  # addresses that already had today's digest


def queue_digest(session: Session, services: Services, staff: Sequence[str], now: dt.datetime) -> DigestReport:
    campaign = services.ctx.campaign
    day = now.astimezone(campaign.zone).date()
    done = set(
        session.execute(select(ReplyRow.to_address).where(ReplyRow.kind == "digest", ReplyRow.for_day == day)).scalars()
    )
    due = [address for address in dict.fromkeys(staff) if address not in done]
    if not due:
        return DigestReport(day, 0, len(staff))
    digest = current_digest(session, services, now)
    for address in due:
        session.add(digest_row(digest, services, address, now))
    log.info("digest for %s: %d queued, %d already queued today", day, len(due), len(staff) - len(due))
    return DigestReport(day, len(due), len(staff) - len(due))


def current_digest(session: Session, services: Services, now: dt.datetime) -> Digest:
    ctx = services.ctx
    return build_digest(read_snapshot(session, ctx.roster, now), ctx.roster, ctx.campaign, now)


def digest_row(digest: Digest, services: Services, address: str, now: dt.datetime) -> ReplyRow:
    """One staff member's digest mail as an outbox row: HTML and text alternatives, the workbook attached."""
    name = rollup_name(digest)
    rendered = render_digest(digest, services.renderer, name)
    workbook = write_rollup(digest, services.ctx.campaign)
    outgoing_id = digest_id(digest.day, address, services.from_address)
    raw = compose(
        rendered,
        (services.from_name, services.from_address),
        address,
        None,
        outgoing_id,
        now,
        f"digest-{digest.day:%Y%m%d}",
        [FileToAttach(name, workbook)],
        auto_submitted="auto-generated",
    )
    return ReplyRow(
        message_pk=None,
        kind="digest",
        branch=None,
        deliverable=None,
        for_day=digest.day,
        to_address=address,
        subject=rendered.subject,
        outgoing_id=outgoing_id,
        raw=raw,
        status="pending",
        created_at=ledger.utc(now),
    )


def digest_id(day: dt.date, address: str, from_address: str) -> str:
    """The same (day, address) always gives the same Message-ID, so the ledger's unique key refuses a second."""
    domain = from_address.rpartition("@")[2] or "localhost"
    who = hashlib.sha256(address.lower().encode()).hexdigest()[:12]
    return f"<digest.{day:%Y%m%d}.{who}@{domain}>"
