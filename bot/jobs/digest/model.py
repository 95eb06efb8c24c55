"""`build_digest`: the ledger's facts, the roster, the campaign and the current time in; one frozen Digest out.
Pure: no database, no clock. Every time in the Digest is in the campaign's timezone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from bot.jobs.digest.facts import LearnedFact, MailFact, PlannedActivity, ReplyFact, Snapshot, StaffFact
from bot.jobs.digest.progress import SummaryRound, build_round
from bot.ledger.status import BranchStatus
from config import Campaign, Roster
from parsers.records import Contact

DELIVERABLES = ("plan", "summary")
CORRECTING = frozenset({"needs_correction", "unreadable", "no_attachment"})
# With nothing since the last digest to measure from, the first digest covers a day.
FIRST_WINDOW = dt.timedelta(days=1)
# Branches yet to send a deliverable are listed by name from this many days before its deadline; earlier,
# the counts and the workbook's branch sheet say enough.
LIST_MISSING_WITHIN = 14
# A mailbox not polled successfully for this long is shown as a problem.
STALE_POLL = dt.timedelta(hours=1)
# A reply still pending this long after it was queued (or after a failed attempt) is stuck.
STUCK_AFTER = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Counts:
    deliverable: str
    deadline_day: dt.date  # the last day on time
    days_left: int  # 0 on the deadline day, negative once it has passed
    accepted: int
    correcting: int
    missing: int
    late: int
    unknown: int  # senders the roster does not list
    exempt: int = 0  # branches staff said need not send it


@dataclass(frozen=True)
class Arrival:
    at: dt.datetime
    who: str
    known: bool
    subject: str
    outcome: str  # a verdict, or failed | duplicate | auto_reply | bounce
    deliverable: str | None
    late: bool
    receipt: str | None


@dataclass(frozen=True)
class Waiting:
    """A correction asked for and not yet answered with an accepted version."""

    branch: str
    deliverable: str
    asked: dt.datetime
    waited: dt.timedelta
    status: str
    problems: tuple[str, ...]
    receipt: str = ""  # of the version waiting: 「通过 receipt」 accepts it as it is


@dataclass(frozen=True)
class Missing:
    branch: str
    kind: str
    deliverable: str
    overdue: bool
    emails: tuple[str, ...]
    contact: Contact | None  # from the branch's latest form, when it sent one


@dataclass(frozen=True)
class Late:
    branch: str
    deliverable: str
    arrived: dt.datetime
    days_late: int
    status: str


@dataclass(frozen=True)
class SetAside:
    at: dt.datetime
    # for_person | failed | unknown_sender | bounce | unauthenticated | reply_refused | reply_capped | staff_refused
    reason: str
    who: str
    subject: str
    detail: str
    message_pk: int | None
    resolve: str = ""  # the line staff write back (or the command they run) to take care of it


@dataclass(frozen=True)
class PollHealth:
    mailbox: str
    last_ok: dt.datetime
    age: dt.timedelta
    stale: bool


@dataclass(frozen=True)
class StuckReply:
    kind: str
    branch: str | None
    created: dt.datetime
    attempts: int
    last_error: str


@dataclass(frozen=True)
class Health:
    polls: tuple[PollHealth, ...]
    pending: int
    stuck: tuple[StuckReply, ...]
    refused: int
    failed_mails: int

    @property
    def ok(self) -> bool:
        return bool(self.polls) and not any(p.stale for p in self.polls) and not self.stuck and not self.failed_mails


@dataclass(frozen=True)
class ReminderSent:
    branch: str | None
    deliverable: str | None
    to_address: str
    status: str


@dataclass(frozen=True)
class Tally:
    name: str  # a module, or "" for activities with none ticked
    accepted: int
    correcting: int


@dataclass(frozen=True)
class StageTally:
    number: int | None  # None: activities whose stage is missing or not the campaign's
    start: dt.date | None
    end: dt.date | None
    accepted: int
    correcting: int


@dataclass(frozen=True)
class DeliverableState:
    status: str
    versions: int
    last: dt.datetime | None
    late: bool


@dataclass(frozen=True)
class BranchRow:
    """One roster branch (or unknown sender) on the branch-status sheet."""

    branch: str
    kind: str
    known: bool
    emails: tuple[str, ...]
    states: tuple[tuple[str, DeliverableState], ...]  # per deliverable, in DELIVERABLES order
    accepted_activities: int
    correcting_activities: int
    contact: Contact | None


@dataclass(frozen=True)
class Digest:
    campaign: str
    short_name: str
    office: str
    timezone: str
    now: dt.datetime
    since: dt.datetime
    current: str
    counts: tuple[Counts, ...]  # the current deliverable first
    arrivals: tuple[Arrival, ...]
    waiting: tuple[Waiting, ...]
    missing_listed: tuple[str, ...]  # the deliverables whose missing branches are named, the nearest deadline first
    missing: tuple[Missing, ...]
    late: tuple[Late, ...]
    set_aside: tuple[SetAside, ...]
    sent: tuple[tuple[str, int], ...]  # replies queued since the last digest, by kind
    reminders: tuple[ReminderSent, ...]
    health: Health
    modules: tuple[Tally, ...]
    stages: tuple[StageTally, ...]
    branches: tuple[BranchRow, ...]
    activities: tuple[PlannedActivity, ...]  # accepted, current, of roster branches: the 汇总表
    summaries: SummaryRound  # planned -> held -> summarised, with each activity's media
    actions: tuple[StaffFact, ...] = ()  # what staff did since the last digest
    learned: tuple[LearnedFact, ...] = ()  # addresses learned for branches since the last digest
    known_addresses: tuple[LearnedFact, ...] = ()  # all addresses learned and not taken back, in local time
    record: tuple[StaffFact, ...] = ()  # everything staff did until now, in local time: the 汇总表's record

    @property
    def day(self) -> dt.date:
        return self.now.date()


def build_digest(snapshot: Snapshot, roster: Roster, campaign: Campaign, now: dt.datetime) -> Digest:
    zone = campaign.zone
    local_now = now.astimezone(zone)
    since = (snapshot.last_digest or now - FIRST_WINDOW).astimezone(zone)
    current = current_deliverable(campaign, now)
    listed = missing_listed(campaign, local_now.date())
    names = {b.name for b in roster.branches}
    activities = tuple(replace(a, arrived=a.arrived.astimezone(zone)) for a in snapshot.activities if a.branch in names)
    order = {b.name: i for i, b in enumerate(roster.branches)}
    return Digest(
        campaign=campaign.name,
        short_name=campaign.short_name,
        office=campaign.office.name,
        timezone=campaign.timezone,
        now=local_now,
        since=since,
        current=current,
        counts=tuple(
            count_statuses(snapshot.statuses, d, campaign, local_now.date())
            for d in sorted(DELIVERABLES, key=lambda d: d != current)
        ),
        arrivals=arrivals(snapshot.mails, since, local_now),
        waiting=waiting(snapshot.statuses, snapshot.mails, local_now),
        missing_listed=listed,
        missing=missing(snapshot.statuses, roster, activities, listed, campaign, now),
        late=late(snapshot.statuses, campaign),
        set_aside=set_aside(
            snapshot.mails,
            snapshot.replies,
            zone,
            campaign.conversation.notify_forwarded,
            snapshot.handled,
        ),
        actions=tuple(a for a in snapshot.actions if since < a.at.astimezone(zone) <= local_now),
        learned=tuple(a for a in snapshot.learned if since < a.at.astimezone(zone) <= local_now),
        known_addresses=tuple(replace(a, at=a.at.astimezone(zone)) for a in snapshot.learned if a.at <= now),
        record=tuple(replace(a, at=a.at.astimezone(zone)) for a in snapshot.actions if a.at <= now),
        sent=sent_since(snapshot.replies, since, local_now),
        reminders=reminders_since(snapshot.replies, since, local_now),
        health=health(snapshot, local_now),
        modules=tally_modules(activities, campaign),
        stages=tally_stages(activities, campaign),
        branches=branch_rows(snapshot.statuses, roster, activities, zone),
        activities=tuple(
            sorted(
                (a for a in activities if a.accepted),
                key=lambda a: (order[a.branch], a.start or dt.date.max, a.title),
            )
        ),
        summaries=build_round(
            snapshot.summaries, snapshot.statuses, roster, campaign, latest_contacts(activities), local_now
        ),
    )


def current_deliverable(campaign: Campaign, now: dt.datetime) -> str:
    """The first deliverable whose deadline is still ahead; the last one once all have passed."""
    return next((d for d in DELIVERABLES if now < campaign.deadline(d)), DELIVERABLES[-1])


def missing_listed(campaign: Campaign, today: dt.date) -> tuple[str, ...]:
    near = [d for d in DELIVERABLES if (campaign.last_day(d) - today).days <= LIST_MISSING_WITHIN]
    return tuple(sorted(near, key=lambda d: abs((campaign.last_day(d) - today).days)))


def count_statuses(statuses: Iterable[BranchStatus], deliverable: str, campaign: Campaign, today: dt.date) -> Counts:
    rows = [s for s in statuses if s.deliverable == deliverable]
    known = [s for s in rows if s.known]
    deadline_day = campaign.last_day(deliverable)
    return Counts(
        deliverable=deliverable,
        deadline_day=deadline_day,
        days_left=(deadline_day - today).days,
        accepted=sum(s.status == "accepted" for s in known),
        correcting=sum(s.status in CORRECTING for s in known),
        missing=sum(s.status == "missing" for s in known),
        late=sum(s.late for s in known),
        unknown=sum(not s.known for s in rows),
        exempt=sum(s.status == "exempt" for s in known),
    )


def arrivals(mails: Iterable[MailFact], since: dt.datetime, now: dt.datetime) -> tuple[Arrival, ...]:
    """Every message recorded after the last digest, newest first (our own copies left out)."""
    fresh = [m for m in mails if since < m.recorded <= now and m.kind != "own"]
    return tuple(
        Arrival(
            at=m.arrived.astimezone(now.tzinfo),
            who=m.branch or _sender(m),
            known=m.branch is not None or m.kind != "submission",
            subject=m.subject,
            outcome=_outcome(m),
            deliverable=m.deliverable,
            late=m.late,
            receipt=m.receipt,
        )
        for m in sorted(fresh, key=lambda m: (m.arrived, m.pk), reverse=True)
    )


def _outcome(mail: MailFact) -> str:
    if mail.status != "processed":
        return mail.status
    if mail.kind != "submission":
        return mail.kind
    return mail.verdict or "unjudged"


def _sender(mail: MailFact) -> str:
    if mail.sender_name and mail.sender:
        return f"{mail.sender_name} <{mail.sender}>"
    return mail.sender or mail.sender_name or "（发件人不明）"


def waiting(statuses: Iterable[BranchStatus], mails: Iterable[MailFact], now: dt.datetime) -> tuple[Waiting, ...]:
    latest = {(m.branch, m.deliverable, m.arrived): m for m in mails if m.branch and m.status == "processed"}
    rows = [s for s in statuses if s.known and s.status in CORRECTING and s.last_arrived is not None]
    result = []
    for s in rows:
        assert s.last_arrived is not None
        mail = latest.get((s.branch, s.deliverable, s.last_arrived))
        asked = s.last_arrived.astimezone(now.tzinfo)
        problems, receipt = (mail.problems, mail.receipt or "") if mail else ((), "")
        result.append(Waiting(s.branch, s.deliverable, asked, now - asked, s.status, problems, receipt))
    return tuple(sorted(result, key=lambda w: w.asked, reverse=True))


def missing(
    statuses: Iterable[BranchStatus],
    roster: Roster,
    activities: Iterable[PlannedActivity],
    deliverables: tuple[str, ...],
    campaign: Campaign,
    now: dt.datetime,
) -> tuple[Missing, ...]:
    absent = {(s.branch, s.deliverable) for s in statuses if s.known and s.status == "missing"}
    contacts = latest_contacts(activities)
    return tuple(
        Missing(b.name, b.kind, d, now >= campaign.deadline(d), b.emails, contacts.get(b.name))
        for d in deliverables
        for b in roster.branches
        if (b.name, d) in absent
    )


def latest_contacts(activities: Iterable[PlannedActivity]) -> dict[str, Contact]:
    """Each branch's contact as its newest form gives it."""
    contacts: dict[str, Contact] = {}
    for activity in sorted(activities, key=lambda a: a.arrived):
        if activity.contact.name or activity.contact.mobile or activity.contact.office_phone:
            contacts[activity.branch] = activity.contact
    return contacts


def late(statuses: Iterable[BranchStatus], campaign: Campaign) -> tuple[Late, ...]:
    zone = campaign.zone
    rows = []
    for s in statuses:
        if s.known and s.late and s.last_arrived is not None:
            arrived = s.last_arrived.astimezone(zone)
            deadline_day = campaign.last_day(s.deliverable)
            rows.append(Late(s.branch, s.deliverable, arrived, (arrived.date() - deadline_day).days, s.status))
    return tuple(sorted(rows, key=lambda r: r.arrived, reverse=True))


def set_aside(
    mails: Iterable[MailFact],
    replies: Iterable[ReplyFact],
    zone: dt.tzinfo,
    notify_forwarded: bool = True,
    handled: frozenset[int] = frozenset(),
) -> tuple[SetAside, ...]:
    """Mail a person must look at (unless staff marked it handled): failed processing, unknown senders, bounces,
    replies the server refused, mail left unanswered because its sender had reached the daily reply cap (a mail
    loop, often), and the newest version of a form read by OCR."""
    rows: list[SetAside] = []
    mails = list(mails)
    newest = _newest_submissions(mails)
    for m in mails:
        if m.pk in handled:
            continue
        reason = _aside_reason(m, notify_forwarded)
        if not reason and m.ocr_notes and m.verdict == "accepted" and newest.get((m.branch, m.deliverable)) == m.pk:
            reason = "read_by_ocr"  # accepted as OCR read it: a person checks it against the picture
        if reason:
            detail = m.error if reason == "failed" else _detail(m)
            at = m.arrived.astimezone(zone)
            rows.append(SetAside(at, reason, _sender(m), m.subject, detail, m.pk, _resolve(reason, m.receipt)))
    for r in replies:
        if r.status == "failed":
            who = r.branch or r.to_address
            rows.append(SetAside(r.created.astimezone(zone), "reply_refused", who, r.kind, r.last_error, None))
    return tuple(sorted(rows, key=lambda r: r.at, reverse=True))


def _aside_reason(mail: MailFact, notify_forwarded: bool) -> str:
    if mail.status == "failed":
        return "failed"
    if mail.status != "processed":
        return ""
    if mail.kind == "bounce":
        return "bounce"
    if mail.kind == "for_person":  # a question, or other words the bot does not answer
        # Its short note not sent: the cap was reached, as an autoresponder answering every note reaches it.
        return "reply_capped" if notify_forwarded and not mail.replied else "for_person"
    if mail.kind == "unauthenticated":  # a roster address the receiving server did not vouch for
        return "unauthenticated"
    if mail.kind == "staff_refused":  # commands from a mail the bot would not take them from
        return "staff_refused"
    if (mail.kind == "link" or (mail.kind == "submission" and mail.verdict is not None)) and not mail.replied:
        return "reply_capped"
    if mail.kind == "submission" and mail.branch is None:
        return "unknown_sender"
    return ""


# What staff write back, one line, to take care of a mail set aside (RECEIPT filled in; parsers.staff reads it).
RESOLVE = {
    "for_person": "已处理 {receipt}",
    "unknown_sender": "转给 单位名称 {receipt} 并添加地址",
    "unauthenticated": "放行 {receipt}",
    "reply_capped": "放行 {receipt}",
    "read_by_ocr": "已处理 {receipt}",
}


def _resolve(reason: str, receipt: str | None) -> str:
    return RESOLVE[reason].format(receipt=receipt) if receipt and reason in RESOLVE else ""


def _newest_submissions(mails: Iterable[MailFact]) -> dict[tuple[str | None, str | None], int]:
    """The newest judged submission of each branch and deliverable: an older version needs no checking."""
    newest: dict[tuple[str | None, str | None], int] = {}
    for m in mails:
        if m.kind == "submission" and m.verdict is not None and m.branch is not None:
            newest[(m.branch, m.deliverable)] = max(m.pk, newest.get((m.branch, m.deliverable), 0))
    return newest


def _detail(mail: MailFact) -> str:
    """What staff read under a mail set aside: its receipt; for a mail for a person what it said; for a form read
    by OCR the fields it was unsure of."""
    said = " ".join(mail.excerpt.split())
    unsure = [n for n in mail.ocr_notes if n != "扫描件"]
    ocr = ("识别不确定：" + "；".join(unsure)) if unsure else ("逐项核对识别结果" if mail.ocr_notes else "")
    return "；".join(part for part in (mail.receipt or "", f"来信：{said}" if said else "", ocr) if part)


def sent_since(replies: Iterable[ReplyFact], since: dt.datetime, now: dt.datetime) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    for r in replies:
        if since < r.created <= now and r.kind != "digest" and r.status in ("pending", "sent"):
            counts[r.kind] = counts.get(r.kind, 0) + 1
    return tuple(sorted(counts.items()))


def reminders_since(replies: Iterable[ReplyFact], since: dt.datetime, now: dt.datetime) -> tuple[ReminderSent, ...]:
    rows = sorted((r for r in replies if r.kind == "reminder" and since < r.created <= now), key=lambda r: r.created)
    return tuple(ReminderSent(r.branch, r.deliverable, r.to_address, r.status) for r in reversed(rows))


def health(snapshot: Snapshot, now: dt.datetime) -> Health:
    polls = tuple(
        PollHealth(name, at.astimezone(now.tzinfo), now - at, now - at > STALE_POLL)
        for name, at in sorted(snapshot.polls)
    )
    pending = [r for r in snapshot.replies if r.status == "pending"]
    stuck = tuple(
        StuckReply(r.kind, r.branch, r.created.astimezone(now.tzinfo), r.attempts, r.last_error)
        for r in sorted(pending, key=lambda r: r.created)
        if r.attempts > 0 or now - r.created > STUCK_AFTER
    )
    return Health(
        polls=polls,
        pending=len(pending),
        stuck=stuck,
        refused=sum(r.status == "failed" for r in snapshot.replies),
        failed_mails=sum(m.status == "failed" for m in snapshot.mails),
    )


def tally_modules(activities: Iterable[PlannedActivity], campaign: Campaign) -> tuple[Tally, ...]:
    items = list(activities)
    names = [*campaign.form.modules]
    if any(not a.modules for a in items):
        names.append("")
    return tuple(
        Tally(
            name,
            sum(a.accepted and _has_module(a, name) for a in items),
            sum(not a.accepted and _has_module(a, name) for a in items),
        )
        for name in names
    )


def _has_module(activity: PlannedActivity, name: str) -> bool:
    return name in activity.modules if name else not activity.modules


def tally_stages(activities: Iterable[PlannedActivity], campaign: Campaign) -> tuple[StageTally, ...]:
    items = list(activities)
    known = {stage.number for stage in campaign.stages}
    tallies = [
        StageTally(
            stage.number,
            stage.start,
            stage.end,
            sum(a.accepted and a.stage == stage.number for a in items),
            sum(not a.accepted and a.stage == stage.number for a in items),
        )
        for stage in campaign.stages
    ]
    unstaged = [a for a in items if a.stage not in known]
    if unstaged:
        accepted = sum(a.accepted for a in unstaged)
        tallies.append(StageTally(None, None, None, accepted, len(unstaged) - accepted))
    return tuple(tallies)


def branch_rows(
    statuses: Iterable[BranchStatus], roster: Roster, activities: Iterable[PlannedActivity], zone: dt.tzinfo
) -> tuple[BranchRow, ...]:
    items = list(activities)
    contacts = latest_contacts(items)
    by_branch: dict[str, dict[str, DeliverableState]] = {}
    for s in statuses:
        last = s.last_arrived.astimezone(zone) if s.last_arrived else None
        by_branch.setdefault(s.branch, {})[s.deliverable] = DeliverableState(s.status, s.versions, last, s.late)
    kinds = {b.name: b for b in roster.branches}
    rows = []
    for name, states in by_branch.items():
        branch = kinds.get(name)
        rows.append(
            BranchRow(
                branch=name,
                kind=branch.kind if branch else "",
                known=branch is not None,
                emails=branch.emails if branch else (),
                states=tuple((d, states.get(d, DeliverableState("missing", 0, None, False))) for d in DELIVERABLES),
                accepted_activities=sum(a.branch == name and a.accepted for a in items),
                correcting_activities=sum(a.branch == name and not a.accepted for a in items),
                contact=contacts.get(name),
            )
        )
    return tuple(rows)
