"""A branch's addresses beyond the roster, learned from what it sent: the organiser cell of a plan credited to it,
the name a summary gives, or staff (`subbot assign … --add-address`). Queries and writes only; who a mail is
from is intake's to say. An address belongs to one branch at most: never moved silently to another."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.ledger.queries import utc
from bot.ledger.schema import KnownAddressRow
from config import Roster


def learned(session: Session) -> dict[str, KnownAddressRow]:
    """Every address learned and not forgotten, by address (lower-cased)."""
    rows = session.execute(
        select(KnownAddressRow).where(KnownAddressRow.forgotten_at.is_(None)).order_by(KnownAddressRow.id)
    ).scalars()
    return {row.address: row for row in rows}


def branch_of(session: Session, address: str, roster: Roster) -> str | None:
    """The branch an address belongs to: by the roster, else as learned."""
    branch = roster.find_by_address(address)
    if branch is not None:
        return branch.name
    row = learned(session).get(address.lower())
    return row.branch if row is not None else None


def learn(
    session: Session, address: str, branch: str, how: str, message_pk: int | None, now: dt.datetime
) -> KnownAddressRow | None:
    """The address learned for the branch (nothing new when it already is); None if it is another branch's, or
    staff took it back (`forget`) and it is not staff adding it again."""
    address = address.lower()
    known = learned(session).get(address)
    if known is not None:
        return known if known.branch == branch else None
    if how != "staff" and forgotten(session, address):
        return None
    row = KnownAddressRow(address=address, branch=branch, how=how, message_pk=message_pk, learned_at=utc(now))
    session.add(row)
    session.flush()
    return row


def forgotten(session: Session, address: str) -> bool:
    """Whether staff took the address back once."""
    query = select(KnownAddressRow.id).where(
        KnownAddressRow.address == address.lower(), KnownAddressRow.forgotten_at.is_not(None)
    )
    return session.execute(query.limit(1)).first() is not None


def forget(session: Session, address: str, now: dt.datetime) -> KnownAddressRow | None:
    row = learned(session).get(address.lower())
    if row is not None:
        row.forgotten_at = utc(now)
    return row
