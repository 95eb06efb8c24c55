"""What kind of file some bytes are, and whether a zip package is safe to open."""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from parsers.errors import NeedsConversion, UnreadableDocument

# Limits for a form's zip package: a real form is well under 1 MB; these leave room for photos.
# python-docx parses every XML part up front, at about 40 bytes of memory per byte of dense XML
# (an 8 MiB part of empty paragraphs peaks near 350 MB and takes 5 s), so XML is held tighter.
MAX_MEMBERS = 2_000
MAX_UNPACKED = 100 * 1024 * 1024
MAX_XML_PART = 8 * 1024 * 1024
MAX_XML_TOTAL = 16 * 1024 * 1024
MAX_RATIO = 200
# Word writes members stored or deflated; zipfile inflates other methods (bzip2, lzma) unbounded.
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError, zlib.error)

_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SNIFF_HEAD = 64 * 1024
_IMAGES = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG": "PNG",
    b"GIF8": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}


def sniff(data: bytes, name: str) -> str:
    """The file's real kind from its content; the name only breaks ties between look-alikes."""
    head = data[:8]
    lower = name.lower()
    if not data.strip():
        return "empty"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(data, lower)
    if head == _CFB:
        return "encrypted" if _is_encrypted_ooxml(data) else ("wps" if lower.endswith(".wps") else "doc")
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "image"
    if any(head.startswith(magic) for magic in _IMAGES):
        return "image"
    return "unknown"


def sniff_path(path: Path, name: str) -> str:
    """`sniff` of a file on disk, reading only what it needs: a zip's directory, never its members."""
    with path.open("rb") as file:
        head = file.read(_SNIFF_HEAD)
        if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            file.seek(0)
            return _zip_kind(file, name.lower())
        if head.startswith(_CFB):
            return sniff(head + file.read(), name)  # a CFB directory can be anywhere in the file
        return sniff(head, name)


def _zip_kind(data: bytes | BinaryIO, lower: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as package:
            names = set(package.namelist())
            if "mimetype" in names and b"opendocument.text" in _head(package, "mimetype"):
                return "odt"
    except _ZIP_ERRORS:
        return "broken_zip"
    if "[Content_Types].xml" in names:
        folders = {n.split("/", 1)[0] for n in names}
        if "word" in folders or (lower.endswith(".docx") and not folders & {"xl", "ppt"}):
            return "docx"
        return "ooxml_other"
    return "zip"


def _head(package: zipfile.ZipFile, name: str) -> bytes:
    # Read only the start: `read()` inflates a member whole, however big it really is.
    with package.open(name) as member:
        return member.read(100)


def _is_encrypted_ooxml(data: bytes) -> bool:
    # A password-protected .docx is a CFB container holding an "EncryptedPackage" stream.
    return "EncryptedPackage".encode("utf-16-le") in data


def check_package(data: bytes) -> zipfile.ZipFile:
    """Open a zip package after checking member count, sizes and compression ratios (zip bombs)."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        infos = package.infolist()
    except _ZIP_ERRORS as exc:
        raise UnreadableDocument("corrupt", "文件已损坏，无法打开", repr(exc)) from exc
    if any(info.flag_bits & 0x1 for info in infos):
        raise UnreadableDocument("encrypted", "文件设置了打开密码，无法读取；请取消密码后重新发送", "zip encryption")
    if any(info.compress_type not in _METHODS for info in infos):
        raise UnreadableDocument("corrupt", "文件已损坏或格式不正确，无法读取", "zip compression method")
    if len(infos) > MAX_MEMBERS:
        raise UnreadableDocument("too_large", "文件内部结构异常（部件过多），无法安全读取", f"{len(infos)} members")
    total = sum(info.file_size for info in infos)
    if total > MAX_UNPACKED:
        raise UnreadableDocument("too_large", "文件解压后过大，无法安全读取", f"{total} bytes unpacked")
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        too_big_xml = info.filename.endswith((".xml", ".rels")) and info.file_size > MAX_XML_PART
        if too_big_xml or (ratio > MAX_RATIO and info.file_size > 1024 * 1024):
            raise UnreadableDocument(
                "too_large", "文件内部结构异常（压缩比过高），无法安全读取", f"{info.filename}: {ratio:.0f}x"
            )
    xml = sum(info.file_size for info in infos if info.filename.endswith((".xml", ".rels")))
    if xml > MAX_XML_TOTAL:
        raise UnreadableDocument("too_large", "文件内部结构异常（内容过大），无法安全读取", f"{xml} bytes of XML")
    return package


def read_members(package: zipfile.ZipFile) -> dict[str, bytes]:
    """Every member's bytes, none inflated past the size the package declares for it.

    A declared size can lie: `ZipFile.read` inflates a member's whole compressed stream in one call
    before cutting it to that size, so a 1 MB member declared as 4 KB takes gigabytes on the way."""
    try:
        return {info.filename: _read_declared(package, info) for info in package.infolist()}
    except _ZIP_ERRORS as exc:
        raise UnreadableDocument("corrupt", "文件已损坏，无法打开", repr(exc)) from exc


def read_member(package: zipfile.ZipFile, name: str) -> bytes | None:
    """One member's bytes (None when the package has no such member), bounded as `read_members` bounds them."""
    try:
        info = package.getinfo(name)
    except KeyError:
        return None
    try:
        return _read_declared(package, info)
    except _ZIP_ERRORS as exc:
        raise UnreadableDocument("corrupt", "文件已损坏，无法打开", repr(exc)) from exc


def _read_declared(package: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with package.open(info) as member:
        # `read(n)` inflates at most n bytes per step; at the declared size zipfile checks the CRC.
        return member.read(info.file_size)


def repack(members: dict[str, bytes]) -> bytes:
    """Members written back uncompressed, so that the library reading them inflates nothing."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as copy:
        for name, part in members.items():
            copy.writestr(name, part)
    return out.getvalue()


def refuse(kind: str) -> UnreadableDocument | NeedsConversion:
    """The outcome for a kind that is not read directly."""
    if kind in ("doc", "wps", "odt", "rtf"):
        return NeedsConversion(kind)
    messages = {
        "empty": ("empty", "文件为空（0字节或没有内容）"),
        "encrypted": ("encrypted", "文件设置了打开密码，无法读取；请取消密码后重新发送"),
        "image": ("image", "这是一张图片，不是可读取的表格文件；请发送填写好的 Word（.docx）文件"),
        "broken_zip": ("corrupt", "文件已损坏，无法打开"),
        "zip": ("not_a_form", "这是一个压缩包，不是 Word 或 PDF 文件"),
        "ooxml_other": ("not_a_form", "这不是 Word 文档（可能是 Excel 或 PowerPoint 文件）"),
    }
    code, message = messages.get(kind, ("unknown_format", "无法识别的文件格式；请发送 Word（.docx）或 PDF 文件"))
    return UnreadableDocument(code, message, kind)
