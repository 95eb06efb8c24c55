"""What a summary's file is (photo, video, document, other) by its content, when a photo was taken, and its hash.

Pure and bounded: no pixel is ever decoded (so no decompression bomb can go off), only the EXIF block is
looked for, by walking JPEG segments and PNG chunks ourselves and asking libheif for a HEIC's Exif item.
Pillow parses the EXIF (TIFF) block itself. Garbage in gives "no date", never an exception."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import struct
import warnings
import zipfile
from dataclasses import dataclass
from typing import Literal

from PIL import Image

from parsers.errors import LIBRARY_ERRORS
from parsers.package import sniff

MediaKind = Literal["photo", "video", "document", "other"]

MAX_EXIF_BYTES = 1024 * 1024  # a real EXIF block is under 64 KB (one JPEG segment)
MAX_SEGMENTS = 1_000  # JPEG markers before the image data
MAX_CHUNKS = 100_000  # PNG chunks: a 200 MB PNG of 8 KB IDAT chunks has 25,000
# Embedded pictures smaller than this are logos and icons, not photos of an activity.
MIN_EMBEDDED_PHOTO_BYTES = 20 * 1024
MIN_EMBEDDED_PHOTO_SIDE = 300
DOCUMENT_KINDS = frozenset({"docx", "pdf", "doc", "wps", "odt", "rtf", "encrypted"})

_EXIF_IFD = 0x8769
# DateTimeOriginal, then DateTimeDigitized; not DateTime (0x0132), which an editing app resets.
_DATE_TAGS = (0x9003, 0x9004)
_EXIF_DATE = re.compile(rb"(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"})
_VIDEO_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"qt  ", b"M4V ", b"M4VP", b"3gp4"}
    | {b"3gp5", b"3gp6", b"3g2a", b"mmp4", b"dash", b"f4v ", b"MSNV", b"XAVC"}
)
_PHOTO_MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"GIF8": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}
_VIDEO_MAGIC = {
    b"\x1a\x45\xdf\xa3": "MKV",  # Matroska and WebM
    b"FLV\x01": "FLV",
    b"\x30\x26\xb2\x75\x8e\x66\xcf\x11": "WMV",  # ASF
    b"\x00\x00\x01\xba": "MPEG",
}
# Archives the mail reader cannot open (zip members are unpacked into attachments of their own).
_ARCHIVES = {b"Rar!\x1a\x07": "RAR", b"7z\xbc\xaf\x27\x1c": "7z"}
# What Pillow's TIFF reader and libheif raise on malformed input, beyond the usual library errors.
_EXIF_ERRORS: tuple[type[Exception], ...] = (*LIBRARY_ERRORS, OSError, SyntaxError, RuntimeError)
_PACKAGE_ERRORS: tuple[type[Exception], ...] = (zipfile.BadZipFile, *_EXIF_ERRORS)


@dataclass(frozen=True)
class MediaInfo:
    kind: MediaKind
    format: str  # JPEG, PNG, HEIC, MP4, MOV, ... for media; the sniffed kind (docx, pdf) for documents
    sha256: str
    size: int
    taken_at: dt.datetime | None  # EXIF DateTimeOriginal: the camera's local time, naive


def read_media(data: bytes, name: str) -> MediaInfo:
    """Classify by content (the name only breaks ties, as in `sniff`), hash, and date a photo."""
    kind, form = media_kind(data, name)
    taken = taken_at(data, form) if kind == "photo" else None
    return MediaInfo(kind, form, hashlib.sha256(data).hexdigest(), len(data), taken)


def media_kind(data: bytes, name: str, sniffed: str | None = None) -> tuple[MediaKind, str]:
    """By the first bytes for media and archives; otherwise by `sniff`, or by `sniffed` when the caller has
    only the start of the file and sniffed the whole of it already (a part spilled to disk)."""
    head = data[:16]
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "photo", "AVIF" if brand == b"avif" else "HEIC"
        if brand in _VIDEO_BRANDS or brand.startswith(b"3g"):
            return "video", "MOV" if brand == b"qt  " else "MP4"
    if head.startswith(b"RIFF") and head[8:12] in (b"WEBP", b"AVI "):
        return ("photo", "WEBP") if head[8:12] == b"WEBP" else ("video", "AVI")
    for magic, form in _PHOTO_MAGIC.items():
        if head.startswith(magic):
            return "photo", form
    for magic, form in _VIDEO_MAGIC.items():
        if head.startswith(magic):
            return "video", form
    if _is_transport_stream(data):
        return "video", "MPEG-TS"
    for magic, form in _ARCHIVES.items():
        if head.startswith(magic):
            return "other", form
    kind = sniffed
    if kind is None:
        try:
            kind = sniff(data, name)
        except _EXIF_ERRORS:
            kind = "unknown"
    return ("document", kind) if kind in DOCUMENT_KINDS else ("other", kind)


def _is_transport_stream(data: bytes) -> bool:
    # Sync byte 0x47 every 188 bytes; five in a row is not chance.
    return len(data) >= 188 * 5 and all(data[i * 188] == 0x47 for i in range(5))


def taken_at(data: bytes, form: str) -> dt.datetime | None:
    """When the photo was taken, from its EXIF; None without EXIF, or with EXIF that makes no sense."""
    block = exif_block(data, form)
    return exif_date(block) if block else None


def exif_block(data: bytes, form: str) -> bytes:
    try:
        if form == "JPEG":
            return _jpeg_exif(data)
        if form == "PNG":
            return _png_exif(data)
        if form in ("HEIC", "AVIF"):
            return _heif_exif(data)
    except _EXIF_ERRORS:
        return b""
    return b""


def _jpeg_exif(data: bytes) -> bytes:
    position = 2  # after SOI
    for _ in range(MAX_SEGMENTS):
        while position < len(data) and data[position] == 0xFF and data[position + 1 : position + 2] == b"\xff":
            position += 1  # fill bytes
        if data[position : position + 1] != b"\xff" or position + 4 > len(data):
            return b""
        marker = data[position + 1]
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no metadata after this point
            return b""
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        segment = data[position + 4 : position + 2 + length]
        if marker == 0xE1 and segment.startswith(b"Exif\x00\x00"):
            return segment[6:]
        position += 2 + length
    return b""


def _png_exif(data: bytes) -> bytes:
    position = 8  # after the signature
    for _ in range(MAX_CHUNKS):
        if position + 8 > len(data):
            return b""
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind == b"eXIf":
            return data[position + 8 : position + 8 + length] if length <= MAX_EXIF_BYTES else b""
        if kind == b"IEND":
            return b""
        position += 12 + length
    return b""


def _heif_exif(data: bytes) -> bytes:
    # Imported here: libheif is loaded only when a HEIC photo arrives.
    import pillow_heif

    # open_heif reads the container and its metadata; pixels are decoded only when asked for.
    block = pillow_heif.open_heif(io.BytesIO(data)).info.get("exif") or b""
    return block if isinstance(block, bytes) and len(block) <= MAX_EXIF_BYTES else b""


def exif_date(block: bytes) -> dt.datetime | None:
    """DateTimeOriginal, else DateTimeDigitized, of an EXIF (TIFF) block."""
    exif = Image.Exif()
    try:
        with warnings.catch_warnings():
            # Pillow warns about corrupt EXIF and reads what it can: what it cannot read is no date.
            warnings.simplefilter("ignore")
            exif.load(block[:MAX_EXIF_BYTES])
            values = [exif.get_ifd(_EXIF_IFD).get(tag) for tag in _DATE_TAGS]
    except _EXIF_ERRORS:
        return None
    for value in values:
        if moment := _parse_date(value):
            return moment
    return None


def _parse_date(value: object) -> dt.datetime | None:
    raw = value.encode("latin-1", "replace") if isinstance(value, str) else value
    if not isinstance(raw, bytes) or not (match := _EXIF_DATE.search(raw[:64])):
        return None
    try:
        year, month, mday, hour, minute, second = (int(part) for part in match.groups())
        moment = dt.datetime(year, month, mday, hour, minute, second)
    except ValueError:  # "0000:00:00 00:00:00", a 13th month
        return None
    return moment if 1990 <= moment.year <= 2100 else None


def embedded_photos(data: bytes, kind: str) -> int:
    """Pictures inside a .docx or PDF big enough to be photos (branches often paste photos into the summary)."""
    try:
        if kind == "docx":
            return _docx_pictures(data)
        if kind == "pdf":
            return _pdf_pictures(data)
    except _PACKAGE_ERRORS:
        return 0
    return 0


def _docx_pictures(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return sum(
            1
            for info in package.infolist()
            if info.filename.startswith("word/media/")
            and info.filename.lower().endswith((".jpg", ".jpeg", ".png", ".heic", ".tif", ".tiff", ".bmp"))
            and info.file_size >= MIN_EMBEDDED_PHOTO_BYTES
        )


_PDF_IMAGE = re.compile(rb"/Subtype\s*/Image")
_PDF_SIDE = re.compile(rb"/(Width|Height)\s+(\d{1,6})")


def _pdf_pictures(data: bytes) -> int:
    # Image XObjects are streams, and a stream's dictionary is never compressed into an object stream,
    # so it can be read from the raw bytes: every image with both sides large enough is counted.
    count = 0
    for match in _PDF_IMAGE.finditer(data):
        window = data[max(0, match.start() - 300) : match.end() + 300]
        sides = {key: int(value) for key, value in _PDF_SIDE.findall(window)}
        if min(sides.get(b"Width", 0), sides.get(b"Height", 0)) >= MIN_EMBEDDED_PHOTO_SIDE:
            count += 1
    return count
