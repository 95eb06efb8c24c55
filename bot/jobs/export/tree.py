"""`export_tree`: a plan written to a folder — each file copied from the data folder (never linked: staff edit,
rotate and delete what they are given, and a hard link would change the stored evidence with it), dated by when
it was taken, then the index and the list of what was written. Run again, it leaves what is already right,
writes what is new, and removes what an earlier export wrote that the ledger no longer places there; a folder
holding anything else is refused."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.jobs.export.plan import INDEX, MANIFEST, ExportFile, ExportPlan

PART = ".subbot-part"  # a file being copied: renamed into place when whole
FORMAT = "subbot-media-export"

Outcome = Literal["written", "unchanged", "missing"]


class ExportRefused(Exception):
    """The folder holds files no earlier export wrote (or is not a folder): nothing was written."""

    def __init__(self, folder: Path, reason: str) -> None:
        super().__init__(f"{folder}：{reason}")
        self.folder = folder
        self.reason = reason


@dataclass(frozen=True)
class Written:
    path: str  # relative to the export folder, POSIX
    sha256: str
    size: int | None
    outcome: Outcome


@dataclass(frozen=True)
class ExportReport:
    folder: Path
    files: tuple[Written, ...]
    removed: tuple[str, ...]  # what an earlier export wrote that is no longer in the plan
    index: str

    def count(self, outcome: Outcome) -> int:
        return sum(f.outcome == outcome for f in self.files)


def export_tree(plan: ExportPlan, data_dir: Path, out: Path, index: Callable[[frozenset[str]], bytes]) -> ExportReport:
    """`index(missing)`: the index workbook, given the planned files whose stored copy is gone."""
    previous = earlier_export(out)
    planned = {f.path: f.sha256 for f in plan.files}
    foreign = sorted(p for p in planned.keys() - previous.keys() if (out / p).exists())
    if foreign:
        raise ExportRefused(out, f"“{foreign[0]}”不是此前导出写入的文件，为免覆盖，未做任何改动")
    out.mkdir(parents=True, exist_ok=True)
    _clear_parts(out)
    # First, what this run may write (a changed file's content unknown until copied): a run cut short is
    # finished by the next, which then removes only what an export wrote.
    changing = {path: "" for path, sha in planned.items() if previous.get(path) != sha}
    _write_manifest(out, previous | changing)
    files = tuple(_copy(f, data_dir, out, previous.get(f.path) == f.sha256) for f in plan.files)
    removed = _remove(out, previous.keys() - planned.keys())
    missing = frozenset(f.path for f in files if f.outcome == "missing")
    _replace(out / INDEX, index(missing))
    _write_manifest(out, {path: sha for path, sha in planned.items() if path not in missing})
    return ExportReport(out, files, removed, INDEX)


def earlier_export(out: Path) -> dict[str, str]:
    """The files an earlier export wrote to `out` and their SHA-256 ("" when it was cut short before knowing);
    none for a new or empty folder. Refused for anything else."""
    if not out.exists():
        return {}
    if not out.is_dir():
        raise ExportRefused(out, "不是文件夹")
    manifest = out / MANIFEST
    if not manifest.is_file():
        if any(out.iterdir()):
            raise ExportRefused(out, "文件夹不是空的，也不是此前导出的材料文件夹；请换一个空文件夹")
        return {}
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExportRefused(out, f"导出清单 {MANIFEST} 无法读取（{exc}）") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("files"), dict):
        raise ExportRefused(out, f"导出清单 {MANIFEST} 不是本程序写的")
    return {p: sha for p, sha in data["files"].items() if isinstance(sha, str) and _inside(p)}


def _inside(relative: str) -> bool:
    """A path the manifest may name: relative, and never climbing out of the folder."""
    parts = relative.split("/")
    return bool(relative) and not relative.startswith("/") and ".." not in parts and "" not in parts


def _copy(file: ExportFile, data_dir: Path, out: Path, known: bool) -> Written:
    """`known`: the earlier export wrote this content here; left alone if its size and time are still so."""
    source = data_dir / file.source
    target = out / file.path
    when = file.mtime.timestamp()
    try:
        size = source.stat().st_size
    except FileNotFoundError:
        return Written(file.path, file.sha256, file.size, "missing")
    if known and target.is_file() and not target.is_symlink():
        have = target.stat()
        if have.st_size == size and int(have.st_mtime) == int(when):
            return Written(file.path, file.sha256, size, "unchanged")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + PART)
    try:
        shutil.copyfile(source, part)
        os.utime(part, (when, when))
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return Written(file.path, file.sha256, size, "written")


def _remove(out: Path, stale: Iterable[str]) -> tuple[str, ...]:
    removed = []
    for relative in sorted(stale):
        path = out / relative
        if path.is_file() or path.is_symlink():
            path.unlink()
            removed.append(relative)
        _prune(path.parent, out)
    return tuple(removed)


def _prune(folder: Path, top: Path) -> None:
    """Remove `folder` and the folders above it (below `top`) left empty."""
    while folder != top and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _clear_parts(out: Path) -> None:
    """Copies a killed export left half-written."""
    for part in out.rglob(f"*{PART}"):
        part.unlink(missing_ok=True)


def _replace(path: Path, data: bytes) -> None:
    if path.is_file() and path.read_bytes() == data:
        return
    part = path.with_name(path.name + PART)
    part.write_bytes(data)
    os.replace(part, path)


def _write_manifest(out: Path, files: dict[str, str]) -> None:
    text = json.dumps({"format": FORMAT, "files": dict(sorted(files.items()))}, ensure_ascii=False, indent=1) + "\n"
    _replace(out / MANIFEST, text.encode())
