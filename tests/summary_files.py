"""Real files for the summary tests: photos with and without EXIF dates (JPEG, PNG, HEIC), and summaries
written with python-docx, optionally with photos pasted in."""

from __future__ import annotations

import datetime as dt
import io
import random

import docx
import pillow_heif
from docx.shared import Cm
from PIL import Image

EXIF_IFD, DATE_TIME_ORIGINAL, DATE_TIME = 0x8769, 0x9003, 0x0132


def exif(taken: dt.datetime) -> bytes:
    block = Image.Exif()
    block[DATE_TIME] = "2021:07:01 08:00:00"  # when it was last edited: never taken for when it was taken
    block.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = taken.strftime("%Y:%m:%d %H:%M:%S")
    return block.tobytes()


def photo(colour: tuple[int, int, int], taken: dt.datetime | None = None, form: str = "JPEG") -> bytes:
    """A small picture of one colour (distinct colours, distinct bytes), with DateTimeOriginal if `taken`."""
    image = Image.new("RGB", (64, 48), colour)
    extra = {"exif": exif(taken)} if taken else {}
    out = io.BytesIO()
    if form == "HEIC":
        pillow_heif.from_pillow(image).save(out, quality=50, **extra)
    else:
        image.save(out, form, **extra)
    return out.getvalue()


def noise_photo(seed: int, side: int = 320) -> bytes:
    """A JPEG large enough to count as a photo when pasted into a document (not a logo)."""
    generator = random.Random(seed)
    image = Image.frombytes("RGB", (side, side), bytes(generator.randrange(256) for _ in range(side * side * 3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=40)
    return out.getvalue()


def summary_docx(title: str, *paragraphs: str, pictures: int = 0) -> bytes:
    document = docx.Document()
    document.add_heading(title, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    for number in range(pictures):
        document.add_picture(io.BytesIO(noise_photo(number)), width=Cm(8))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
