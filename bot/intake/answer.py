"""The answer to a branch's mail: what the receipt or correction says (the templates' context, from the
decision), the blank form attached when the branch has no usable one, and to a plan's correction the branch's
own .docx forms with their findings marked on them; queued as a letter in the outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from bot import wording
from bot.intake.decide import Decision, with_document
from bot.intake.evidence import annotated_copies
from bot.intake.services import Services
from bot.ledger import queries
from bot.ledger.queries import aware
from bot.ledger.schema import MessageRow
from bot.outgoing.compose import FileToAttach, Thread, one_line, reply_prefix
from bot.outgoing.queue import Letter, queue_letter
from bot.summary.records import Summary
from parsers.message import Mail
from parsers.records import Activity

# Findings that mean the sender has no usable form in hand: the reply brings a blank one.
SEND_BLANK_FORM = frozenset({"no_attachment", "form_not_found", "photo_of_form", "not_a_document", "form_blank"})
# A reply lists this many points of each kind; a mail of hundreds of bad files gets the first ones and a count.
MAX_LISTED = 30
BACKLOG = "backlog: mail that was already in the mailbox when the bot started"


def queue_answer(
    session: Session,
    message: MessageRow,
    mail: Mail,
    decision: Decision,
    services: Services,
    now: dt.datetime,
    backlog: bool,
) -> str:
    """The answer queued (or, for backlog, recorded unsent); returns what the poll reports of it."""
    assert message.receipt is not None
    # Made in the sandbox's worker; a backlog's letter, recorded unsent, carries it too, should staff send it.
    annotated = annotated_copies(decision.documents, services.ctx, now) if _annotates(decision) else ()
    context = reply_context(mail, decision, message.receipt, message.arrived_at, services, [f.name for f in annotated])
    form = FileToAttach(f"{services.ctx.campaign.form.title}.docx", services.blank_form)
    # A mail taken in again (staff released it) may have been answered before: this answer stands beside that one.
    earlier = queries.letters_about(session, message.id)
    letter = Letter(
        kind=decision.reply,
        rendered=services.letterhead.renderer.render(decision.template, context),
        to=(mail.reply_to or mail.sender).address,
        key=f"{message.receipt}.{message.sha256[:16]}" + (f".{earlier}" if earlier else ""),
        marker=message.receipt,
        thread=Thread(mail.message_id, mail.references, mail.subject),
        files=([form] if context["attached_form"] else []) + list(annotated),
        message_pk=None if earlier else message.id,
        about_pk=message.id if earlier else None,
        branch=message.branch,
        reason=BACKLOG if backlog else "",
        suppressed=backlog,
    )
    queue_letter(session, services.letterhead, letter, now)
    return "suppressed" if backlog else decision.reply


def _annotates(decision: Decision) -> bool:
    """A plan's correction: a summary's documents are no forms to mark."""
    return decision.template == "correction" and decision.deliverable == "plan"


def listed_at_most(messages: list[str]) -> list[str]:
    if len(messages) <= MAX_LISTED:
        return messages
    rest = len(messages) - MAX_LISTED + 1
    return [*messages[: MAX_LISTED - 1], f"另有 {rest} 处同类问题未逐条列出，请检查全部附件后一并重新发送"]


def reply_context(
    mail: Mail,
    decision: Decision,
    receipt: str,
    arrived: dt.datetime,
    services: Services,
    annotated: Sequence[str] = (),
) -> dict[str, Any]:
    """`annotated`: the names of the branch's own forms attached with the findings marked on them."""
    campaign = services.ctx.campaign
    findings = with_document(decision.findings)
    continuation = decision.continuation if decision.verdict == "accepted" else None
    return {
        "office": campaign.office.name,
        "sender_name": one_line(mail.sender.name),
        "original_subject": one_line(mail.subject) or "（无主题）",
        "reply_prefix": reply_prefix(mail.subject),
        "receipt": receipt,
        "arrived": wording.arrival(aware(arrived).astimezone(campaign.zone), campaign.timezone),
        "deadline": wording.deadline(campaign.last_day(decision.deliverable or "plan")),
        "deliverable_name": wording.deliverable_in_letter(decision.deliverable),
        "late": decision.late,
        "activities": [_activity_lines(a) for check in decision.documents for a in check.result.read.activities],
        "corrections": listed_at_most([f.finding.message for f in findings if f.finding.severity == "error"]),
        "warnings": listed_at_most([f.finding.message for f in findings if f.finding.severity == "warning"]),
        "attached_form": any(f.finding.code in SEND_BLANK_FORM for f in decision.findings),
        "annotated": list(annotated),
        "summary": summary_view(decision.summary),
        "withdrawn": [p.title or "（未填写活动名称）" for p in continuation.withdrawn] if continuation else [],
        "standing": decision.standing,
        "links": list(decision.intent.links) if decision.intent else [],
    }


def _activity_lines(activity: Activity) -> dict[str, str]:
    timing = activity.timing
    when = f"第{timing.stage}阶段" if timing.stage else "（阶段未填）"
    if timing.start and timing.end:
        when += f"，{wording.span(timing.start, timing.end)}"
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


def summary_view(summary: Summary | None) -> dict[str, Any] | None:
    """What a reply to a summary lists: the files and links received, each photo counted once, and the
    activities the summary was recorded for (the `summary` key of the reply templates)."""
    if summary is None:
        return None
    documents = [d.name for d in summary.usable_documents]
    return {
        "documents": documents,
        "earlier_documents": [] if documents else list(summary.history.documents),
        "photos": len(summary.photos()),
        "photo_repeats": len(summary.photos(repeat=True)),
        "embedded_photos": summary.embedded_photos,
        "videos": len(summary.videos()),
        "video_repeats": len(summary.videos(repeat=True)),
        "links": [{"kind": wording.LINK_NAMES[link.kind], "url": link.url} for link in summary.media_links],
        "other_files": [f.attachment.name for f in summary.files_of("other")]
        + [d.name for d in summary.documents if not d.usable],
        "activities": [
            {"title": a.title, "when": wording.span(a.start, a.end or a.start) if a.start else "日期未填"}
            for a in summary.activities
        ],
        "received_nothing": not (summary.files or summary.media_links),
    }
