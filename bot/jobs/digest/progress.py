"""`build_round`: the summary round as staff follow it — each accepted activity planned → held → summarised, with
what its summaries brought (photos and videos, each content once; press and cloud-drive links), and the branches
with an accepted plan that have sent no summary. Pure: the ledger's records, the roster, the campaign, the time.

A summary's media belong to the activities it reported, accepted or not (the branch was told which): a summary
that reported two activities counts its photos for each. Video-site links (bilibili, 视频号…) count as press."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.ledger.status import BranchStatus, Progress, progress_of
from bot.ledger.summaries import MediaItem, SummaryMail, SummaryRecords, TrackedActivity
from config import Campaign, Roster
from parsers.links import classify_link
from parsers.records import Contact

# Branches owing a summary are all named from this many days before its deadline; earlier, only those whose
# activity is already over (the rest are counted).
LIST_OWED_WITHIN = 14
FILE_KINDS = frozenset({"photo", "video", "document", "other"})


@dataclass(frozen=True)
class MediaCount:
    photos: int  # distinct contents
    videos: int
    press: tuple[str, ...]  # press and video-site links, each once
    drive: tuple[str, ...]  # cloud-drive links
    files: tuple[str, ...]  # the names of the files (photos, videos, documents, others), each content once


@dataclass(frozen=True)
class ActivityLine:
    """One accepted activity of a roster branch (or, with no title, the summaries of a branch that reported none)."""

    branch: str
    title: str  # "" for summaries that reported no accepted activity
    start: dt.date | None
    end: dt.date | None
    progress: Progress | None  # None for summaries that reported no accepted activity
    summary: str  # the verdict of the summary `receipt` names: "" when none reported it
    receipt: str  # the accepted summary's receipt, else the latest summary's that reported it
    summary_at: dt.datetime | None  # when that summary arrived (campaign time)
    receipts: tuple[str, ...]  # every summary mail that reported it, oldest first
    media: MediaCount
    shared: bool  # one of its summaries reported other activities too (their media are counted for each)


@dataclass(frozen=True)
class OwedSummary:
    """A roster branch with an accepted plan (when the campaign asks only those) and no summary mail at all."""

    branch: str
    kind: str
    activities: int
    held: int  # of them over by now
    emails: tuple[str, ...]
    contact: Contact | None


@dataclass(frozen=True)
class SummaryRound:
    shown: bool  # the summary round has begun: the plan deadline passed, or an activity is over, or a summary came
    deadline_day: dt.date
    days_left: int
    progress: tuple[tuple[Progress, int], ...]  # accepted activities of roster branches by progress
    totals: MediaCount  # over every roster branch's summaries; files not listed
    lines: tuple[ActivityLine, ...]  # by roster order, then start; each branch's unmatched summaries last
    reporting: tuple[str, ...]  # branches that sent a summary, the latest first
    owed: tuple[OwedSummary, ...]  # to be named in the mail
    owed_later: int  # owing too, but nothing of theirs is over yet and the deadline is still far: counted
    not_asked: int  # roster branches with no accepted plan, when only those are asked for a summary


def build_round(
    records: SummaryRecords,
    statuses: Iterable[BranchStatus],
    roster: Roster,
    campaign: Campaign,
    contacts: dict[str, Contact],
    now: dt.datetime,
) -> SummaryRound:
    """`now` in the campaign's timezone; `contacts`: each branch's contact from its newest form."""
    today = now.date()
    order = {b.name: i for i, b in enumerate(roster.branches)}
    activities = [a for a in records.activities if a.accepted and a.branch_key in order]
    mails = [m for m in records.mails if m.branch in order]
    media = _by_message(records.media)
    lines = activity_lines(activities, mails, media, today, now.tzinfo)
    lines += unmatched_lines(activities, mails, media, now.tzinfo)
    lines.sort(key=lambda line: (order[line.branch], not line.title, line.start or dt.date.max, line.title))
    deadline_day = campaign.last_day("summary")
    days_left = (deadline_day - today).days
    owing = owed(statuses, roster, lines, campaign.reminders.summary_needs_plan, contacts)
    list_all = days_left <= LIST_OWED_WITHIN
    listed = tuple(o for o in owing if list_all or o.held)
    planned = {line.branch for line in lines if line.title}
    progressed = [line.progress for line in lines if line.progress is not None]
    return SummaryRound(
        shown=now >= campaign.deadline("plan") or any(p != "planned" for p in progressed) or bool(mails),
        deadline_day=deadline_day,
        days_left=days_left,
        progress=tuple((p, progressed.count(p)) for p in ("planned", "held", "summarised")),
        totals=count_media(m for mail in mails for m in media.get(mail.pk, ())),
        lines=tuple(lines),
        reporting=reporting(mails),
        owed=listed,
        owed_later=len(owing) - len(listed),
        not_asked=sum(b.name not in planned for b in roster.branches) if campaign.reminders.summary_needs_plan else 0,
    )


def activity_lines(
    activities: Sequence[TrackedActivity],
    mails: Sequence[SummaryMail],
    media: dict[int, list[MediaItem]],
    today: dt.date,
    zone: dt.tzinfo | None,
) -> list[ActivityLine]:
    by_pk = {m.pk: m for m in mails}
    lines = []
    for activity in activities:
        theirs = [m for m in mails if m.reported & activity.versions]
        accepted = by_pk.get(activity.summary_pk) if activity.summary_pk is not None else None
        shown = accepted or (theirs[-1] if theirs else None)
        lines.append(
            ActivityLine(
                branch=activity.branch_key,
                title=activity.title,
                start=activity.start,
                end=activity.end,
                progress=progress_of(activity.start, activity.end, activity.summary_pk is not None, today),
                summary=(shown.verdict or "") if shown else "",
                receipt=(shown.receipt or "") if shown else "",
                summary_at=shown.arrived.astimezone(zone) if shown else None,
                receipts=tuple(m.receipt for m in theirs if m.receipt),
                media=count_media(item for m in theirs for item in media.get(m.pk, ())),
                shared=any(not m.reported <= activity.versions for m in theirs),
            )
        )
    return lines


def unmatched_lines(
    activities: Sequence[TrackedActivity],
    mails: Sequence[SummaryMail],
    media: dict[int, list[MediaItem]],
    zone: dt.tzinfo | None,
) -> list[ActivityLine]:
    """Per branch, its summaries that reported no accepted activity (a summary before any plan was accepted)."""
    known = frozenset(v for a in activities for v in a.versions)
    stray: dict[str, list[SummaryMail]] = {}
    for mail in mails:
        if not mail.reported & known:
            stray.setdefault(mail.branch_key, []).append(mail)
    return [
        ActivityLine(
            branch=branch,
            title="",
            start=None,
            end=None,
            progress=None,
            summary=theirs[-1].verdict or "",
            receipt=theirs[-1].receipt or "",
            summary_at=theirs[-1].arrived.astimezone(zone),
            receipts=tuple(m.receipt for m in theirs if m.receipt),
            media=count_media(item for m in theirs for item in media.get(m.pk, ())),
            shared=False,
        )
        for branch, theirs in stray.items()
    ]


def count_media(items: Iterable[MediaItem]) -> MediaCount:
    photos: set[str] = set()
    videos: set[str] = set()
    press: dict[str, None] = {}
    drive: dict[str, None] = {}
    files: dict[str, str] = {}
    for item in items:
        if item.kind == "link":
            kind = classify_link(item.name).kind
            if kind == "drive":
                drive[item.name] = None
            elif kind in ("press", "video"):
                press[item.name] = None
            continue
        if item.sha256 is None or item.kind not in FILE_KINDS:
            continue
        files.setdefault(item.sha256, item.name)
        if item.kind == "photo":
            photos.add(item.sha256)
        elif item.kind == "video":
            videos.add(item.sha256)
    return MediaCount(len(photos), len(videos), tuple(press), tuple(drive), tuple(files.values()))


def reporting(mails: Sequence[SummaryMail]) -> tuple[str, ...]:
    """Branches that sent a summary, whatever its verdict: the latest first."""
    latest: dict[str, dt.datetime] = {}
    for mail in mails:
        latest[mail.branch_key] = max(mail.arrived, latest.get(mail.branch_key, mail.arrived))
    return tuple(sorted(latest, key=lambda branch: latest[branch], reverse=True))


def owed(
    statuses: Iterable[BranchStatus],
    roster: Roster,
    lines: Sequence[ActivityLine],
    needs_plan: bool,
    contacts: dict[str, Contact],
) -> list[OwedSummary]:
    missing = {s.branch for s in statuses if s.known and s.deliverable == "summary" and s.status == "missing"}
    rows = []
    for branch in roster.branches:
        theirs = [line for line in lines if line.branch == branch.name and line.title]
        if branch.name not in missing or (needs_plan and not theirs):
            continue
        held = sum(line.progress == "held" for line in theirs)
        rows.append(OwedSummary(branch.name, branch.kind, len(theirs), held, branch.emails, contacts.get(branch.name)))
    return rows


def _by_message(items: Iterable[MediaItem]) -> dict[int, list[MediaItem]]:
    grouped: dict[int, list[MediaItem]] = {}
    for item in items:
        grouped.setdefault(item.message_pk, []).append(item)
    return grouped
