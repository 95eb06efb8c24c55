"""`decide`: from a parsed mail, the evidence gathered on its attachments and what the ledger knew of its branch,
to what the bot records and answers. Pure: the arrival time and the sender's reply count for the day are
passed in; nothing is read or asked here.

`route` says once per mail who it is from (the roster branch, and how that was found) and what it brings
(plan or summary): intake asks the ledger for that branch's history with it, and `decide` judges with it.

A mail is a submission only if it carries a document, or claims one (parsers.intent). A mail with no document:
- asks something (whatever else it carries), or says something that is neither thanks nor a claim and carries
  no file: `for_person`, held for staff, the branch told in a short note (campaign `[conversation]`);
- only thanks (收到，谢谢): `thanks`, no answer, nothing changes;
- brings a cloud-drive link instead of the plan: `link`, answered that the link cannot be opened and expires;
- claims the plan or summary, is a new mail with nothing in it, or carries files that are no document: judged
  as a submission (the correction asks for the file; photos after the plan deadline are a summary).
None of these changes where a branch stands: only documents do (bot.ledger.status)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from bot.intake.evidence import DocumentCheck, SummaryEvidence
from bot.intake.versions import Continuation, continue_versions
from bot.rules.findings import Finding
from bot.rules.sender import unauthenticated_sender
from bot.rules.summary import check_summary
from bot.summary.build import build_summary
from bot.summary.records import History, Summary
from config import Branch, Context
from parsers.intent import Intent, read_mail_intent
from parsers.message import Mail

ReplyKind = Literal["ack", "correction", "link", "forwarded", "none"]
Deliverable = Literal["plan", "summary"]
EXCERPT = 300  # characters of what a mail for a person said, kept for the digest


@dataclass(frozen=True)
class MailFinding:
    """A finding, with the attachment it is about ('' for the mail as a whole)."""

    document: str
    finding: Finding


@dataclass(frozen=True)
class Decision:
    kind: str
    reason: str
    branch: Branch | None
    matched_by: str  # address | name | organiser | ""
    deliverable: Deliverable | None
    late: bool
    verdict: str | None  # accepted | needs_correction | unreadable | no_attachment
    reply: ReplyKind
    findings: tuple[MailFinding, ...]
    documents: tuple[DocumentCheck, ...]
    summary: Summary | None = None  # what a summary mail carried, and the activities it reports
    intent: Intent | None = None  # what a mail with no document says
    # A plan's activities: which earlier activity of the branch each continues, and which it withdraws.
    continuation: Continuation | None = None
    standing: bool = False  # an earlier version of this deliverable was accepted, and stands
    held_because: str = ""  # why a mail is held for a person when its words do not say

    @property
    def template(self) -> str:
        """The reply's templates: a summary is answered with what was received, not with the form's fields."""
        if self.reply in ("ack", "correction") and self.deliverable == "summary":
            return f"summary_{self.reply}"
        return self.reply

    @property
    def excerpt(self) -> str:
        """The first lines the sender wrote (for staff, when the mail is for a person)."""
        if self.held_because:
            return self.held_because
        if self.intent is None:
            return ""
        return "\n".join(line for line in self.intent.text.splitlines() if line.strip())[:EXCERPT]


@dataclass(frozen=True)
class Routing:
    """Who a mail is from and what it brings, worked out once per mail."""

    branch: Branch | None
    matched_by: str  # address | learned | name | organiser | named | staff | ""
    deliverable: Deliverable
    # A known address (learned for `branch`) whose form names another roster branch: held for a person.
    other: str = ""


def route(
    mail: Mail,
    forms: tuple[DocumentCheck, ...],
    ctx: Context,
    arrived: dt.datetime,
    credited: str | None = None,
    learned: Mapping[str, str] | None = None,
) -> Routing:
    """`credited`: the branch staff said the mail is (`subbot assign`), whoever sent it; `learned`: addresses
    the ledger learned for roster branches (bot.intake.senders)."""
    branch, matched_by = identify(mail, forms, ctx, learned or {})
    deliverable = which_deliverable(mail, forms, ctx, arrived)
    if branch is None and deliverable == "summary":  # a summary names its branch, as a plan's organiser cell does
        branch = named_branch([mail.subject, *(a.name for a in mail.attachments)], ctx)
        matched_by = "named" if branch else ""
    other = ""
    if matched_by == "learned" and (organiser := _organiser(forms, ctx)) and organiser != branch:
        other = organiser.name
    if credited is not None and (chosen := ctx.roster.find_by_name(credited)) is not None:
        branch, matched_by, other = chosen, "staff", ""
    return Routing(branch, matched_by, deliverable, other)


def named_branch(texts: Sequence[str], ctx: Context) -> Branch | None:
    """The roster branch whose name (or alias) the texts mention, the longest name first; None if none or two."""
    names = sorted(((name, b) for b in ctx.roster.branches for name in b.names() if len(name) >= 4), key=lambda x: -len(x[0]))
    text = "\n".join(texts)
    found = {b.name: b for name, b in names if name in text}
    return next(iter(found.values())) if len(found) == 1 else None


def decide(
    mail: Mail,
    forms: tuple[DocumentCheck, ...],
    routing: Routing,
    ctx: Context,
    arrived: dt.datetime,
    replies_today: int,
    reply_cap: int,
    summary: SummaryEvidence | None = None,
    history: History | None = None,
    released: bool = False,
) -> Decision:
    """`summary` is the evidence on a summary mail's files and `history` what the ledger knew of the branch's
    summaries and accepted activities (none if not given). A mail staff `released` is held by nothing: not its
    sender's authentication, not the reply cap, and its words are read as a submission's."""
    branch, matched_by, deliverable = routing.branch, routing.matched_by, routing.deliverable
    if mail.kind != "submission":
        return Decision(mail.kind, mail.kind_reason, branch, matched_by, None, False, None, "none", (), forms)
    learned_for = branch.name if matched_by == "learned" and branch else None
    forged = None if released else unauthenticated_sender(mail, ctx, learned_for)
    if forged:  # held for staff: no branch, nothing taken from it, no reply
        reason = f"sender not authenticated: {mail.sender_check.reason}"
        return Decision("unauthenticated", reason, None, "", None, False, None, "none", (MailFinding("", forged),), ())
    if released:
        replies_today = 0
    if routing.other and not released:  # a known address sending for another branch: a person decides
        return _held_for_other(routing, ctx, forms, replies_today, reply_cap)
    history = history or History()
    if not forms and not released and (talk := _conversation(mail, routing, ctx, replies_today, reply_cap)):
        return talk
    late = arrived >= ctx.campaign.deadline(deliverable)
    read: Summary | None = None
    continuation: Continuation | None = None
    if deliverable == "summary":
        evidence = summary or SummaryEvidence(tuple(), {})
        read = build_summary(mail, evidence.media, evidence.documents, history, arrived)
        verdict, findings = judge_summary(mail, read, ctx)
        if matched_by == "named" and branch is not None:
            message = (
                f"发件地址不在名单中，已按邮件中的单位名称记为「{branch.name}」的活动总结；如有误，请回复说明"
            )
            findings += (MailFinding("", Finding(None, "file", "warning", "sender_named", message)),)
    else:
        verdict, findings = judge(mail, forms, deliverable)
        activities = [a for check in forms for a in check.result.read.activities]
        continuation = continue_versions(history.sent, activities) if activities else None
    answer: ReplyKind = "ack" if verdict == "accepted" else "correction"
    reply, reason = _capped(answer, f"verdict {verdict}", replies_today, reply_cap)
    standing = deliverable == "plan" and bool(history.activities)
    return Decision(
        mail.kind,
        reason,
        branch,
        matched_by,
        deliverable,
        late,
        verdict,
        reply,
        findings,
        forms,
        read,
        None,
        continuation,
        standing,
    )


def _conversation(
    mail: Mail, routing: Routing, ctx: Context, replies_today: int, reply_cap: int
) -> Decision | None:
    """A mail with no document that is not judged as a submission: a question or other words for a person, a
    thank-you, a cloud link instead of the plan. None: judge it as a submission."""
    intent = read_mail_intent(mail)
    files = any(a.origin != "inline" for a in mail.attachments)
    kind = ""
    reply: ReplyKind = "none"
    if intent.kind == "question" or (intent.kind == "other" and not files):
        kind, reply = "for_person", _forward(ctx)
    elif intent.kind == "thanks" and not files:
        kind = "thanks"
    elif intent.kind == "link" and not files and routing.deliverable == "plan":
        kind, reply = "link", "link"
    if not kind:
        return None
    reply, reason = _capped(reply, f"{kind}: {intent.reason}", replies_today, reply_cap)
    deliverable = routing.deliverable if kind == "link" else None
    return Decision(kind, reason, routing.branch, routing.matched_by, deliverable, False, None, reply, (), (), None, intent)


def _held_for_other(
    routing: Routing, ctx: Context, forms: tuple[DocumentCheck, ...], replies_today: int, reply_cap: int
) -> Decision:
    known = routing.branch.name if routing.branch else ""
    reason = f"an address learned for one branch sends for another ({routing.other})"
    reply, reason = _capped(_forward(ctx), reason, replies_today, reply_cap)
    held = f"该地址已登记为「{known}」的地址，本次来信的表格主办单位为「{routing.other}」"
    return Decision("for_person", reason, None, "", None, False, None, reply, (), forms, held_because=held)


def _forward(ctx: Context) -> ReplyKind:
    return "forwarded" if ctx.campaign.conversation.notify_forwarded else "none"


def _capped(reply: ReplyKind, reason: str, replies_today: int, reply_cap: int) -> tuple[ReplyKind, str]:
    if reply != "none" and replies_today >= reply_cap:
        return "none", f"reply cap of {reply_cap} a day reached for this sender"
    return reply, reason


def identify(
    mail: Mail, forms: tuple[DocumentCheck, ...], ctx: Context, learned: Mapping[str, str]
) -> tuple[Branch | None, str]:
    """The roster branch: by the From address (the roster's, then one learned), by its display name, then by the
    form's organiser. Never by Reply-To: it may say where to answer, but anyone can write any address there."""
    if branch := ctx.roster.find_by_address(mail.sender.address):
        return branch, "address"
    if (name := learned.get(mail.sender.address)) and (branch := ctx.roster.find_by_name(name)):
        return branch, "learned"
    if mail.sender.name and (branch := ctx.roster.find_by_name(mail.sender.name)):
        return branch, "name"
    if branch := _organiser(forms, ctx):
        return branch, "organiser"
    return None, ""


def _organiser(forms: tuple[DocumentCheck, ...], ctx: Context) -> Branch | None:
    for check in forms:
        for activity in check.result.read.activities:
            if branch := ctx.roster.find_by_name(activity.organiser):
                return branch
    return None


def which_deliverable(
    mail: Mail, forms: tuple[DocumentCheck, ...], ctx: Context, arrived: dt.datetime | None = None
) -> Deliverable:
    """A plan form makes a plan mail; else a summary word in the subject or a file name makes a summary; else,
    once the plan deadline has passed, photos or videos with no document at all are taken for a summary too."""
    if any(check.result.read.activities for check in forms):
        return "plan"
    words = ctx.campaign.deliverables.summary_words
    names = [mail.subject, *(a.name for a in mail.attachments)]
    if any(word in name for word in words for name in names):
        return "summary"
    media = any(a.kind == "image" or a.content_type.startswith(("image/", "video/")) for a in mail.attachments)
    if arrived is not None and arrived >= ctx.campaign.deadline("plan") and media and not forms:
        return "summary"
    return "plan"


def judge(
    mail: Mail, documents: tuple[DocumentCheck, ...], deliverable: Deliverable
) -> tuple[str, tuple[MailFinding, ...]]:
    """A plan mail's verdict and findings (summaries: `judge_summary`)."""
    if not documents:
        return _no_form(mail)
    has_form = any(check.result.read.activities for check in documents)
    findings: list[MailFinding] = []
    verdicts: list[str] = []
    for check in documents:
        result = check.result
        if has_form and not result.read.activities:
            # A cover letter or a stamped scan beside the form: say so, do not ask for a correction.
            message = f"附件「{check.attachment.name}」不是筹备方案表，未作检查"
            findings.append(
                MailFinding(check.attachment.name, Finding(None, "file", "warning", "ignored_attachment", message))
            )
            continue
        verdicts.append(result.verdict)
        findings.extend(MailFinding(check.attachment.name, f) for f in result.findings)
    if all(v == "accepted" for v in verdicts):
        verdict = "accepted"
    elif all(v == "unreadable" for v in verdicts):
        verdict = "unreadable"
    else:
        verdict = "needs_correction"
    return verdict, tuple(findings)


def _no_form(mail: Mail) -> tuple[str, tuple[MailFinding, ...]]:
    photos = [a for a in mail.attachments if a.kind == "image" and a.origin != "inline"]
    if photos:
        message = "邮件附件是图片（照片或截图），无法读取表格内容；请发送填写好的 Word 文件（.docx），不要拍照或截图"
        return "unreadable", (MailFinding(photos[0].name, Finding(None, "file", "error", "photo_of_form", message)),)
    others = [a for a in mail.attachments if a.origin != "inline"]
    if others:
        names = "、".join(f"「{a.name}」" for a in others)
        message = f"附件{names}不是 Word 或 PDF 文件；请发送填写好的筹备方案表（.docx）"
        return "unreadable", (MailFinding(others[0].name, Finding(None, "file", "error", "not_a_document", message)),)
    message = "邮件中没有找到附件；请将填写好的筹备方案表（Word 文件）作为附件发送"
    return "no_attachment", (MailFinding("", Finding(None, "file", "error", "no_attachment", message)),)


def judge_summary(mail: Mail, summary: Summary, ctx: Context) -> tuple[str, tuple[MailFinding, ...]]:
    findings = tuple(MailFinding("", f) for f in check_summary(summary, ctx))
    if not any(f.finding.severity == "error" for f in findings):
        return "accepted", findings
    sent_nothing = not any(a.origin != "inline" for a in mail.attachments) and not summary.media_links
    return ("no_attachment" if sent_nothing else "needs_correction"), findings


def with_document(findings: tuple[MailFinding, ...]) -> tuple[MailFinding, ...]:
    """Findings whose message names the attachment, for mails that carried more than one."""
    names = {f.document for f in findings if f.document}
    if len(names) < 2:
        return findings
    return tuple(
        replace(f, finding=replace(f.finding, message=f"附件「{f.document}」{f.finding.message}")) if f.document else f
        for f in findings
    )
