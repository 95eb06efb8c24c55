"""One fetched message, start to finish inside one transaction: parse, check, decide, record, queue the reply."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot.compose import FileToAttach, Thread, compose, one_line, reply_prefix
from bot.convert import Converter
from bot.decide import Decision, check_attachments, decide, with_document
from bot.ledger import ledger
from bot.ledger.schema import MessageRow, ReplyRow
from bot.ledger.summaries import record_summary, summary_history
from bot.mailbox.port import Fetched
from bot.mediastore import MediaStore
from bot.rules import Context
from bot.spool import Spool, read_mail
from bot.summary_reply import summary_view
from parsers.message import Mail
from replies.render import Renderer

DELIVERABLE_NAMES = {"plan": "活动筹备方案", "summary": "活动总结", None: "材料"}
# Findings that mean the sender has no usable form in hand: the reply brings a blank one.
SEND_BLANK_FORM = frozenset({"no_attachment", "form_not_found", "photo_of_form", "not_a_document", "form_blank"})


@dataclass(frozen=True)
class Services:
    """What intake needs besides the message: configuration and the pure helpers, built once."""

    ctx: Context
    convert: Converter | None
    renderer: Renderer
    from_name: str
    from_address: str
    own_addresses: frozenset[str]
    reply_cap: int
    blank_form: bytes
    # Receiving servers whose Authentication-Results are trusted; none: the topmost header (parsers.auth).
    authserv_ids: frozenset[str] = frozenset()
    media: MediaStore | None = None  # where summaries' photos and videos go; None records them without storing
    spool: Path | None = None  # where a big message's photos and videos are decoded while it is read; None: /tmp


@dataclass(frozen=True)
class Intake:
    """What happened to one fetched message, for the poll report and logs (no personal data)."""

    message_pk: int
    status: str  # processed | duplicate | known
    kind: str
    reply: str  # ack | correction | none | suppressed


def take_in(
    session: Session,
    fetched: Fetched,
    stored: tuple[str, str],
    services: Services,
    now: dt.datetime,
    backlog: bool,
    existing: MessageRow | None = None,
) -> Intake:
    """The whole of it: a copy of bytes already taken in is only noted; anything else is read and decided."""
    known = note_known_copy(session, fetched, stored, now, existing)
    if known is not None:
        return known
    with Spool(services.spool) as spool:
        mail = read_mail(fetched, services.own_addresses, services.authserv_ids, spool)
        return take_in_mail(session, fetched, stored, mail, services, now, backlog, existing)


def note_known_copy(
    session: Session, fetched: Fetched, stored: tuple[str, str], now: dt.datetime, existing: MessageRow | None = None
) -> Intake | None:
    """The same bytes seen again (another UID, a new UIDVALIDITY): the new ref is recorded, nothing else."""
    same_bytes = existing or ledger.find_by_sha(session, stored[0])
    if same_bytes is None or same_bytes.status == "failed":
        return None
    ledger.add_ref(session, fetched.ref, same_bytes, now)
    return Intake(same_bytes.id, "known", same_bytes.kind, "none")


def take_in_mail(
    session: Session,
    fetched: Fetched,
    stored: tuple[str, str],
    mail: Mail,
    services: Services,
    now: dt.datetime,
    backlog: bool,
    existing: MessageRow | None = None,
) -> Intake:
    """A parsed message not yet taken in (or failed before): recorded, checked, decided, its reply queued."""
    sha, raw_path = stored  # RawStore.put's (sha256, path): the bytes are hashed once
    message = (
        existing
        or ledger.find_by_sha(session, sha)
        or MessageRow(
            sha256=sha, raw_path=raw_path, size=fetched.size, recorded_at=ledger.utc(now), status="processing"
        )
    )
    describe(message, mail, fetched)
    session.add(message)
    original = ledger.find_same_message(session, mail.message_id, mail.sender.address)
    if original is not None and original is not message:
        message.status, message.duplicate_of, message.kind = "duplicate", original.id, mail.kind
        session.flush()
        ledger.add_ref(session, fetched.ref, message, now)
        return Intake(message.id, "duplicate", mail.kind, "none")
    documents = check_attachments(mail, services.ctx, services.convert)
    to = (mail.reply_to or mail.sender).address
    day_start = _day_start(fetched.arrived, services.ctx)
    decision = decide(
        mail,
        documents,
        services.ctx,
        fetched.arrived,
        ledger.replies_on_day(session, to, day_start),
        services.reply_cap,
        summary_history(session, mail, documents, services.ctx, fetched.arrived),
    )
    message.status = "processed"
    session.flush()
    ledger.record_decision(session, message, decision)
    record_summary(session, message, decision, services.media)
    message.receipt = ledger.receipt_for(message, services.ctx.campaign.year)
    ledger.add_ref(session, fetched.ref, message, now)
    reply = (
        _queue_reply(session, message, mail, decision, services, now, backlog) if decision.reply != "none" else "none"
    )
    return Intake(message.id, "processed", mail.kind, reply)


def describe(message: MessageRow, mail: Mail, fetched: Fetched) -> None:
    """What the ledger shows of a message whatever became of it: who wrote, when, about what."""
    message.message_id = mail.message_id
    message.arrived_at = ledger.utc(fetched.arrived)
    message.sender = mail.sender.address
    message.sender_name = mail.sender.name
    message.subject = mail.subject
    message.kind = mail.kind
    message.error = ""


def _day_start(arrived: dt.datetime, ctx: Context) -> dt.datetime:
    local = arrived.astimezone(ctx.campaign.zone)
    return dt.datetime.combine(local.date(), dt.time(0, 0), tzinfo=ctx.campaign.zone)


def _queue_reply(
    session: Session,
    message: MessageRow,
    mail: Mail,
    decision: Decision,
    services: Services,
    now: dt.datetime,
    backlog: bool,
) -> str:
    assert message.receipt is not None
    context = reply_context(mail, decision, message.receipt, message.arrived_at, services)
    rendered = services.renderer.render(decision.template, context)
    domain = services.from_address.rpartition("@")[2] or "localhost"
    outgoing_id = f"<{message.receipt}.{message.sha256[:16]}@{domain}>"
    files = (
        [FileToAttach(f"{services.ctx.campaign.form.title}.docx", services.blank_form)]
        if context["attached_form"]
        else []
    )
    to = (mail.reply_to or mail.sender).address
    raw = compose(
        rendered,
        (services.from_name, services.from_address),
        to,
        Thread(mail.message_id, mail.references, mail.subject),
        outgoing_id,
        now,
        message.receipt,
        files,
    )
    status, reason = (
        ("suppressed", "backlog: mail that was already in the mailbox when the bot started")
        if backlog
        else ("pending", "")
    )
    session.add(
        ReplyRow(
            message_pk=message.id,
            kind=decision.reply,
            branch=message.branch,
            to_address=to,
            subject=rendered.subject,
            outgoing_id=outgoing_id,
            raw=raw,
            status=status,
            reason=reason,
            created_at=ledger.utc(now),
        )
    )
    return "suppressed" if backlog else decision.reply


# A reply lists this many points of each kind; a mail of hundreds of bad files gets the first ones and a count.
MAX_LISTED = 30


def listed_at_most(messages: list[str]) -> list[str]:
    if len(messages) <= MAX_LISTED:
        return messages
    rest = len(messages) - MAX_LISTED + 1
    return [*messages[: MAX_LISTED - 1], f"另有 {rest} 处同类问题未逐条列出，请检查全部附件后一并重新发送"]


def reply_context(
    mail: Mail, decision: Decision, receipt: str, arrived: dt.datetime, services: Services
) -> dict[str, Any]:
    campaign = services.ctx.campaign
    local = ledger.aware(arrived).astimezone(campaign.zone)
    deadline_day = campaign.deadline(decision.deliverable or "plan") - dt.timedelta(days=1)
    findings = with_document(decision.findings)
    return {
        "office": campaign.office.name,
        "sender_name": one_line(mail.sender.name),
        "original_subject": one_line(mail.subject) or "（无主题）",
        "reply_prefix": reply_prefix(mail.subject),
        "receipt": receipt,
        "arrived": f"{local:%Y年%m月%d日 %H:%M}（北京时间）"
        if campaign.timezone == "Asia/Shanghai"
        else f"{local:%Y-%m-%d %H:%M %Z}",
        "deadline": f"{deadline_day:%Y年%m月%d日}24时",
        "deliverable_name": DELIVERABLE_NAMES[decision.deliverable],
        "late": decision.late,
        "activities": [_activity_lines(a) for check in decision.documents for a in check.result.read.activities],
        "corrections": listed_at_most([f.finding.message for f in findings if f.finding.severity == "error"]),
        "warnings": listed_at_most([f.finding.message for f in findings if f.finding.severity == "warning"]),
        "attached_form": any(f.finding.code in SEND_BLANK_FORM for f in decision.findings),
        "summary": summary_view(decision.summary),
    }


def _activity_lines(activity: Any) -> dict[str, str]:
    schedule = activity.schedule
    when = f"第{schedule.stage}阶段" if schedule.stage else "（阶段未填）"
    if schedule.start and schedule.end:
        dates = f"{schedule.start.month}月{schedule.start.day}日"
        if schedule.end != schedule.start:
            dates += f"—{schedule.end.month}月{schedule.end.day}日"
        when += f"，{dates}"
    return {
        "title": activity.title or "（未填写活动名称）",
        "organiser": activity.organiser,
        "modules": "、".join(activity.modules.selected) or "（未勾选）",
        "schedule": when,
        "venue": activity.venue,
        "audiences": "、".join(activity.audiences.selected) or "（未勾选）",
        "scale": activity.scale,
        "contact_name": activity.contact.name,
    }
