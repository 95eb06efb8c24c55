"""What reading a plan form yields: frozen records, with the raw text kept beside each parsed value."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FormLayout:
    """The form's vocabulary, as the campaign configures it; the reader and the writer share it."""

    labels: dict[str, tuple[str, ...]]
    modules: tuple[str, ...]
    audiences: tuple[str, ...]
    year: int
    attachment_heading: str
    title: str
    section_info: str
    section_plan: str
    module_hint: str
    time_placeholder: str
    plan_instruction: str

    def label(self, key: str) -> str:
        return self.labels[key][0]


@dataclass(frozen=True)
class Choices:
    """Options ticked in a multiple-choice cell; `unclear` are options whose mark could not be read."""

    text: str
    selected: tuple[str, ...] = ()
    unclear: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timing:
    """The 拟举办时间 cell: stage and dates, or why they could not be read."""

    text: str
    stage: int | None = None
    stage_text: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    # None when the dates read cleanly; else "missing", "unparsed" or "invalid".
    dates_problem: str | None = None
    dates_text: str = ""


@dataclass(frozen=True)
class Contact:
    name: str = ""
    office_phone: str = ""
    mobile: str = ""
    fax: str = ""
    email: str = ""


@dataclass(frozen=True)
class Activity:
    organiser: str = ""
    title: str = ""
    modules: Choices = field(default_factory=lambda: Choices(""))
    co_organiser: str = ""
    timing: Timing = field(default_factory=lambda: Timing(""))
    venue: str = ""
    audiences: Choices = field(default_factory=lambda: Choices(""))
    scale: str = ""
    scale_people: int | None = None
    contact: Contact = field(default_factory=Contact)
    address: str = ""
    plan_text: str = ""


@dataclass(frozen=True)
class Unreadable:
    """Why a file could not be read at all, in words for the sender; `detail` is for staff and logs."""

    code: str
    message: str
    detail: str = ""


@dataclass(frozen=True)
class PlanRead:
    """One file's reading: its activities, or why it could not be read."""

    name: str
    kind: str
    activities: tuple[Activity, ...] = ()
    unreadable: Unreadable | None = None
    # Activity tables found with nothing filled in (a copied blank table, or the blank form sent back).
    blank_tables: int = 0
    # "text" when the file's own text was read; "ocr" when it was a scan or photo read by OCR
    # (parsers.scan), whose values a person may want to check before they are relied on.
    read_by: str = "text"
    # Fields OCR read with low confidence, as (activity index, field key): a label key of the form
    # ("venue", "time", "contact.mobile", "plan_text"; see parsers.scan.doubts.UNCERTAIN_BELOW).
    uncertain: tuple[tuple[int, str], ...] = ()
