"""A scan or photo as pages of pixels: an image-only PDF rendered page by page, or a JPEG, PNG, HEIC
(or GIF, BMP, TIFF) photo turned as its EXIF says, each no larger than OCR needs."""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import pillow_heif
import pypdfium2
from PIL import Image, ImageOps, UnidentifiedImageError

from parsers.errors import LIBRARY_ERRORS, UnreadableDocument

Pixels = np.ndarray[Any, Any]

# A plan form is one to three pages an activity; a scan far longer is not one, and OCR takes about
# 2 s a page.
MAX_PAGES = 12
# PDF pages are rendered at the resolution scanners are set to for forms.
RENDER_DPI = 200
# A phone photo is 12–50 megapixels; one far larger is not a photo, and decoding it would take
# gigabytes. Photos are decoded at no more than this long side: a form's small print is still 20 px high.
MAX_PIXELS = 120_000_000
MAX_SIDE = 3000
_HEIF_BRANDS = (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypheim", b"ftypheis")
_IMAGE_ERRORS: tuple[type[Exception], ...] = (*LIBRARY_ERRORS, OSError, UnidentifiedImageError, RuntimeError, SyntaxError)


def load_pages(data: bytes, kind: str) -> list[Pixels]:
    """RGB pages of an image-only PDF (kind "pdf") or of a photo (kind "image"; of a multi-frame GIF
    or TIFF, the first frame)."""
    if kind == "pdf":
        return _pdf_pages(data)
    return [_photo(data)]


def _pdf_pages(data: bytes) -> list[Pixels]:
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        raise UnreadableDocument("corrupt", "PDF 文件已损坏，无法读取", repr(exc)) from exc
    try:
        if len(document) > MAX_PAGES:
            raise UnreadableDocument(
                "too_large", f"扫描的 PDF 共{len(document)}页，超过{MAX_PAGES}页，未读取", f"{len(document)} scanned pages"
            )
        pages = []
        for index in range(len(document)):
            page = document[index]
            width, height = page.get_size()
            # A page box far beyond A3 would render to gigabytes: render it no larger than a photo.
            scale = min(RENDER_DPI / 72, MAX_SIDE / max(width, height, 1))
            bitmap = page.render(scale=scale)
            pages.append(np.asarray(bitmap.to_pil().convert("RGB")))
            bitmap.close()
            page.close()
        return pages
    except pypdfium2.PdfiumError as exc:
        raise UnreadableDocument("corrupt", "PDF 文件已损坏，无法读取", repr(exc)) from exc
    finally:
        document.close()


def _photo(data: bytes) -> Pixels:
    try:
        with warnings.catch_warnings():
            # Pillow warns past its own bomb limit; ours is lower and checked before decoding.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = _open(data)
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UnreadableDocument("too_large", "图片尺寸过大，无法读取", f"{width}x{height} pixels")
            if image.format == "JPEG":
                # Decoding at a fraction of the size (a JPEG's DCT allows 1/2, 1/4, 1/8) saves time and memory.
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))
            image = ImageOps.exif_transpose(image) or image
            image = image.convert("RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            return np.asarray(image)
    except UnreadableDocument:
        raise
    except Image.DecompressionBombError as exc:
        raise UnreadableDocument("too_large", "图片尺寸过大，无法读取", repr(exc)) from exc
    except _IMAGE_ERRORS as exc:
        raise UnreadableDocument("corrupt", "图片已损坏或格式异常，无法读取", repr(exc)) from exc


def _open(data: bytes) -> Image.Image:
    if data[4:12] in _HEIF_BRANDS:
        heif = pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
        width, height = heif.size
        if width * height > MAX_PIXELS:
            raise UnreadableDocument("too_large", "图片尺寸过大，无法读取", f"{width}x{height} pixels")
        image = heif.to_pillow()
        image.format = "HEIF"
        return image
    return Image.open(io.BytesIO(data))
