"""Files of summary mails on disk, content-addressed like raw messages (data/media/ab/abcdef….jpg), so that
the ledger records where a photo or video is and never holds its bytes; the same photo is stored once."""

from __future__ import annotations

import os
from pathlib import Path

from bot.files import keep_private, write_private

# The file's ending comes from what its content is, never from the name the sender gave it.
SUFFIXES = {
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


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes, sha256: str, form: str) -> str:
        """Store `data` (whose SHA-256 the caller computed); returns the path relative to the root."""
        relative, path = self._place(sha256, form)
        if not path.exists():
            write_private(path, [data], path.with_name(f"{path.name}.tmp{os.getpid()}"))
        return relative

    def put_file(self, source: Path, sha256: str, form: str) -> str:
        """Store the file `source` (a spilled part): linked when it is on the same file system, else copied
        in chunks. Returns the path relative to the root."""
        relative, path = self._place(sha256, form)
        if not path.exists():
            keep_private(path, source, path.with_name(f"{path.name}.tmp{os.getpid()}"))
        return relative

    def _place(self, sha256: str, form: str) -> tuple[str, Path]:
        relative = f"media/{sha256[:2]}/{sha256}{SUFFIXES.get(form, '.bin')}"
        path = self.root / relative
        for folder in (path.parent.parent, path.parent):  # mkdir's mode is for the last one only
            folder.mkdir(exist_ok=True, mode=0o700)
        return relative, path

    def path(self, relative: str) -> Path:
        return self.root / relative
