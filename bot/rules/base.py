"""What every plan rule receives and returns: an activity and the campaign in, findings out."""

from __future__ import annotations

from collections.abc import Callable

from bot.rules.findings import Finding, Severity
from config import Context
from parsers.records import Activity

Rule = Callable[[Activity, Context], list[Finding]]


def finding(field: str, code: str, message: str, severity: Severity = "error") -> Finding:
    """A finding about the activity under check; the runner fills in which activity."""
    return Finding(None, field, severity, code, message)
