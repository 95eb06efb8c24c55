"""`plan_export`: where each stored photo, video and document of the summaries goes in the exported tree,
`单位/活动/文件`, and one index row for everything the summaries brought (links and repeats too). Pure: the
ledger's records in, the same plan out for the same ledger.

The activity folder is the title of the activity the summary reported; a summary that reported several is
「多项活动」 (the index names them), one that reported none 「未对应活动」. A content a branch sent twice is written
once, where it first came; its repeats are index rows pointing there."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import PurePosixPath

from bot.jobs.export.names import ACTIVITY_CHARS, BRANCH_CHARS, FILE_CHARS, file_name, folder_name, unique, when_taken
from bot.ledger.summaries import MediaItem, SummaryMail, SummaryRecords, TrackedActivity
from config import Roster

SEVERAL = "多项活动"
NONE = "未对应活动"
UNKNOWN_SENDER = "名单外"  # a sender the roster does not list: 名单外-address
# Beside the branches' folders: the index staff open, and the list of what the last export wrote.
INDEX = "索引.xlsx"
MANIFEST = ".subbot-export.json"


@dataclass(frozen=True)
class ExportFile:
    """One stored file to write: `path` (POSIX, relative to the export folder) from `source` (relative to the
    data folder)."""

    path: str
    source: str
    sha256: str
    size: int | None
    mtime: dt.datetime  # aware: when it was taken (read in the campaign's timezone), else when the mail came


@dataclass(frozen=True)
class IndexRow:
    branch: str
    activities: tuple[str, ...]  # the titles of the activities the summary reported
    kind: str  # photo | video | document | other | link
    written: str  # the path it was written to (a repeat: where the first one is), "" for a link
    repeat: bool
    name: str  # as the sender named it, or the link's URL
    taken_at: dt.datetime | None
    arrived: dt.datetime  # campaign time
    size: int | None
    sha256: str
    receipt: str
    verdict: str
    stored: bool  # False when the ledger recorded it without keeping the file (it cannot be exported)


@dataclass(frozen=True)
class ExportPlan:
    files: tuple[ExportFile, ...]
    rows: tuple[IndexRow, ...]
    latest: dt.datetime | None  # the newest summary mail's arrival: what the index is as of


def plan_export(records: SummaryRecords, roster: Roster, zone: dt.tzinfo) -> ExportPlan:
    mails = {m.pk: m for m in records.mails}
    titles = _titles(records.activities)
    order = {b.name: i for i, b in enumerate(roster.branches)}
    items = sorted(
        (item for item in records.media if item.message_pk in mails),
        key=lambda item: (_branch_order(mails[item.message_pk], order), item.id),
    )
    tree = _Tree()
    written: dict[tuple[str, str], str] = {}  # (branch key, sha256) -> where it was written
    files: list[ExportFile] = []
    rows: list[IndexRow] = []
    for item in items:
        mail = mails[item.message_pk]
        reported = tuple(dict.fromkeys(titles[pk] for pk in sorted(mail.reported) if pk in titles))
        arrived = mail.arrived.astimezone(zone)
        key = (mail.branch_key, item.sha256 or "")
        repeat = key in written
        if item.kind != "link" and item.sha256 and item.stored_path and not repeat:
            name = file_name(item.name, _suffix(item.stored_path), when_taken(item.taken_at, arrived.date()), "附件")
            written[key] = tree.place(mail, _activity_folder(reported), name)
            moment = item.taken_at.replace(tzinfo=zone) if item.taken_at else arrived
            files.append(ExportFile(written[key], item.stored_path, item.sha256, item.size, moment))
        rows.append(_row(item, mail, reported, arrived, written.get(key, "") if item.sha256 else "", repeat))
    latest = max((m.arrived.astimezone(zone) for m in records.mails), default=None)
    return ExportPlan(tuple(files), tuple(rows), latest)


def _row(
    item: MediaItem, mail: SummaryMail, reported: tuple[str, ...], arrived: dt.datetime, written: str, repeat: bool
) -> IndexRow:
    return IndexRow(
        branch=mail.branch if mail.branch is not None else f"{UNKNOWN_SENDER} {mail.sender}",
        activities=reported,
        kind=item.kind,
        written=written,
        repeat=repeat,
        name=item.name,
        taken_at=item.taken_at,
        arrived=arrived,
        size=item.size,
        sha256=item.sha256 or "",
        receipt=mail.receipt or "",
        verdict=mail.verdict or "",
        stored=item.kind == "link" or item.stored_path is not None,
    )


class _Tree:
    """The folders and names given so far: each unique in its folder whatever its case, in the order asked."""

    def __init__(self) -> None:
        self.branches: dict[str, str] = {}  # branch key -> its folder
        self.activities: dict[tuple[str, str], str] = {}  # (branch key, activity) -> its folder
        # a folder ("" for the top) -> the casefolded names in it
        self.taken: dict[str, set[str]] = {"": {INDEX.casefold(), MANIFEST.casefold()}}

    def place(self, mail: SummaryMail, activity: str, name: str) -> str:
        if mail.branch_key not in self.branches:
            label = mail.branch if mail.branch is not None else f"{UNKNOWN_SENDER}-{mail.sender}"
            self.branches[mail.branch_key] = self._claim("", folder_name(label, BRANCH_CHARS, "未知单位"), BRANCH_CHARS)
        branch = self.branches[mail.branch_key]
        if (mail.branch_key, activity) not in self.activities:
            folder = self._claim(branch, folder_name(activity, ACTIVITY_CHARS, "未命名活动"), ACTIVITY_CHARS)
            self.activities[(mail.branch_key, activity)] = f"{branch}/{folder}"
        folder = self.activities[(mail.branch_key, activity)]
        return f"{folder}/{self._claim(folder, name, FILE_CHARS)}"

    def _claim(self, folder: str, name: str, limit: int) -> str:
        return unique(name, self.taken.setdefault(folder, set()), limit)


def _titles(activities: tuple[TrackedActivity, ...]) -> dict[int, str]:
    """Every version's id to the activity's current title."""
    return {version: a.title for a in activities for version in a.versions}


def _branch_order(mail: SummaryMail, order: dict[str, int]) -> tuple[int, str]:
    if mail.branch is not None and mail.branch in order:
        return (order[mail.branch], "")
    return (len(order), mail.branch_key)


def _activity_folder(reported: tuple[str, ...]) -> str:
    if len(reported) == 1:
        return reported[0]
    return SEVERAL if reported else NONE


def _suffix(stored_path: str) -> str:
    """The ending the store gave the file by its content (".bin" when it could not tell)."""
    return PurePosixPath(stored_path).suffix or ".bin"
