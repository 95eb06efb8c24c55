"""A finding: one thing a rule noticed about a submission, as data for replies, the ledger and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
Verdict = Literal["accepted", "needs_correction", "unreadable"]


@dataclass(frozen=True)
class Finding:
    activity: int | None
    field: str
    severity: Severity
    code: str
    message: str


def verdict_of(findings: tuple[Finding, ...], unreadable: bool) -> Verdict:
    if unreadable:
        return "unreadable"
    return "needs_correction" if any(f.severity == "error" for f in findings) else "accepted"
