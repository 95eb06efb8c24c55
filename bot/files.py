"""Files the bot keeps (raw mail, photos): written whole or not at all, and readable by its user only."""

from __future__ import annotations

import os
from collections.abc import Iterable
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
