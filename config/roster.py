"""The roster: who is asked to submit, under which names and from which addresses — checked as it is read from
the .csv or .xlsx staff keep, and watched for changes while the bot runs."""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from email_validator import EmailNotValidError, validate_email

from config.errors import ConfigError
from config.roster_file import COLUMNS, RosterFileError, RosterRow, RosterTable, read_bytes, read_table

log = logging.getLogger(__name__)

KINDS = ("分支机构", "地方学会", "科普教育基地")  # the kinds of branch the campaign's notice addresses
Severity = Literal["error", "warning"]
# Several addresses or aliases in one cell: however staff separate them; an address has no spaces, a name may.
_EMAIL_SEPARATORS = re.compile(r"[;；,，、\s]+")
_ALIAS_SEPARATORS = re.compile(r"[;；,，、\r\n]+")


@dataclass(frozen=True)
class Branch:
    name: str
    kind: str
    emails: tuple[str, ...]
    aliases: tuple[str, ...]

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Roster:
    branches: tuple[Branch, ...]

    def find_by_name(self, written: str) -> Branch | None:
        """The branch a form's organiser names, ignoring spacing and full/half-width forms."""
        key = name_key(written)
        if not key:
            return None
        return next((b for b in self.branches if key in {name_key(n) for n in b.names()}), None)

    def find_by_address(self, address: str) -> Branch | None:
        wanted = address.strip().lower()
        return next((b for b in self.branches if wanted in b.emails), None)


@dataclass(frozen=True)
class RosterProblem:
    row: int | None  # as the spreadsheet numbers it; None for the file as a whole
    column: str  # the column's header as written in the file ("邮箱", "emails"); "表头" or "" for the file
    code: str
    message: str  # Chinese, for staff
    severity: Severity

    def where(self) -> str:
        return f"第{self.row}行 {self.column}" if self.row else self.column


@dataclass(frozen=True)
class RosterReport:
    path: str
    rows: int  # rows read as branches, whether or not they have problems
    problems: tuple[RosterProblem, ...]
    roster: Roster | None  # None when an error keeps the roster from loading

    @property
    def errors(self) -> tuple[RosterProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[RosterProblem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")


def name_key(text: str) -> str:
    """A comparable form of an organisation name: NFKC, no spaces, no quotes."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "\"'“”‘’《》")


def default_roster_path() -> Path:
    return Path(str(resources.files("config").joinpath("roster.csv")))


def load_roster(path: Path | None = None) -> Roster:
    """The roster, or a ConfigError naming the first error; warnings are logged and the roster loads."""
    return _roster_or_raise(check_roster(path or default_roster_path()))


def check_roster(path: Path) -> RosterReport:
    """Every problem in a roster file, as data; a file that cannot be read is one problem, not an exception."""
    try:
        data = read_bytes(path)
    except RosterFileError as exc:
        return _unreadable(path, exc)
    return check_roster_data(data, path)


def check_roster_data(data: bytes, path: Path) -> RosterReport:
    """A roster file's bytes checked: pure; `path` names the file and, for a CSV, its suffix is not needed."""
    try:
        table = read_table(data, path)
    except RosterFileError as exc:
        return _unreadable(path, exc)
    branches, problems = _check(table)
    errors = any(p.severity == "error" for p in problems)
    return RosterReport(str(path), len(table.rows), problems, None if errors else Roster(branches))


def roster_fingerprint(path: Path) -> str:
    """The SHA-256 of the file's bytes: what changed() compares; raises ConfigError when it cannot be read."""
    return hashlib.sha256(read_bytes(path)).hexdigest()


class RosterSource:
    """The roster file `subbot run` works from: `changed()` is cheap (a stat, and a hash when the stat moved), so
    it can be asked every loop; `load()` reads what is there now."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_roster_path()
        self._stat: tuple[int, int, int] | None = None
        self._digest: str | None = None  # of the bytes last loaded, or tried: a broken file is reported once

    def changed(self) -> bool:
        """Whether the file's bytes differ from those last loaded (a save without changes does not count)."""
        stat = _stat(self.path)
        if stat == self._stat:
            return False
        try:
            digest = roster_fingerprint(self.path)
        except ConfigError:
            return True  # gone or unreadable: load() says so, once
        if digest == self._digest:
            self._stat = stat
            return False
        return True

    def load(self) -> Roster:
        """The roster as the file is now, or ConfigError; either way changed() is False until the file changes."""
        self._stat = _stat(self.path)  # before reading: a write after it is seen as a change next time
        self._digest = None
        data = read_bytes(self.path)
        self._digest = hashlib.sha256(data).hexdigest()
        return _roster_or_raise(check_roster_data(data, self.path))


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _roster_or_raise(report: RosterReport) -> Roster:
    if report.roster is None:
        first, count = report.errors[0], len(report.errors)
        more = f"（共 {count} 处错误，可用 subbot roster check 查看全部）" if count > 1 else ""
        raise ConfigError(report.path, first.where(), first.message + more)
    for problem in report.warnings:
        log.warning("roster %s: %s: %s", report.path, problem.where(), problem.message)
    return report.roster


def _unreadable(path: Path, exc: RosterFileError) -> RosterReport:
    return RosterReport(str(path), 0, (RosterProblem(None, exc.key, exc.code, exc.problem, "error"),), None)


@dataclass(frozen=True)
class _Entry:
    row: int
    branch: Branch


def _check(table: RosterTable) -> tuple[tuple[Branch, ...], tuple[RosterProblem, ...]]:
    """Each row on its own, then the rows against each other: a name, alias or address means one branch."""
    problems: list[RosterProblem] = []
    entries: list[_Entry] = []
    for row in table.rows:
        problems += _row_problems(row)
        if _clean(row.cells["name"]):
            entries.append(_Entry(row.number, _branch(row)))
    problems += _clashes(entries)
    order = {column: i for i, column in enumerate(COLUMNS)}
    problems.sort(key=lambda p: (p.row or 0, order.get(p.column, 0)))  # columns still by their English names
    named = [_named(p, table) for p in problems]
    return tuple(e.branch for e in entries), tuple(named)


def _named(problem: RosterProblem, table: RosterTable) -> RosterProblem:
    """The problem with its column as the file's header writes it."""
    written = table.headers.get(problem.column, problem.column)
    return RosterProblem(problem.row, written, problem.code, problem.message, problem.severity)


def _branch(row: RosterRow) -> Branch:
    name = _clean(row.cells["name"])
    key = name_key(name)
    aliases = _unique((a for a in _aliases(row) if name_key(a) != key), name_key)
    emails = _unique(a for a in _addresses(row) if _valid(a))
    return Branch(name, _clean(row.cells["kind"]), tuple(emails), tuple(aliases))


def _row_problems(row: RosterRow) -> Iterator[RosterProblem]:
    def problem(column: str, code: str, message: str, severity: Severity = "error") -> RosterProblem:
        return RosterProblem(row.number, column, code, message, severity)

    name = _clean(row.cells["name"])
    if not name:
        yield problem("name", "empty_name", "单位名称不能为空")
        return
    kind = _clean(row.cells["kind"])
    if not kind:
        yield problem("kind", "unknown_kind", "类型为空（合并的单元格只有第一行有值，请逐行填写）", "warning")
    elif kind not in KINDS:
        yield problem("kind", "unknown_kind", f"类型「{kind}」不是{'、'.join(KINDS)}之一", "warning")
    addresses = _addresses(row)
    for address in addresses:
        if not _valid(address):
            yield problem("emails", "bad_email", f"「{address}」不是有效的邮箱地址{_hint(address)}")
    for address in _repeated(addresses):
        yield problem("emails", "repeated", f"邮箱 {address} 在本行重复", "warning")
    if not addresses:
        yield problem("emails", "no_email", "没有邮箱，无法向该单位发提醒，其来信只能凭单位名称认出", "warning")
    for alias in _aliases(row):
        if name_key(alias) == name_key(name):
            yield problem("aliases", "repeated", f"别名「{alias}」与单位名称相同，可删去", "warning")
    for alias in _repeated(_aliases(row), name_key):
        yield problem("aliases", "repeated", f"别名「{alias}」在本行重复", "warning")


def _clashes(entries: list[_Entry]) -> Iterator[RosterProblem]:
    """A name, alias or address that two rows claim: the bot could not tell those branches apart."""
    names: dict[str, _Entry] = {}
    for entry in entries:
        key = name_key(entry.branch.name)
        if key in names:
            first = names[key]
            message = f"「{entry.branch.name}」与第{first.row}行的「{first.branch.name}」是同一单位名称"
            yield RosterProblem(entry.row, "name", "duplicate_name", message, "error")
        else:
            names[key] = entry
    aliases: dict[str, _Entry] = {}
    emails: dict[str, _Entry] = {}
    for entry in entries:
        for alias in entry.branch.aliases:
            key = name_key(alias)
            if key in names and names[key] is not entry:
                other = names[key]
                message = f"别名「{alias}」是第{other.row}行单位「{other.branch.name}」的名称"
                yield RosterProblem(entry.row, "aliases", "alias_is_name", message, "error")
            elif key in aliases:
                other = aliases[key]
                message = f"别名「{alias}」也是第{other.row}行「{other.branch.name}」的别名"
                yield RosterProblem(entry.row, "aliases", "duplicate_alias", message, "error")
            else:
                aliases[key] = entry
        for address in entry.branch.emails:
            if address in emails:
                other = emails[address]
                message = f"邮箱 {address} 已列在第{other.row}行「{other.branch.name}」名下"
                yield RosterProblem(entry.row, "emails", "shared_email", message, "error")
            else:
                emails[address] = entry


def _addresses(row: RosterRow) -> list[str]:
    """The cell's addresses, as typed with a Chinese IME too: NFKC makes a full-width ＠ or ． ASCII, and a 。
    is taken for the period it stands for."""
    text = unicodedata.normalize("NFKC", row.cells["emails"]).replace("。", ".").lower()
    return [part for part in _EMAIL_SEPARATORS.split(text) if part]


def _aliases(row: RosterRow) -> list[str]:
    return [alias for part in _ALIAS_SEPARATORS.split(row.cells["aliases"]) if (alias := _clean(part))]


def _valid(address: str) -> bool:
    """Whether it is an address; kept as typed (lower-cased), since that is how find_by_address compares."""
    try:
        validate_email(address, check_deliverability=False)  # no DNS: the roster is checked offline
    except EmailNotValidError:
        return False
    return True


def _hint(address: str) -> str:
    """What is most likely wrong with an address staff typed, when it is one of the usual slips."""
    if "@" not in address:
        return "（缺少 @）"
    if address.count("@") > 1:
        return "（多了一个 @，几个邮箱之间请用分号分隔）"
    if "." not in address.rpartition("@")[2]:
        return "（@ 后的域名不完整）"
    return ""


def _clean(text: str) -> str:
    """One line: a line break typed inside a name cell is a space at most."""
    return " ".join(text.split())


def _unique(items: Iterable[str], key: Callable[[str], str] = str) -> list[str]:
    """The items without repeats, the first of each kept."""
    kept: dict[str, str] = {}
    for item in items:
        kept.setdefault(key(item), item)
    return list(kept.values())


def _repeated(items: Iterable[str], key: Callable[[str], str] = str) -> list[str]:
    """The items that repeat an earlier one."""
    seen: set[str] = set()
    repeats: list[str] = []
    for item in items:
        if key(item) in seen:
            repeats.append(item)
        seen.add(key(item))
    return repeats
