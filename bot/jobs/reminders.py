"""Who is reminded today, and why. Pure: the branches' statuses, the campaign, the time and who was
already reminded today go in; the reminders due come out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.ledger.status import BranchStatus
from config import Campaign

DELIVERABLES = ("plan", "summary")
NEEDS_CORRECTION = frozenset({"needs_correction", "unreadable", "no_attachment"})


@dataclass(frozen=True)
class Reminder:
    branch: str
    deliverable: str
    reason: Literal["missing", "correction"]
    day: dt.date  # the local day it is for: one reminder per branch per day
    days_left: int  # whole days to the deadline day; 0 on the day, negative after it


def reminders_due(
    statuses: Sequence[BranchStatus],
    campaign: Campaign,
    now: dt.datetime,
    reminded_today: Collection[str] = (),
) -> tuple[Reminder, ...]:
    """Roster branches to remind now: those without an accepted deliverable on a reminder day."""
    policy = campaign.reminders
    local = now.astimezone(campaign.zone)
    if local.time() < policy.at:
        return ()
    today = local.date()
    planned = {s.branch for s in statuses if s.deliverable == "plan" and s.status == "accepted"}
    due: list[Reminder] = []
    chosen = set(reminded_today)
    for deliverable in DELIVERABLES:
        days_left = (campaign.last_day(deliverable) - today).days
        if not _reminder_day(days_left, policy.days_before, policy.days_after):
            continue
        for status in statuses:
            if status.deliverable != deliverable or not status.known or status.branch in chosen:
                continue
            if deliverable == "summary" and policy.summary_needs_plan and status.branch not in planned:
                continue
            reason = _reason(status.status, policy.corrections)
            if reason is None:
                continue
            chosen.add(status.branch)
            due.append(Reminder(status.branch, deliverable, reason, today, days_left))
    return tuple(due)


def _reminder_day(days_left: int, before: Sequence[int], after: Sequence[int]) -> bool:
    return days_left in before if days_left >= 0 else -days_left in after


def _reason(status: str, corrections: bool) -> Literal["missing", "correction"] | None:
    if status == "missing":
        return "missing"
    if status in NEEDS_CORRECTION and corrections:
        return "correction"
    return None
