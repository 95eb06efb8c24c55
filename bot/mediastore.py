"""Files of summary mails on disk, content-addressed like raw messages (data/media/ab/abcdef….jpg), so that
the ledger records where a photo or video is and never holds its bytes; the same photo is stored once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
            temporary = path.with_name(f"{path.name}.tmp{os.getpid()}")
            # Readable by the bot's user only: photos of people are personal data.
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, path)
            finally:
                temporary.unlink(missing_ok=True)
        return relative

    def put_file(self, source: Path, sha256: str, form: str) -> str:
        """Store the file `source` (already on disk, synced): linked when it is on the same file system,
        else copied in chunks. Returns the path relative to the root."""
        relative, path = self._place(sha256, form)
        if not path.exists():
            temporary = path.with_name(f"{path.name}.tmp{os.getpid()}")
            temporary.unlink(missing_ok=True)
            try:
                try:
                    os.link(source, temporary)
                except OSError:
                    _copy(source, temporary)
                os.replace(temporary, path)
            finally:
                temporary.unlink(missing_ok=True)
        return relative

    def _place(self, sha256: str, form: str) -> tuple[str, Path]:
        relative = f"media/{sha256[:2]}/{sha256}{SUFFIXES.get(form, '.bin')}"
        path = self.root / relative
        for folder in (path.parent.parent, path.parent):  # mkdir's mode is for the last one only
            folder.mkdir(exist_ok=True, mode=0o700)
        return relative, path

    def path(self, relative: str) -> Path:
        return self.root / relative


def _copy(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as file:
        shutil.copyfileobj(file, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
