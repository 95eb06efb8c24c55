"""Raw messages on disk, content-addressed by SHA-256: written (and synced) before anything else happens,
so a message the ledger knows is a message that can be read again."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class RawStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def address(raw: bytes) -> tuple[str, str]:
        """(sha256, path relative to the root) where `raw` is or would be stored, writing nothing."""
        digest = hashlib.sha256(raw).hexdigest()
        return digest, f"raw/{digest[:2]}/{digest}.eml"

    def put(self, raw: bytes) -> tuple[str, str]:
        """Store `raw`; returns (sha256, path relative to the root). Storing twice is harmless."""
        digest, relative = self.address(raw)
        path = self.root / relative
        if not path.exists():
            for folder in (path.parent.parent, path.parent):  # mkdir's mode is for the last one only
                folder.mkdir(exist_ok=True, mode=0o700)
            _remove_abandoned(path)
            temporary = path.with_suffix(f".tmp{os.getpid()}")
            # Readable by the bot's user only: raw mail holds personal data.
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(raw)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, path)
            finally:
                temporary.unlink(missing_ok=True)
        return digest, relative

    def get(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()


def _remove_abandoned(path: Path) -> None:
    """Half-written copies of `path` left by processes that were killed while writing them; a copy whose
    writer is still alive is its own business."""
    for partial in path.parent.glob(f"{path.stem}.tmp*"):
        writer = partial.suffix.removeprefix(".tmp")
        if writer.isdigit() and not _alive(int(writer)):
            partial.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, and someone else's
        return True
    return True
