"""What the digest needs of the ledger, as frozen records: read once at the edge (query.py), used purely after."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.ledger.status import BranchStatus
from bot.ledger.summaries import SummaryRecords
from parsers.records import Contact


@dataclass(frozen=True)
class PlannedActivity:
    """The current version of one activity, every form field as `subbot check --json` shows it."""

    branch: str  # the roster branch, or "" for a sender the roster does not list
    receipt: str
    arrived: dt.datetime
    version: int
    accepted: bool
    organiser: str
    title: str
    modules: tuple[str, ...]
    co_organiser: str
    stage: int | None
    start: dt.date | None
    end: dt.date | None
    venue: str
    audiences: tuple[str, ...]
    scale: str
    contact: Contact
    address: str
    plan_text: str


@dataclass(frozen=True)
class MailFact:
    pk: int
    arrived: dt.datetime
    recorded: dt.datetime
    status: str  # processed | failed | duplicate
    kind: str  # submission | thanks | for_person | link | auto_reply | bounce | own..., "" when processing failed
    sender: str
    sender_name: str
    subject: str
    branch: str | None
    deliverable: str | None
    verdict: str | None
    late: bool
    receipt: str | None
    error: str  # the last line of the traceback, for failed messages
    attempts: int
    problems: tuple[str, ...]  # the error findings' messages, in the order found
    # A reply queued for it (of any status). A judged submission without one was over the sender's daily
    # reply cap: the only reason `decide` answers a submission with none.
    replied: bool = True
    excerpt: str = ""  # what a mail for a person said, first lines
    # A form read by OCR: the warnings that say so and name the fields read with low confidence.
    ocr_notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReplyFact:
    kind: str  # ack | correction | reminder | digest
    status: str  # pending | sent | suppressed | failed
    to_address: str
    branch: str | None
    deliverable: str | None
    for_day: dt.date | None
    created: dt.datetime
    attempts: int
    last_error: str


@dataclass(frozen=True)
class LearnedFact:
    """An address the bot learned for a branch (bot.intake.senders), and not taken back."""

    at: dt.datetime
    address: str
    branch: str
    how: str  # organiser | summary | staff
    receipt: str | None  # of the mail it was learned from


@dataclass(frozen=True)
class StaffFact:
    """One thing staff did (or tried: `refused` says why it was not done)."""

    at: dt.datetime
    who: str
    via: str
    verb: str
    receipt: str | None
    branch: str | None
    deliverable: str | None
    text: str
    refused: str


@dataclass(frozen=True)
class Snapshot:
    """Everything the digest reads, at one instant. Times are aware (UTC)."""

    statuses: tuple[BranchStatus, ...]
    mails: tuple[MailFact, ...]
    activities: tuple[PlannedActivity, ...]
    replies: tuple[ReplyFact, ...]
    polls: tuple[tuple[str, dt.datetime], ...]  # (mailbox, last successful poll)
    last_digest: dt.datetime | None
    summaries: SummaryRecords  # the summary round: activities, summary mails, their media
    actions: tuple[StaffFact, ...] = ()
    handled: frozenset[int] = frozenset()  # mail a person took care of
    learned: tuple[LearnedFact, ...] = ()
