"""What staff decided, as the ledger's other queries read it: which branches are exempt from a deliverable, and
which mail a person has taken care of. Staff's actions are written by bot.staff; here they are only read."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.ledger.schema import StaffActionRow


def exemptions(session: Session) -> set[tuple[str, str]]:
    """(branch, deliverable) pairs exempt now: the latest of their exempt and unexempt actions was exempt."""
    rows = session.execute(
        select(StaffActionRow.branch, StaffActionRow.deliverable, StaffActionRow.verb)
        .where(StaffActionRow.verb.in_(("exempt", "unexempt")), StaffActionRow.refused == "")
        .order_by(StaffActionRow.id)
    )
    latest: dict[tuple[str, str], str] = {}
    for branch, deliverable, verb in rows:
        if branch and deliverable:
            latest[(branch, deliverable)] = verb
    return {key for key, verb in latest.items() if verb == "exempt"}


def handled(session: Session) -> set[int]:
    """Mail a person took care of: marked done, answered by staff's own words or in Sent, released, credited or
    accepted; it is no longer listed as waiting for a person."""
    verbs = ("done", "ask", "release", "assign", "accept", "handled")
    query = select(StaffActionRow.message_pk).where(
        StaffActionRow.verb.in_(verbs), StaffActionRow.refused == "", StaffActionRow.message_pk.is_not(None)
    )
    return {pk for pk in session.execute(query).scalars() if pk is not None}
