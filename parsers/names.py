"""Attachment file names made safe to show and to store: one base name, no paths, never empty."""

from __future__ import annotations

import re

from parsers.headers import clean_line

_UNSAFE = re.compile(r'[<>:"|?*]')
_DOTS = re.compile(r"\.{2,}")
_MAX_LENGTH = 180

_EXTENSIONS = {
    "docx": ".docx",
    "pdf": ".pdf",
    "doc": ".doc",
    "wps": ".wps",
    "odt": ".odt",
    "rtf": ".rtf",
    "zip": ".zip",
    "broken_zip": ".zip",
    "ooxml_other": ".xlsx",
}
_TYPE_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "image/tiff": ".tif",
    "image/heic": ".heic",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "application/msword": ".doc",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "message/rfc822": ".eml",
}


def safe_name(name: str) -> str:
    """The base name only: directories (either slash), '..', controls and Windows-reserved
    characters removed; '' when nothing is left."""
    name = clean_line(name)
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE.sub("_", _DOTS.sub(".", name)).rstrip(" .")
    if name.startswith("."):  # ".docx" is an extension without a name: let the caller make one up
        name = name.lstrip(". ")
        name = name if "." in name else ""
    name = name.strip()
    if len(name) > _MAX_LENGTH:
        _stem, dot, extension = name.rpartition(".")
        extension = extension if dot and len(extension) <= 10 else ""
        name = name[: _MAX_LENGTH - len(extension) - 1].rstrip(" .") + ("." + extension if extension else "")
    return name


def fallback_name(number: int, kind: str, content_type: str) -> str:
    """A name for an attachment that came without one, e.g. 附件1.docx."""
    extension = _EXTENSIONS.get(kind) or _TYPE_EXTENSIONS.get(content_type) or ""
    if kind == "image" and not extension:
        extension = ".jpg"
    return f"附件{number}{extension}"


def unique_name(name: str, taken: set[str]) -> str:
    """The name, or with ' (2)', ' (3)'... before the extension when an earlier attachment has it."""
    if name not in taken:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        stem, extension = name, ""
    suffix = "." + extension if extension else ""
    number = 2
    while f"{stem} ({number}){suffix}" in taken:
        number += 1
    return f"{stem} ({number}){suffix}"
