"""Plan forms that arrive as scans or phone photos, read offline by OCR.

`read_scan` takes an image-only PDF or a JPEG/PNG/HEIC photo of the filled-in form, in any of the four
orientations, and answers with the same activities a .docx gives (the OCR'd table is handed to
parsers.form_reader as rows and paragraphs), plus the fields read with low confidence. The OCR
libraries (onnxruntime, opencv, rapidfuzz) and the models (the `rapidocr_onnxruntime` wheel's
PP-OCRv4 mobile files) come with the optional extra `subbot[ocr]`: without it `ocr_available()` is
False and nothing here imports them. Pure like the other parsers: bytes in, records out."""

from __future__ import annotations

from importlib import util

from parsers.package import sniff
from parsers.records import FormLayout, PlanRead

# What the reader needs besides the models; checked without importing them.
_MODULES = ("numpy", "cv2", "onnxruntime", "rapidfuzz", "pypdfium2", "pillow_heif")


def ocr_available() -> bool:
    """True when the `ocr` extra is installed: the libraries and the model files."""
    if any(util.find_spec(name) is None for name in _MODULES):
        return False
    from parsers.scan.models import model_dir

    return model_dir() is not None


def read_scan(data: bytes, name: str, layout: FormLayout) -> PlanRead:
    """Read an image (JPEG, PNG, HEIC, GIF, BMP, TIFF) or an image-only PDF by OCR. Call only when
    `ocr_available()`; a file that cannot be read gives an `Unreadable`, never an exception."""
    from parsers.scan.reader import read_scan_pages

    kind = sniff(data, name)
    return read_scan_pages(data, name, kind, layout)


__all__ = ["ocr_available", "read_scan"]
