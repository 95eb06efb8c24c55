"""The roster: who is asked to submit, under which names and from which addresses."""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from config.errors import ConfigError

_COLUMNS = ("name", "kind", "emails", "aliases")


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


def name_key(text: str) -> str:
    """A comparable form of an organisation name: NFKC, no spaces, no quotes."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "\"'“”‘’《》")


def default_roster_path() -> Path:
    return Path(str(resources.files("config").joinpath("roster.csv")))


def load_roster(path: Path | None = None) -> Roster:
    path = path or default_roster_path()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(path, "", f"无法读取：{exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(path, "", "应为 UTF-8 编码的 CSV 文件") from exc
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in _COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise ConfigError(path, "表头", f"缺少列 {missing}，应为 {','.join(_COLUMNS)}")
    branches = [_branch(path, line, row) for line, row in enumerate(reader, start=2)]
    _refuse_duplicates(path, branches)
    return Roster(tuple(branches))


def _branch(path: Path, line: int, row: dict[str, str]) -> Branch:
    name = (row.get("name") or "").strip()
    if not name:
        raise ConfigError(path, f"第{line}行 name", "单位名称不能为空")
    emails = tuple(e.strip().lower() for e in _split(row.get("emails")))
    bad = [e for e in emails if "@" not in e]
    if bad:
        raise ConfigError(path, f"第{line}行 emails", f"不是邮箱地址：{bad}")
    return Branch(name, (row.get("kind") or "").strip(), emails, tuple(_split(row.get("aliases"))))


def _split(cell: str | None) -> list[str]:
    return [part.strip() for part in (cell or "").split(";") if part.strip()]


def _refuse_duplicates(path: Path, branches: list[Branch]) -> None:
    seen: dict[str, str] = {}
    for branch in branches:
        for key in [name_key(n) for n in branch.names()] + list(branch.emails):
            if key in seen and seen[key] != branch.name:
                raise ConfigError(path, branch.name, f"「{key}」同时属于「{seen[key]}」和「{branch.name}」")
            seen[key] = branch.name
