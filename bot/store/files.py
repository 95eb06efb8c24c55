"""Files the bot keeps (raw mail, photos): written whole or not at all, and readable by its user only
(the mode of a linked file is its source's: the spool's files are 0600 too)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path


def write_private(path: Path, chunks: Iterable[bytes], temporary: Path) -> None:
    """`chunks` into `path`, through `temporary` (renamed when synced to disk), mode 0600: raw mail and
    photos of people are personal data. A failure leaves no `temporary` and no half `path`."""
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def keep_private(path: Path, source: Path, temporary: Path) -> None:
    """The file `source` kept as `path`: hard-linked when both are on one file system (nothing is written
    again; the data is synced), else copied in chunks through `write_private`. `source` stays as it is."""
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:  # another file system: copied
        write_private(path, chunks(source), temporary)
        return
    try:
        fd = os.open(temporary, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def chunks(source: Path, size: int = 1 << 20) -> Iterator[bytes]:
    with source.open("rb") as file:
        while chunk := file.read(size):
            yield chunk


def alive(pid: int) -> bool:
    """Whether process `pid` still runs: what a leftover file's writer is asked before the file is removed."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, and someone else's
        return True
    return True
