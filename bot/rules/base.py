"""What every rule receives and returns: an activity and the campaign in, findings out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from bot.findings import Finding, Severity
from config import Campaign, Roster
from parsers.records import Activity


@dataclass(frozen=True)
class Context:
    campaign: Campaign
    roster: Roster

    def label(self, key: str) -> str:
        """The field's name as printed on the form, in 「」 for messages."""
        return f"「{self.campaign.form.labels[key][0]}」"


Rule = Callable[[Activity, Context], list[Finding]]


def finding(field: str, code: str, message: str, severity: Severity = "error") -> Finding:
    """A finding about the activity under check; the runner fills in which activity."""
    return Finding(None, field, severity, code, message)


def day(date: dt.date) -> str:
    return f"{date.month}月{date.day}日"


def span(start: dt.date, end: dt.date) -> str:
    return day(start) if start == end else f"{day(start)}—{day(end)}"
