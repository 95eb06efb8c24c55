"""Forms sent inside a .zip: the documents in it, under their real names, within limits.

Windows' "send to compressed folder" and most Chinese zip tools write names in GBK without the
UTF-8 flag; zipfile then reads them as cp437, so they are turned back into bytes and decoded again.
Only base names are kept: nothing here ever touches a disk, and no caller should see a path."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from parsers.charsets import decode_bytes
from parsers.names import safe_name

MAX_ENTRIES = 2_000  # central-directory entries looked at
MAX_FILES = 50  # documents taken from one archive
MAX_UNPACKED = 100 * 1024 * 1024
MAX_RATIO = 100  # a form compresses maybe 10:1; zip bombs a thousand times better
_RATIO_FLOOR = 1024 * 1024  # small members may compress well without being a bomb
DOCUMENT_EXTENSIONS = frozenset(
    {".docx", ".doc", ".wps", ".pdf", ".odt", ".rtf", ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".heic"}
)
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError, zlib.error)
_UTF8_FLAG = 0x800
_UNICODE_PATH = 0x7075  # Info-ZIP extra field: the UTF-8 name beside a legacy one


@dataclass(frozen=True)
class Unpacked:
    files: tuple[tuple[str, bytes], ...]  # (base name, data)
    problems: tuple[str, ...]


def unpack_zip(data: bytes, archive: str, budget: int = MAX_UNPACKED) -> Unpacked:
    """The documents (Word, WPS, PDF, images) in a zip archive, at most `budget` bytes in all."""
    # zipfile reads the whole central directory up front: count entries before letting it.
    if data.count(b"PK\x01\x02") > MAX_ENTRIES:
        return Unpacked((), (f"压缩包「{archive}」中的文件过多，未解压",))
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        infos = package.infolist()
    except _ZIP_ERRORS:
        return Unpacked((), (f"压缩包「{archive}」已损坏，无法解压",))
    files: list[tuple[str, bytes]] = []
    problems: list[str] = []
    left = min(budget, MAX_UNPACKED)
    for info in infos:
        name = member_name(info)
        if not _is_document(info, name):
            continue
        base = safe_name(name)
        refusal = _refusal(info, left, len(files))
        if refusal:
            problems.append(f"压缩包「{archive}」中的「{base}」{refusal}")
            if len(files) >= MAX_FILES or info.file_size > left:
                break
            continue
        try:
            with package.open(info) as member:
                content = member.read(info.file_size)  # inflates no further than the declared size
        except _ZIP_ERRORS:
            problems.append(f"压缩包「{archive}」中的「{base}」已损坏，未能解压")
            continue
        files.append((base, content))
        left -= len(content)
    return Unpacked(tuple(files), tuple(problems))


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's path as its creator wrote it: the UTF-8 flag, the Info-ZIP Unicode Path field,
    else the cp437 reading undone and the bytes decoded as UTF-8 or GB18030."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    return _unicode_path(info.extra, raw) or decode_bytes(raw)


def _unicode_path(extra: bytes, raw: bytes) -> str:
    offset = 0
    while offset + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, offset)
        field = extra[offset + 4 : offset + 4 + size]
        offset += 4 + size
        # version 1, then the CRC of the legacy name it stands for, then the UTF-8 name
        if (
            kind == _UNICODE_PATH
            and len(field) > 5
            and field[0] == 1
            and struct.unpack_from("<I", field, 1)[0] == zlib.crc32(raw)
        ):
            return field[5:].decode("utf-8", "replace")
    return ""


def _is_document(info: zipfile.ZipInfo, name: str) -> bool:
    if info.is_dir() or name.startswith("__MACOSX/") or "/__MACOSX/" in name:
        return False
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    extension = "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""
    return not base.startswith("._") and extension in DOCUMENT_EXTENSIONS


def _refusal(info: zipfile.ZipInfo, left: int, taken: int) -> str:
    """Why a member is not unpacked, in words for staff; '' when it may be."""
    if taken >= MAX_FILES:
        return f"及之后的文件未解压（一个压缩包最多解压 {MAX_FILES} 个文件）"
    if info.flag_bits & 0x1:
        return "设置了密码，无法解压"
    if info.compress_type not in _METHODS:
        return "的压缩方式无法识别，未能解压"
    if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return "压缩比异常（可能是恶意压缩包），未解压"
    if info.file_size > left:
        return "及之后的文件未解压（解压后总大小超出限制）"
    return ""
