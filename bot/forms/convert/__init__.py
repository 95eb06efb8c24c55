"""Legacy formats (.doc, .wps, .odt, .rtf) to .docx with LibreOffice, when it is installed: through one
LibreOffice kept warm (warm.py, its server in server.py), or one started per file (cold.py) where the
warm one cannot run. The readers see only a `Converter`: (bytes, kind) in, .docx bytes out."""

from __future__ import annotations

import logging
from functools import partial

from bot.forms.convert.cold import TIMEOUT_SECONDS, ConversionFailed, Converter, convert_to_docx, soffice_path
from bot.forms.convert.warm import Office, office_python

log = logging.getLogger(__name__)

__all__ = [
    "TIMEOUT_SECONDS",
    "ConversionFailed",
    "Converter",
    "Office",
    "convert_to_docx",
    "converter",
    "soffice_path",
]


def converter(warm: bool = True) -> Converter | None:
    """The converter to hand to the readers, or None where LibreOffice is not installed. Warm: an `Office`
    of this process, whose server starts on the first legacy file and stops when this process exits."""
    soffice = soffice_path()
    if soffice is None:
        return None
    python = office_python(soffice) if warm else None
    if python:
        try:
            return Office.open(soffice, python)
        except OSError as exc:  # no private folder to be had (TMPDIR not writable): cold, as the server would be
            log.warning("LibreOffice is not kept warm: %s", exc)
    return partial(convert_to_docx, soffice=soffice)
