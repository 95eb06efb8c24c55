"""Who a mail is from, beyond the roster. An address whose submission was credited to a branch by the form's
organiser cell, or by the branch's name in a summary, becomes one of that branch's known addresses (staff add
one with `subbot assign … --add-address`): later mail from it is that branch's, and its mail must pass the
receiving server's checks as a roster address's must. An address known for one branch that sends for another
is held for a person, never moved. Mail recorded before an address was known (added to the roster, or learned)
moves to its branch, and the branch's standing with it."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.intake.decide import Decision
from bot.ledger import addresses, queries
from bot.ledger.schema import MessageRow
from config import Context

log = logging.getLogger(__name__)
LEARNED_BY = {"organiser": "organiser", "named": "summary"}  # how a mail was credited -> how its address is known
# Mail that counts for a branch once its sender is known: not held mail (a person decides those), not our own.
MOVABLE = ("submission", "link", "for_person", "thanks")


def learned_addresses(session: Session) -> dict[str, str]:
    """Every address learned for a branch (and not forgotten): address -> branch."""
    return {address: row.branch for address, row in addresses.learned(session).items()}


def learn_sender(session: Session, message: MessageRow, decision: Decision, ctx: Context, now: dt.datetime) -> None:
    """The sender of a submission credited by its content becomes one of the branch's known addresses."""
    how = LEARNED_BY.get(decision.matched_by)
    if how is None or decision.branch is None or decision.kind != "submission":
        return
    if ctx.roster.find_by_address(message.sender) is not None:
        return
    if addresses.learn(session, message.sender, decision.branch.name, how, message.id, now) is not None:
        log.info("message %s: its sender is now a known address of a roster branch (%s)", message.id, how)


def reassign(session: Session, ctx: Context) -> int:
    """Mail recorded as from an unknown sender whose address is now the roster's or learned: moved to its
    branch. Returns how many moved."""
    known = learned_addresses(session)
    rows = session.execute(
        select(MessageRow).where(
            MessageRow.branch.is_(None), MessageRow.status == "processed", MessageRow.kind.in_(MOVABLE)
        )
    ).scalars()
    moved = 0
    for message in rows:
        branch = ctx.roster.find_by_address(message.sender)
        name = branch.name if branch is not None else known.get(message.sender)
        if name is not None:
            queries.credit(session, message, name, "address" if branch is not None else "learned")
            moved += 1
    if moved:
        log.info("%d messages from addresses now known moved to their branches", moved)
    return moved
