"""Plan forms that arrive as scans or phone photos, read offline by OCR.

`read_scan` takes an image-only PDF or a JPEG/PNG/HEIC photo of the filled-in form, in any of the four
orientations, and answers with the same activities a .docx gives (the OCR'd table is handed to
parsers.form_reader as rows and paragraphs), plus the fields read with low confidence. The OCR
libraries (onnxruntime, opencv, rapidfuzz) and the models (the `rapidocr_onnxruntime` wheel's
PP-OCRv4 mobile files) come with the optional extra `subbot[ocr]`: without it `ocr_available()` is
False and nothing here imports them. Pure like the other parsers: bytes in, records out."""

from __future__ import annotations

import io
import warnings
from importlib import util

from parsers.errors import LIBRARY_ERRORS
from parsers.package import sniff
from parsers.records import FormLayout, PlanRead

# What the reader needs besides the models; checked without importing them.
_MODULES = ("numpy", "cv2", "onnxruntime", "rapidfuzz", "pypdfium2", "pillow_heif")
# A picture whose shorter side is under this many pixels cannot show a form's print legibly (an A4
# page 400 px across has characters 5 px high); nor can a PDF page whose pictures cover under this
# share of it be a scan (a logo, a signature).
MIN_SIDE = 400
MIN_SCAN_COVER = 0.5
_MAX_LOOKED_AT = 12


class OcrFailed(Exception):
    """The models could not run here: onnxruntime failed to allocate (an address-space limit set too
    low for it) or to load them. Not the file's fault: the caller answers as it would without OCR."""


def ocr_available() -> bool:
    """True when the `ocr` extra is installed: the libraries and the model files."""
    if any(util.find_spec(name) is None for name in _MODULES):
        return False
    from parsers.scan.models import model_dir

    return model_dir() is not None


def may_be_scan(data: bytes, name: str) -> bool:
    """Whether a file is worth OCR, found cheaply (no OCR library imported): a picture large enough
    to show a form, or a PDF with a page that is mostly a picture."""
    from PIL import Image, UnidentifiedImageError  # not at import: `subbot --help` must stay quick

    kind = sniff(data, name)
    header_errors: tuple[type[Exception], ...] = (*LIBRARY_ERRORS, OSError, UnidentifiedImageError, SyntaxError, Image.DecompressionBombError)
    try:
        if kind == "image":
            return _image_side(data) >= MIN_SIDE
        if kind == "pdf":
            return _has_scanned_page(data)
    except header_errors:
        return kind == "image"  # Pillow cannot say: the reader will, and answer for it
    return False


def _image_side(data: bytes) -> int:
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypheim", b"ftypheis"):
        return MIN_SIDE  # Pillow does not read HEIF headers; the reader checks the size itself
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as image:
            return min(image.size)


def _has_scanned_page(data: bytes) -> bool:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages[:_MAX_LOOKED_AT]:
            area = max(float(page.width * page.height), 1.0)
            covered = sum(float(i["width"] * i["height"]) for i in page.images)
            if covered / area >= MIN_SCAN_COVER:
                return True
    return False


def read_scan(data: bytes, name: str, layout: FormLayout) -> PlanRead:
    """Read an image (JPEG, PNG, HEIC, GIF, BMP, TIFF) or an image-only PDF by OCR. Call only when
    `ocr_available()`; a file that cannot be read gives an `Unreadable`. What the file cannot cause
    is raised: OcrFailed, and ImportError, OSError or MemoryError when the libraries cannot load."""
    from parsers.scan.reader import read_scan_pages

    kind = sniff(data, name)
    return read_scan_pages(data, name, kind, layout)


__all__ = ["OcrFailed", "may_be_scan", "ocr_available", "read_scan"]
