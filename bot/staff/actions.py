"""Staff overruling the bot: each command (`subbot accept …`, or a line of a staff mail) carried out on the
ledger inside the caller's transaction, recorded with who, when and why, and answered in Chinese. A command
that cannot be carried out changes nothing and is recorded as refused, with why.

What each does:
- accept RECEIPT: the submission stands accepted despite its findings (its activities with it); `notify`
  sends the branch a receipt.
- ask RECEIPT TEXT: the branch gets a correction in staff's own words, threaded to its mail.
- exempt / unexempt BRANCH DELIVERABLE: the branch stands exempt (no reminders), or no longer.
- assign RECEIPT BRANCH: the mail is credited to the branch (a held one is released too); `add_address`
  makes its sender one of the branch's known addresses.
- release RECEIPT: a held mail (unauthenticated sender, for a person, reply cap) goes on as an ordinary one.
- resend RECEIPT: the last letter about the mail, sent again.
- note RECEIPT TEXT, done RECEIPT: a note; a mail for a person handled.
- forget ADDRESS: an address the bot learned for a branch is taken back: mail it credited as that branch's
  only because of it is an unknown sender's again, and the bot never learns it again by itself.
Taking a mail in again (release, assign of a held mail) is intake's work: `Outcome.retake` asks for it."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from dataclasses import dataclass, replace

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import wording
from bot.ledger import addresses, queries
from bot.ledger.overrides import exemptions, handled
from bot.ledger.schema import ActivityRow, FindingRow, MessageRow, ReplyRow, StaffActionRow
from bot.outgoing.compose import Thread
from bot.outgoing.queue import Letter, Letterhead, message_id, queue_letter
from bot.rules.scan import READ_BY_OCR
from config import Context
from parsers.staff import StaffCommand

# Mail held for a person, and what held it: release lets it go on as an ordinary mail.
HELD = {"unauthenticated": "发件人未通过验证", "for_person": "转工作人员"}
VERSIONS = frozenset({"accepted", "needs_correction", "unreadable"})
RECEIPT_LETTERS = "PSM"
# Mail that waits for a person whatever held it (the digest lists it under 需要人工处理的邮件).
WAITING = frozenset({"for_person", "unauthenticated", "staff_refused", "bounce"})


@dataclass(frozen=True)
class Staff:
    """Who acts, and what acting needs: the campaign, the letterhead, the clock."""

    ctx: Context
    letterhead: Letterhead
    who: str
    via: str  # cli | mail
    now: dt.datetime
    source_pk: int | None = None  # the staff mail the commands came in


@dataclass(frozen=True)
class Outcome:
    line: str
    done: bool
    said: str  # Chinese: what was done, or why not
    retake: int | None = None  # a message intake must take in again, its holds lifted (release)
    branch: str | None = None  # ...credited to this branch


def carry_out(session: Session, command: StaffCommand, staff: Staff) -> Outcome:
    handler = HANDLERS[command.verb]
    message = _message(session, command.receipt) if command.receipt else None
    if command.receipt and message is None:
        return _refuse(session, command, staff, None, f"账本中没有回执号 {command.receipt}")
    outcome = handler(session, command, staff, message)
    if not outcome.done:
        return _refuse(session, command, staff, message, outcome.said)
    return outcome


def _message(session: Session, receipt: str) -> MessageRow | None:
    """The mail a receipt names. Its letter follows what the mail was taken for, which may change when staff let it
    go on (a question released becomes a plan, M2021-0004 then P2021-0004): the number alone names the mail."""
    exact = session.execute(select(MessageRow).where(MessageRow.receipt == receipt)).scalar_one_or_none()
    if exact is not None or len(receipt) < 2 or receipt[0] not in RECEIPT_LETTERS:
        return exact
    others = [letter + receipt[1:] for letter in RECEIPT_LETTERS if letter != receipt[0]]
    return session.execute(select(MessageRow).where(MessageRow.receipt.in_(others))).scalars().first()


def _record(
    session: Session,
    command: StaffCommand,
    staff: Staff,
    message: MessageRow | None,
    *,
    before: str = "",
    refused: str = "",
    branch: str | None = None,
) -> StaffActionRow:
    row = StaffActionRow(
        at=queries.utc(staff.now),
        who=staff.who,
        via=staff.via,
        verb=command.verb,
        receipt=command.receipt,
        message_pk=message.id if message is not None else None,
        branch=branch or command.branch or (message.branch if message is not None else None),
        deliverable=command.deliverable or (message.deliverable if message is not None else None),
        text=command.text,
        before=before,
        refused=refused,
        source_pk=staff.source_pk,
    )
    session.add(row)
    session.flush()
    return row


def _refuse(
    session: Session, command: StaffCommand, staff: Staff, message: MessageRow | None, why: str
) -> Outcome:
    _record(session, command, staff, message, refused=why)
    return Outcome(command.line, False, why)


def _no(command: StaffCommand, why: str) -> Outcome:
    return Outcome(command.line, False, why)


def _accept(session: Session, command: StaffCommand, staff: Staff, message: MessageRow | None) -> Outcome:
    assert message is not None
    if message.kind != "submission" or message.verdict not in VERSIONS:
        return _no(command, f"{message.receipt} 不是一份报送的材料（没有可受理的文件），无法通过")
    if message.verdict == "accepted":
        return _no(command, f"{message.receipt} 已是已受理")
    before = message.verdict or ""
    message.verdict = "accepted"
    session.execute(update(ActivityRow).where(ActivityRow.message_pk == message.id).values(accepted=True))
    action = _record(session, command, staff, message, before=before)
    told = ""
    if "notify" in command.flags:
        context = _letter_context(message, staff) | {"note": command.text}
        _send(session, staff, message, "staff_accept", context, f"staff.{action.id}")
        told = "，并已通知单位"
    name = wording.deliverable(message.deliverable)
    return Outcome(command.line, True, f"{message.receipt}（{_who(message)}的{name}）已改为已受理{told}")


def _ask(session: Session, command: StaffCommand, staff: Staff, message: MessageRow | None) -> Outcome:
    assert message is not None
    if not command.text.strip():
        return _no(command, "请写明要单位修改的内容")
    action = _record(session, command, staff, message)
    context = _letter_context(message, staff) | {"text": command.text}
    _send(session, staff, message, "staff_ask", context, f"staff.{action.id}")
    return Outcome(command.line, True, f"已向{_who(message)}发送修改意见（回复其 {message.receipt}）")


def _exempt(session: Session, command: StaffCommand, staff: Staff, message: MessageRow | None) -> Outcome:
    branch, deliverable = command.branch, command.deliverable
    if branch is None or deliverable is None:
        return _no(command, "请写明单位名称和材料（筹备方案或活动总结）")
    if staff.ctx.roster.find_by_name(branch) is None:
        return _no(command, f"名单中没有单位「{branch}」")
    if command.verb == "exempt" and _accepted(session, branch, deliverable):
        return _no(command, f"{branch}的{wording.deliverable(deliverable)}已受理，无需豁免")
    exempt = (branch, deliverable) in exemptions(session)
    if command.verb == "exempt" and exempt:
        return _no(command, f"{branch}的{wording.deliverable(deliverable)}已是豁免")
    if command.verb == "unexempt" and not exempt:
        return _no(command, f"{branch}的{wording.deliverable(deliverable)}并未豁免")
    _record(session, command, staff, None)
    done = "已豁免（不再提醒）" if command.verb == "exempt" else "已取消豁免"
    return Outcome(command.line, True, f"{branch}的{wording.deliverable(deliverable)}{done}")


def _accepted(session: Session, branch: str, deliverable: str) -> bool:
    query = select(MessageRow.id).where(
        MessageRow.branch == branch,
        MessageRow.deliverable == deliverable,
        MessageRow.kind == "submission",
        MessageRow.verdict == "accepted",
        MessageRow.status == "processed",
    )
    return session.execute(query.limit(1)).first() is not None


def _assign(session: Session, command: StaffCommand, staff: Staff, message: MessageRow | None) -> Outcome:
    assert message is not None
    branch = command.branch
    if branch is None or staff.ctx.roster.find_by_name(branch) is None:
        return _no(command, f"名单中没有单位「{branch or ''}」")
    if message.branch == branch:
        return _no(command, f"{message.receipt} 已记在{branch}名下")
    if "add_address" in command.flags:
        known = addresses.branch_of(session, message.sender, staff.ctx.roster)
        if known is not None and known != branch:
            return _no(command, f"地址 {message.sender} 已属于{known}，不能再添加给{branch}")
    before = message.branch or f"sender:{message.sender}"
    _record(session, command, staff, message, before=before, branch=branch)
    added = ""
    if "add_address" in command.flags:
        addresses.learn(session, message.sender, branch, "staff", message.id, staff.now)
        added = f"，并将其发件地址登记为{branch}的地址"
    if message.kind in HELD:
        return Outcome(command.line, True, f"{message.receipt} 已记在{branch}名下，并放行重新处理{added}", message.id, branch)
    queries.credit(session, message, branch, "staff")
    return Outcome(command.line, True, f"{message.receipt} 已记在{branch}名下{added}")


def _release(session: Session, command: StaffCommand, staff: Staff, message: MessageRow | None) -> Outcome:
    assert message is not None
    if not held(message, _answered(session, message)):
        return _no(command, f"{message.receipt} 没有被暂扣，无需放行")
    _record(session, command, staff, message, before=message.kind)
    why = HELD.get(message.kind, "已达每日回复上限")
    return Outcome(command.line, True, f"{message.receipt}（{why}）已放行，按普通来信重新处理", message.id)


def held(message: MessageRow, answered: bool) -> bool:
    """Held for a person (unauthenticated sender, for a person), or left unanswered (`answered`: the bot wrote to it
    or about it) at the reply cap: what release lets go on, and what staff settle by answering it themselves."""
    capped = message.kind in ("submission", "link") and not answered
    return message.status == "processed" and (message.kind in HELD or capped)


def _answered(session: Session, message: MessageRow) -> bool:
    query = select(ReplyRow.id).where((ReplyRow.message_pk == message.id) | (ReplyRow.about_pk == message.id))
    return session.execute(query.limit(1)).first() is not None


def _resend(session: Session, command: StaffCommand, staff: Staff, message: MessageRow | None) -> Outcome:
    assert message is not None
    last = session.execute(
        select(ReplyRow)
        .where((ReplyRow.message_pk == message.id) | (ReplyRow.about_pk == message.id))
        .order_by(ReplyRow.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if last is None:
        return _no(command, f"{message.receipt} 没有发过回复，无可重发")
    action = _record(session, command, staff, message)
    raw = email.message_from_bytes(last.raw, policy=email.policy.compat32)
    outgoing_id = message_id(staff.letterhead, f"resend.{action.id}.{message.receipt}")
    raw.replace_header("Message-ID", outgoing_id)
    session.add(
        ReplyRow(
            about_pk=message.id,
            kind=last.kind,
            branch=message.branch,
            to_address=last.to_address,
            subject=last.subject,
            outgoing_id=outgoing_id,
            raw=raw.as_bytes(),
            status="pending",
            reason=f"resent by {staff.who}",
            created_at=queries.utc(staff.now),
        )
    )
    return Outcome(command.line, True, f"已重发{message.receipt}的{wording.REPLY_NAMES.get(last.kind, last.kind)}")


def _note(session: Session, command: StaffCommand, staff: Staff, message: MessageRow | None) -> Outcome:
    assert message is not None
    if not command.text.strip():
        return _no(command, "请写明备注内容")
    _record(session, command, staff, message)
    return Outcome(command.line, True, f"已为{message.receipt}添加备注")


def _done(session: Session, command: StaffCommand, staff: Staff, message: MessageRow | None) -> Outcome:
    assert message is not None
    if message.id in handled(session):
        return _no(command, f"{message.receipt} 已标记为已处理")
    if not _waiting(session, message):
        return _no(command, f"{message.receipt} 不是等待人工处理的邮件，无需标记已处理")
    _record(session, command, staff, message)
    return Outcome(command.line, True, f"{message.receipt} 已标记为已处理")


def _waiting(session: Session, message: MessageRow) -> bool:
    """Set aside for a person: failed, held, a bounce, an unknown sender's submission, a form read by OCR, or
    left unanswered."""
    if message.status == "failed" or message.kind in WAITING:
        return True
    if message.kind == "submission" and _read_by_ocr(session, message):
        return True
    if message.kind == "submission" and message.branch is None:
        return True
    return message.kind in ("submission", "link") and not _answered(session, message)


def _read_by_ocr(session: Session, message: MessageRow) -> bool:
    query = select(FindingRow.id).where(FindingRow.message_pk == message.id, FindingRow.code == READ_BY_OCR)
    return session.execute(query.limit(1)).first() is not None


def _send(
    session: Session, staff: Staff, message: MessageRow, template: str, context: dict[str, object], key: str
) -> None:
    letter = Letter(
        kind=template,
        rendered=staff.letterhead.renderer.render(template, context),
        to=message.sender,
        key=key,
        marker=message.receipt or key,
        thread=Thread(message.message_id, (), message.subject) if message.message_id else None,
        branch=message.branch,
        deliverable=message.deliverable,
        about_pk=message.id,
    )
    queue_letter(session, staff.letterhead, letter, staff.now)


def _letter_context(message: MessageRow, staff: Staff) -> dict[str, object]:
    campaign = staff.ctx.campaign
    arrived = queries.aware(message.arrived_at).astimezone(campaign.zone)
    return {
        "office": campaign.office.name,
        "sender_name": message.sender_name,
        "original_subject": " ".join(message.subject.split()) or "（无主题）",
        "receipt": message.receipt,
        "arrived": wording.arrival(arrived, campaign.timezone),
        "deliverable_name": wording.deliverable_in_letter(message.deliverable),
        "deadline": wording.deadline(campaign.last_day(message.deliverable or "plan")),
    }


def _who(message: MessageRow) -> str:
    return message.branch or message.sender


def _forget(session: Session, command: StaffCommand, staff: Staff, message: MessageRow | None) -> Outcome:
    address = command.address or ""
    if staff.ctx.roster.find_by_address(address) is not None:
        return _no(command, f"地址 {address} 在单位名单中，请在名单文件中修改")
    row = addresses.forget(session, address, staff.now)
    if row is None:
        return _no(command, f"地址 {address} 不是系统记下的单位地址")
    moved = queries.uncredit_learned(session, address)
    said = replace(command, text=" ".join(part for part in (address, command.text) if part))
    _record(session, said, staff, None, before=address, branch=row.branch)
    again = f"，此前因该地址记在{row.branch}名下的 {moved} 封来信改为名单外来信" if moved else ""
    return Outcome(command.line, True, f"已移除{row.branch}的地址 {address}{again}")


HANDLERS = {
    "accept": _accept,
    "ask": _ask,
    "exempt": _exempt,
    "unexempt": _exempt,
    "assign": _assign,
    "release": _release,
    "resend": _resend,
    "note": _note,
    "done": _done,
    "forget": _forget,
}
