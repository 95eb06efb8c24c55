"""A private temporary file a mailbox copies a big message into, so that the message is never held whole:
handed on as `Fetched.spooled` and removed once the reader asks for the next message."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

SPOOL_BYTES = 8 << 20  # messages bigger than this are spooled; smaller ones are read into memory whole
PREFIX = "fetch-"


@contextmanager
def spool_file(folder: str | Path | None) -> Iterator[tuple[Path, BinaryIO]]:
    """(path, an open stream to write to): the file is readable by the bot's user only, and gone afterwards."""
    where = Path(folder or tempfile.gettempdir())
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    # The process id in the name lets a later run remove what a killed one left (bot.store.spills.remove_abandoned).
    fd, name = tempfile.mkstemp(prefix=f"{PREFIX}{os.getpid()}-", suffix=".eml", dir=where)  # mode 0600
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            yield path, out
    finally:
        path.unlink(missing_ok=True)
