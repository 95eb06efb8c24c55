"""Files kept by their content: one store for raw messages (`raw/ab/abcdef….eml`) and for the photos, videos and
documents of summaries (`media/ab/abcdef….jpg`). A file is written (and synced) whole or not at all, readable by
the bot's user only, and stored once however often it arrives; the ledger records where it is, never its bytes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from bot.store.files import alive, chunks, keep_private, write_private

RAW = "raw"
MEDIA = "media"
# A raw message's ending; a media file's comes from what its content is, never from the name the sender gave it.
RAW_SUFFIX = ".eml"
MEDIA_SUFFIXES = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "HEIC": ".heic",
    "AVIF": ".avif",
    "GIF": ".gif",
    "BMP": ".bmp",
    "TIFF": ".tif",
    "WEBP": ".webp",
    "MP4": ".mp4",
    "MOV": ".mov",
    "AVI": ".avi",
    "MKV": ".mkv",
    "FLV": ".flv",
    "WMV": ".wmv",
    "MPEG": ".mpg",
    "MPEG-TS": ".ts",
    "docx": ".docx",
    "pdf": ".pdf",
    "doc": ".doc",
    "wps": ".wps",
    "odt": ".odt",
    "rtf": ".rtf",
}


def media_suffix(form: str) -> str:
    return MEDIA_SUFFIXES.get(form, ".bin")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_of_file(source: Path) -> str:
    """The SHA-256 of the bytes in `source`, read in chunks (a spooled message is never held whole)."""
    digest = hashlib.sha256()
    for chunk in chunks(source):
        digest.update(chunk)
    return digest.hexdigest()


class ContentStore:
    """Files under `root/folder`, named by the SHA-256 the caller computed (the bytes are hashed once)."""

    def __init__(self, root: Path, folder: str) -> None:
        self.root = root
        self.folder = folder

    def relative(self, sha256: str, suffix: str) -> str:
        """Where a file of this content is or would be stored, relative to the root; nothing is written."""
        return f"{self.folder}/{sha256[:2]}/{sha256}{suffix}"

    def put(self, data: bytes, sha256: str, suffix: str) -> str:
        """Store `data`; returns the path relative to the root. Storing twice is harmless."""
        relative, path = self._place(sha256, suffix)
        if not path.exists():
            write_private(path, [data], _temporary(path))
        return relative

    def put_file(self, source: Path, sha256: str, suffix: str) -> str:
        """Store the file `source` (a spooled message, a spilled part): linked when it is on the same file
        system, else copied in chunks. Returns the path relative to the root."""
        relative, path = self._place(sha256, suffix)
        if not path.exists():
            keep_private(path, source, _temporary(path))
        return relative

    def get(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()

    def path(self, relative: str) -> Path:
        return self.root / relative

    def _place(self, sha256: str, suffix: str) -> tuple[str, Path]:
        """The file's place, its folders made, and copies of it abandoned by killed writers removed."""
        relative = self.relative(sha256, suffix)
        path = self.root / relative
        for folder in (path.parent.parent, path.parent):  # mkdir's mode is for the last one only
            folder.mkdir(exist_ok=True, mode=0o700)
        _remove_abandoned(path)
        return relative, path


def _temporary(path: Path) -> Path:
    return path.with_name(f"{path.name}.tmp{os.getpid()}")


def _remove_abandoned(path: Path) -> None:
    """Half-written copies of `path` left by processes that were killed while writing them; a copy whose
    writer is still alive is its own business."""
    for partial in path.parent.glob(f"{path.name}.tmp*"):
        writer = partial.name.rpartition(".tmp")[2]
        if writer.isdigit() and not alive(int(writer)):
            partial.unlink(missing_ok=True)
