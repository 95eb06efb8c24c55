"""What kind of file some bytes are, and whether a zip package is safe to open."""

from __future__ import annotations

import io
import zipfile

from parsers.errors import NeedsConversion, UnreadableDocument

# Limits for a form's zip package: a real form is well under 1 MB; these leave room for photos.
MAX_MEMBERS = 2_000
MAX_UNPACKED = 200 * 1024 * 1024
MAX_XML_PART = 32 * 1024 * 1024
MAX_RATIO = 200

_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
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


def _zip_kind(data: bytes, lower: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = set(package.namelist())
            if "mimetype" in names and b"opendocument.text" in package.read("mimetype")[:100]:
                return "odt"
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "broken_zip"
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names) or lower.endswith(".docx"):
            return "docx"
        return "ooxml_other"
    return "zip"


def _is_encrypted_ooxml(data: bytes) -> bool:
    # A password-protected .docx is a CFB container holding an "EncryptedPackage" stream.
    return "EncryptedPackage".encode("utf-16-le") in data


def check_package(data: bytes) -> zipfile.ZipFile:
    """Open a zip package after checking member count, sizes and compression ratios (zip bombs)."""
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        infos = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableDocument("corrupt", "文件已损坏，无法打开", str(exc)) from exc
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
    return package


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
