"""The Mailbox port over a local Maildir (a server that delivers to disk, and the demo).

Reading leaves every file where it is: a message in new/ stays new for staff. Marking adds a keyword
letter, or moves the file into a Maildir++ folder, only when configured. Waiting for mail watches the
modification times of new/ and cur/: one stat each a second, however many messages. The stdlib's
`mailbox.Maildir` tells neither a message's path nor its delivery time without parsing it, and changes
flags only by rewriting the file, so new/ and cur/ are read directly (the layout is three folders and a
name `KEY[:2,FLAGS]`); writing the sent copy goes through `mailbox.Maildir.add`, which gets tmp/ and
unique names right."""

from __future__ import annotations

import datetime as dt
import mailbox
import os
import shutil
import string
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from imapclient import imap_utf7  # type: ignore[import-untyped]

from bot.mailbox.answers import HEADER_LIMIT, answered_ids
from bot.mailbox.port import Fetched, MailboxConfigError, MailboxUnavailable, MessageRef
from bot.mailbox.spool import SPOOL_BYTES, spool_file
from bot.mailbox.stop import Stop

# Maildir keys are unique by construction and never reused, so no validity epoch is needed.
UIDVALIDITY = 0
INFO = ":2,"
SUBDIRS = ("new", "cur", "tmp")
TICK = 1.0  # seconds between looks at new/ and cur/ while waiting (a stop ends the wait at once)
# Lowercase letters are keywords (Dovecot names them in dovecot-keywords). The uppercase ones all mean
# something to staff's client: Passed, Replied, Seen, Trashed, Draft, Flagged.
FLAG_LETTERS = frozenset(string.ascii_lowercase)
Stamp = tuple[tuple[int, int], ...]


class MaildirMailbox:
    def __init__(
        self,
        path: Path | str,
        *,
        processed_flag: str | None = None,
        processed_folder: str | None = None,
        sent_path: Path | str | None = None,
        spool_dir: Path | str | None = None,
        spool_bytes: int = SPOOL_BYTES,
    ) -> None:
        self._spool_dir = spool_dir
        self._spool_bytes = spool_bytes
        self._path = Path(path).absolute()
        self._name = f"maildir:{self._path}"
        missing = [sub for sub in SUBDIRS if not (self._path / sub).is_dir()]
        if missing:
            raise MailboxConfigError(self._name, f"not a Maildir: {', '.join(sub + '/' for sub in missing)} missing")
        if processed_flag is not None and processed_flag not in FLAG_LETTERS:
            raise MailboxConfigError(self._name, f"processed_flag {processed_flag!r} is not one lowercase letter")
        self._flag = processed_flag
        self._processed = (
            _sibling(self._path, self._folder_name(processed_folder)) if processed_folder is not None else None
        )
        self._sent = Path(sent_path) if sent_path is not None else _sibling(self._path, "Sent")
        self._files: dict[str, Path] = {}
        self._listed: Stamp | None = None  # new/ and cur/ as the last list_refs found them

    @property
    def name(self) -> str:
        return self._name

    @property
    def sent_path(self) -> Path:
        return self._sent

    @property
    def processed_path(self) -> Path | None:
        return self._processed

    def list_refs(self) -> list[MessageRef]:
        with self._translated("list"):
            # Stamped before scanning: a delivery during the scan changes the stamp, so it is not missed.
            self._listed = self._stamp()
            self._files = self._scan()
        ordered = sorted(self._files, key=lambda key: (self._mtime(key), key))
        return [MessageRef(self._name, UIDVALIDITY, key) for key in ordered]

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[Fetched]:
        for ref in refs:
            self._check(ref)
            with self._translated(f"read {ref.uid}"):
                opened = self._open(ref.uid)
            if opened is None:
                continue
            with opened as file:
                stat = os.fstat(file.fileno())
                arrived = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
                if stat.st_size <= self._spool_bytes:
                    with self._translated(f"read {ref.uid}"):
                        raw = file.read()
                    yield Fetched(ref, raw, arrived)
                    continue
                # Copied, not handed over in place: a client may rename the file (its flags) while it is read.
                with spool_file(self._spool_dir) as (path, out):
                    with self._translated(f"read {ref.uid}"):
                        shutil.copyfileobj(file, out, 1 << 20)
                        out.close()
                    yield Fetched(ref, b"", arrived, spooled=path)

    def mark_processed(self, ref: MessageRef) -> None:
        self._check(ref)
        if self._flag is None and self._processed is None:
            return
        with self._translated(f"mark {ref.uid}"):
            path = self._locate(ref.uid)
            if path is None:
                return  # gone since it was listed: nothing left to mark
            folder = self._path
            if self._processed is not None:
                _ensure_folder(self._processed)
                folder = self._processed
            target = folder / self._marked_name(path)
            quiet = self._listed is not None and self._stamp() == self._listed
            os.rename(path, target)
            if quiet:  # the bot's own rename is no news: waiting must not wake for it
                self._listed = self._stamp()
            if folder == self._path:
                self._files[ref.uid] = target
            else:
                self._files.pop(ref.uid, None)

    def append_sent(self, raw: bytes) -> None:
        with self._translated(f"write to {self._sent}"):
            key = _ensure_folder(self._sent).add(raw)
            # A sent copy is read already, as any mail client files its own.
            os.rename(self._sent / "new" / key, self._sent / "cur" / f"{key}{INFO}S")

    def answered_in_sent(self) -> frozenset[str]:
        answered: set[str] = set()
        with self._translated(f"read {self._sent}"):
            for sub in ("new", "cur"):
                folder = self._sent / sub
                if not folder.is_dir():
                    continue
                for path in folder.iterdir():
                    if path.name.startswith(".") or not path.is_file():
                        continue
                    with suppress(FileNotFoundError):  # staff's client moved or deleted it meanwhile
                        answered.update(answered_ids(_header_block(path)))
        return frozenset(answered)

    def wait_for_mail(self, timeout: float, stop: Stop) -> bool:
        with self._translated("watch"):
            since = self._listed if self._listed is not None else self._stamp()
            end = time.monotonic() + timeout
            while (left := end - time.monotonic()) > 0:
                if stop.wait(min(TICK, left)):
                    return False
                # Also wakes when staff read or delete mail: the poll that follows finds nothing new.
                if self._stamp() != since:
                    return True
        return False

    def close(self) -> None:
        self._files = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _translated(self, doing: str) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise MailboxUnavailable(self._name, f"{doing}: {exc}") from exc

    def _stamp(self) -> Stamp:
        # Any delivery, rename or removal in a folder changes its mtime (nanoseconds on Linux filesystems).
        stats = [os.stat(self._path / sub) for sub in ("new", "cur")]
        return tuple((st.st_ino, st.st_mtime_ns) for st in stats)

    def _marked_name(self, path: Path) -> str:
        key, _, flags = path.name.partition(INFO)
        if self._flag is None:
            return f"{path.parent.name}/{path.name}"  # moved only: new stays new
        # A flag lives in the name of a file in cur/: a marked message leaves new/ (it stays unread).
        return f"cur/{key}{INFO}{''.join(sorted(set(flags) | {self._flag}))}"

    def _folder_name(self, name: str) -> str:
        # Maildir++ keeps a folder as .Name (sub-folders .Parent.Child), in modified UTF-7 as Dovecot does.
        parts = name.split("/")
        if not all(parts) or any("." in part for part in parts):
            raise MailboxConfigError(
                self._name, f"processed_folder {name!r} is not a folder name (no '.', '/' between names)"
            )
        return ".".join(imap_utf7.encode(part).decode("ascii") for part in parts)

    def _scan(self) -> dict[str, Path]:
        files: dict[str, Path] = {}
        for sub in ("new", "cur"):
            with os.scandir(self._path / sub) as entries:
                for entry in entries:
                    if not entry.name.startswith(".") and entry.is_file():
                        files[entry.name.split(":", 1)[0]] = Path(entry.path)
        return files

    def _locate(self, key: str) -> Path | None:
        path = self._files.get(key)
        if path is None or not path.exists():
            # Staff's client may have moved it from new/ to cur/ or changed its flags meanwhile.
            self._files = self._scan()
            path = self._files.get(key)
        return path

    def _open(self, key: str) -> BinaryIO | None:
        for _ in range(2):
            path = self._locate(key)
            if path is None:
                return None
            try:
                return path.open("rb")
            except FileNotFoundError:
                self._files.pop(key, None)  # renamed between locating and opening: look once more
        return None

    def _mtime(self, key: str) -> float:
        try:
            return self._files[key].stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def _check(self, ref: MessageRef) -> None:
        if ref.mailbox != self._name or ref.uidvalidity != UIDVALIDITY:
            raise ValueError(f"{ref} is not a message of {self._name}")


def _sibling(path: Path, folder: str) -> Path:
    # Maildir++: the root is INBOX and folders are .Name inside it; a folder's siblings sit beside it.
    return path.parent / f".{folder}" if path.name.startswith(".") else path / f".{folder}"


def _header_block(path: Path) -> bytes:
    """A message file's header block: its lines up to the first empty one (the body is never read)."""
    lines: list[bytes] = []
    size = 0
    with path.open("rb") as file:
        for line in file:
            if not line.strip(b"\r\n") or size > HEADER_LIMIT:
                break
            lines.append(line)
            size += len(line)
    return b"".join(lines)


def _ensure_folder(path: Path) -> mailbox.Maildir:
    folder = mailbox.Maildir(path, create=True)
    if path.name.startswith("."):
        (path / "maildirfolder").touch()  # Maildir++: tells Dovecot and Courier it is a folder
    return folder
