"""Reading a message the mailbox handed over as a file: its attachments are decoded into a spool folder as
the bytes go by (parsers.spill), so a mail of 500 photos or a 300 MB video is never held whole, and a
document is read from its file by the sandbox's worker; the rest is parsed as any message. The spool folder lives as long as the message's intake, then goes."""

from __future__ import annotations

import contextlib
import mmap
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from bot.mailbox.port import Fetched
from bot.mailbox.spoolfile import PREFIX
from bot.rawstore import alive
from parsers.media import MediaInfo, classify, read_media, taken_at
from parsers.message import Attachment, Mail, parse_message
from parsers.spill import Writer, reduce_message

CHUNK = 1 << 20


class Spool:
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


def read_mail(fetched: Fetched, own_addresses: frozenset[str], authserv_ids: frozenset[str], spool: Spool) -> Mail:
    """The message as `parse_message` reads it; a spooled one with its big photos and videos in `spool`."""
    if fetched.spooled is None:
        return parse_message(fetched.raw, own_addresses, authserv_ids)
    return read_file(fetched.spooled, own_addresses, authserv_ids, spool)


def read_file(path: Path, own_addresses: frozenset[str], authserv_ids: frozenset[str], spool: Spool) -> Mail:
    with path.open("rb") as file:
        chunks = iter(lambda: file.read(CHUNK), b"")
        reduced = reduce_message(chunks, spool, secrets.token_hex(8))
    return parse_message(reduced.raw, own_addresses, authserv_ids, reduced.spills)


def media_info(attachment: Attachment) -> MediaInfo:
    """`read_media` of an attachment; a spilled one is classified by its first bytes, hashed as it was
    written, and its EXIF read through a map of the file (only the pages read come into memory)."""
    spill = attachment.spill
    if spill is None:
        return read_media(attachment.data, attachment.name)
    kind, form = classify(spill.head, attachment.name, spill.kind)
    taken = None
    if kind == "photo" and spill.size:
        with _mapped(Path(spill.path)) as data:
            taken = taken_at(data, form)
    return MediaInfo(kind, form, spill.sha256, spill.size, taken)


def remove_abandoned(root: Path) -> None:
    """Spool folders and spooled messages (bot.mailbox.spoolfile) of processes that died mid-message."""
    for left in [*root.glob("spool-*-*"), *root.glob(f"{PREFIX}*-*")]:
        pid = left.name.split("-")[1]
        if pid.isdigit() and not alive(int(pid)):
            if left.is_dir():
                shutil.rmtree(left, ignore_errors=True)
            else:
                left.unlink(missing_ok=True)


@contextlib.contextmanager
def _mapped(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        yield data  # type: ignore[misc]  # read by slicing and indexing only, as bytes are


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
