"""A private folder for one message's spilled parts: as a big mail is read, its attachments are decoded into
files here as the bytes go by (parsers.spill), and the folder goes, with what is in it, when the message is
done. What a killed process left behind (its folders, its spooled messages) is removed by the next one."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from bot.mailbox.spool import PREFIX
from bot.store.files import alive
from parsers.spill import Writer


class SpillFolder:
    """A private folder under `root` for one message's spilled parts (a `parsers.spill.Sink`), made when the
    first part is spilled and removed, with what is in it, when the message is done."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or Path(tempfile.gettempdir())
        self._folder: Path | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def open(self, number: int) -> tuple[str, Writer]:
        if self._folder is None:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            if self.root not in _CLEARED:  # once per process: what an earlier, killed run left
                remove_abandoned(self.root)
                _CLEARED.add(self.root)
            self._folder = Path(tempfile.mkdtemp(prefix=f"spool-{os.getpid()}-", dir=self.root))  # mode 0700
        path = self._folder / f"{number}.part"
        # Readable by the bot's user only: photos of people are personal data.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        return str(path), _Synced(os.fdopen(fd, "wb"))


_CLEARED: set[Path] = set()


def remove_abandoned(root: Path) -> None:
    """Spool folders and spooled messages (bot.mailbox.spool) of processes that died mid-message."""
    for left in [*root.glob("spool-*-*"), *root.glob(f"{PREFIX}*-*")]:
        pid = left.name.split("-")[1]
        if pid.isdigit() and not alive(int(pid)):
            if left.is_dir():
                shutil.rmtree(left, ignore_errors=True)
            else:
                left.unlink(missing_ok=True)



class _Synced:
    """A file written to, flushed to disk when closed: a spilled part may become a stored photo by a link."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    def write(self, data: bytes) -> int:
        return self._file.write(data)

    def close(self) -> None:
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
        finally:
            self._file.close()
