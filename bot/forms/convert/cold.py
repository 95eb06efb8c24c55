"""One LibreOffice started for one file: the slow way, kept where the warm one (bot/forms/convert/warm.py) cannot start."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

# LibreOffice takes 2–5 s on a form started cold; a file that takes longer than this is not a form.
TIMEOUT_SECONDS = 90


class ConversionFailed(Exception):
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


# Converts a legacy document (bytes, kind) to .docx bytes, or raises ConversionFailed.
Converter = Callable[[bytes, str], bytes]


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_docx(data: bytes, kind: str, soffice: str, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """Convert with a private LibreOffice profile, so parallel conversions cannot collide."""
    with tempfile.TemporaryDirectory(prefix="subbot-convert-") as tmp:
        folder = Path(tmp)
        source = folder / f"input.{kind}"
        source.write_bytes(data)
        command = [
            soffice,
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(folder / "out"),
            str(source),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ConversionFailed(source.name, f"LibreOffice took over {timeout:g}s") from exc
        result = folder / "out" / "input.docx"
        if not result.is_file():
            raise ConversionFailed(source.name, "LibreOffice wrote no .docx")
        return result.read_bytes()
