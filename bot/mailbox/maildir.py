"""The Mailbox port over a local Maildir (a server that delivers to disk, and the demo).

Reading leaves every file where it is: a message in new/ stays new for staff. The stdlib's
`mailbox.Maildir` tells neither a message's path nor its delivery time without parsing it, and changes
flags only by rewriting the file, so new/ and cur/ are read directly (the layout is three folders and a
name `KEY[:2,FLAGS]`); writing the sent copy goes through `mailbox.Maildir.add`, which gets tmp/ and
unique names right."""

from __future__ import annotations

import datetime as dt
import mailbox
import os
import string
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

from bot.mailbox.port import Fetched, MailboxConfigError, MailboxUnavailable, MessageRef

# Maildir keys are unique by construction and never reused, so no validity epoch is needed.
UIDVALIDITY = 0
INFO = ":2,"
SUBDIRS = ("new", "cur", "tmp")


class MaildirMailbox:
    def __init__(
        self, path: Path | str, *, processed_flag: str | None = None, sent_path: Path | str | None = None
    ) -> None:
        self._path = Path(path).absolute()
        self._name = f"maildir:{self._path}"
        missing = [sub for sub in SUBDIRS if not (self._path / sub).is_dir()]
        if missing:
            raise MailboxConfigError(self._name, f"not a Maildir: {', '.join(sub + '/' for sub in missing)} missing")
        # S and T would tell staff's client the mail was read or thrown away.
        if processed_flag is not None and (
            len(processed_flag) != 1 or processed_flag not in string.ascii_letters or processed_flag in "ST"
        ):
            raise MailboxConfigError(self._name, f"processed_flag {processed_flag!r} is not one letter other than S, T")
        self._flag = processed_flag
        self._sent = Path(sent_path) if sent_path is not None else _sibling_sent(self._path)
        self._files: dict[str, Path] = {}

    @property
    def name(self) -> str:
        return self._name

    @property
    def sent_path(self) -> Path:
        return self._sent

    def list_refs(self) -> list[MessageRef]:
        with self._translated("list"):
            self._files = self._scan()
        ordered = sorted(self._files, key=lambda key: (self._mtime(key), key))
        return [MessageRef(self._name, UIDVALIDITY, key) for key in ordered]

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[Fetched]:
        for ref in refs:
            self._check(ref)
            with self._translated(f"read {ref.uid}"):
                found = self._read(ref.uid)
            if found is not None:
                raw, mtime = found
                yield Fetched(ref, raw, dt.datetime.fromtimestamp(mtime, dt.UTC))

    def mark_processed(self, ref: MessageRef) -> None:
        self._check(ref)
        if self._flag is None:
            return
        with self._translated(f"mark {ref.uid}"):
            path = self._locate(ref.uid)
            if path is None:
                return  # gone since it was listed: nothing left to mark
            flags = set(path.name.partition(INFO)[2]) | {self._flag}
            # A flag lives in the name of a file in cur/: a marked message leaves new/ (it stays unread).
            target = self._path / "cur" / f"{ref.uid}{INFO}{''.join(sorted(flags))}"
            os.rename(path, target)
            self._files[ref.uid] = target

    def append_sent(self, raw: bytes) -> None:
        with self._translated(f"write to {self._sent}"):
            folder = mailbox.Maildir(self._sent, create=True)
            if self._sent.name.startswith("."):
                (self._sent / "maildirfolder").touch()  # Maildir++: tells Dovecot and Courier it is a folder
            key = folder.add(raw)
            # A sent copy is read already, as any mail client files its own.
            os.rename(self._sent / "new" / key, self._sent / "cur" / f"{key}{INFO}S")

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

    def _read(self, key: str) -> tuple[bytes, float] | None:
        for _ in range(2):
            path = self._locate(key)
            if path is None:
                return None
            try:
                return path.read_bytes(), path.stat().st_mtime
            except FileNotFoundError:
                self._files.pop(key, None)  # renamed between locating and reading: look once more
        return None

    def _mtime(self, key: str) -> float:
        try:
            return self._files[key].stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def _check(self, ref: MessageRef) -> None:
        if ref.mailbox != self._name or ref.uidvalidity != UIDVALIDITY:
            raise ValueError(f"{ref} is not a message of {self._name}")


def _sibling_sent(path: Path) -> Path:
    # Maildir++: the root is INBOX and folders are .Name inside it; a folder's siblings sit beside it.
    return path.parent / ".Sent" if path.name.startswith(".") else path / ".Sent"
