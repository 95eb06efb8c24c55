"""A mail from a staff address is read for commands, one a line (parsers.staff), never as a branch's mail. The
commands are carried out (bot.staff.actions) only when the receiving server vouched for the staff address
(DMARC or DKIM, as the settings name them); then staff get an answer with what was done and what was refused.
A mail the bot will not take commands from changes nothing: it is recorded as refused, with why, for the
digest, and not answered (the answer would go to the real staff member, whoever wrote it)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from bot import wording
from bot.intake.examine import Release
from bot.intake.services import Services
from bot.ledger import queries
from bot.ledger.schema import MessageRow, StaffActionRow
from bot.outgoing.compose import Thread, one_line, reply_prefix
from bot.outgoing.queue import Letter, queue_letter
from bot.staff.actions import Outcome, Staff, carry_out
from parsers.message import Mail
from parsers.quotes import new_text
from parsers.staff import USAGE, Refusal, StaffCheck, StaffCommand, read_commands

log = logging.getLogger(__name__)
Retake = Callable[[Session, int, Services, dt.datetime, Release], Any]


def take_staff_mail(
    session: Session,
    message: MessageRow,
    mail: Mail,
    check: StaffCheck,
    services: Services,
    now: dt.datetime,
    backlog: bool,
    retake: Retake,
) -> str:
    """Returns the reply kind queued: "staff" (the answer to staff) or "none"."""
    message.kind, message.status, message.branch, message.deliverable = "staff", "processed", None, None
    message.receipt = queries.receipt_for(message, services.ctx.campaign.year)
    message.excerpt = "\n".join(line for line in new_text(mail.body_text).splitlines() if line.strip())[:300]
    if not check.ok:
        message.kind = "staff_refused"
        session.add(_refused_mail(message, check, now))
        log.warning("staff commands refused (message %s): %s", message.id, check.reason)
        return "none"
    staff = Staff(services.ctx, services.letterhead, check.address, "mail", now, message.id)
    branches = {b.name: b.aliases for b in services.ctx.roster.branches}
    outcomes = [_carry_out(session, line, staff, services, now, retake) for line in read_commands(new_text(mail.body_text), branches)]
    _answer(session, message, mail, outcomes, services, now, backlog)
    return "suppressed" if backlog else "staff"


def _carry_out(
    session: Session, line: StaffCommand | Refusal, staff: Staff, services: Services, now: dt.datetime, retake: Retake
) -> Outcome:
    if isinstance(line, Refusal):
        session.add(
            StaffActionRow(
                at=queries.utc(now), who=staff.who, via="mail", verb="unread", text=line.line,
                refused=line.reason_zh, source_pk=staff.source_pk,
            )
        )
        return Outcome(line.line, False, line.reason_zh)
    outcome = carry_out(session, line, staff)
    if outcome.retake is not None:
        retake(session, outcome.retake, services, now, Release(outcome.branch))
    return outcome


def _refused_mail(message: MessageRow, check: StaffCheck, now: dt.datetime) -> StaffActionRow:
    return StaffActionRow(
        at=queries.utc(now),
        who=check.address,
        via="mail",
        verb="refused_mail",
        receipt=message.receipt,
        message_pk=message.id,
        text=message.excerpt,
        refused=check.reason_zh,
        source_pk=message.id,
    )


def _answer(
    session: Session,
    message: MessageRow,
    mail: Mail,
    outcomes: list[Outcome],
    services: Services,
    now: dt.datetime,
    backlog: bool,
) -> None:
    context = {
        "office": services.ctx.campaign.office.name,
        "original_subject": one_line(mail.subject) or "（无主题）",
        "reply_prefix": reply_prefix(mail.subject),
        "receipt": message.receipt,
        "arrived": wording.arrival(queries.aware(message.arrived_at).astimezone(services.ctx.campaign.zone),
                                   services.ctx.campaign.timezone),
        "done": [{"line": o.line, "said": o.said} for o in outcomes if o.done],
        "refused": [{"line": o.line, "said": o.said} for o in outcomes if not o.done],
        "usage": list(USAGE.values()),
    }
    letter = Letter(
        kind="staff",
        rendered=services.letterhead.renderer.render("staff_result", context),
        to=mail.sender.address,
        key=f"{message.receipt}.{message.sha256[:16]}",
        marker=message.receipt or "staff",
        thread=Thread(mail.message_id, mail.references, mail.subject),
        message_pk=message.id,
        reason="backlog: mail that was already in the mailbox when the bot started" if backlog else "",
        suppressed=backlog,
    )
    queue_letter(session, services.letterhead, letter, now)
