"""Raw messages on disk, content-addressed by SHA-256: written (and synced) before anything else happens,
so a message the ledger knows is a message that can be read again."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from bot.files import chunks, keep_private, write_private


class RawStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def address(raw: bytes) -> tuple[str, str]:
        """(sha256, path relative to the root) where `raw` is or would be stored, writing nothing."""
        digest = hashlib.sha256(raw).hexdigest()
        return digest, _relative(digest)

    @staticmethod
    def address_file(source: Path) -> tuple[str, str]:
        """`address` of the bytes in the file `source`, read in chunks."""
        digest = hashlib.sha256()
        for chunk in chunks(source):
            digest.update(chunk)
        return digest.hexdigest(), _relative(digest.hexdigest())

    def put(self, raw: bytes) -> tuple[str, str]:
        """Store `raw`; returns (sha256, path relative to the root). Storing twice is harmless."""
        digest, relative = self.address(raw)
        self._write(relative, raw)
        return digest, relative

    def put_file(self, source: Path) -> tuple[str, str]:
        """`put` of the bytes in the file `source` (a spooled message), read once to hash it and then
        linked, or copied in chunks from another file system: a big message is never held whole."""
        digest, relative = self.address_file(source)
        path = self.root / relative
        if not path.exists():
            _make_room(path)
            keep_private(path, source, path.with_suffix(f".tmp{os.getpid()}"))
        return digest, relative

    def get(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()

    def path(self, relative: str) -> Path:
        return self.root / relative

    def _write(self, relative: str, data: bytes) -> None:
        path = self.root / relative
        if not path.exists():
            _make_room(path)
            write_private(path, [data], path.with_suffix(f".tmp{os.getpid()}"))


def _relative(digest: str) -> str:
    return f"raw/{digest[:2]}/{digest}.eml"


def _make_room(path: Path) -> None:
    """`path`'s folders made, and copies of it abandoned by killed writers removed."""
    for folder in (path.parent.parent, path.parent):  # mkdir's mode is for the last one only
        folder.mkdir(exist_ok=True, mode=0o700)
    _remove_abandoned(path)


def _remove_abandoned(path: Path) -> None:
    """Half-written copies of `path` left by processes that were killed while writing them; a copy whose
    writer is still alive is its own business."""
    for partial in path.parent.glob(f"{path.stem}.tmp*"):
        writer = partial.suffix.removeprefix(".tmp")
        if writer.isdigit() and not alive(int(writer)):
            partial.unlink(missing_ok=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, and someone else's
        return True
    return True
