"""Walking a parsed message: its text bodies and the files it carries, bounded in depth, parts and bytes.

Forwarded messages (message/rfc822) are walked like the rest; Outlook's winmail.dat is opened.
Each part is read on its own: one that cannot be decoded becomes a problem, not an exception."""

from __future__ import annotations

import binascii
import email
import email.errors
import email.policy
import struct
import zlib
from dataclasses import dataclass, field
from email.message import Message

from parsers.charsets import decode_bytes
from parsers.headers import HEADER_ERRORS, Headers, split_params
from parsers.names import safe_name
from parsers.winmail import UnreadableWinmail, unpack_winmail

MAX_DEPTH = 12  # nested multiparts and forwards; real mail rarely passes 6
MAX_PARTS = 500
MAX_ATTACHMENT_BYTES = 200 * 1024 * 1024

# What the standard library and our decoders raise on hostile input.
PART_ERRORS = (
    *HEADER_ERRORS,
    AssertionError,
    RecursionError,
    struct.error,
    binascii.Error,
    zlib.error,
    email.errors.MessageError,
)
_REPORTS = frozenset(
    {
        "message/delivery-status",
        "message/global-delivery-status",
        "message/disposition-notification",
        "message/feedback-report",
        "text/rfc822-headers",
        "message/rfc822-headers",
    }
)
_SIGNATURES = frozenset({"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"})
_MESSAGES = frozenset({"message/rfc822", "message/global"})
_ENCRYPTED = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_BODIES = frozenset({"text/plain", "text/html"})


@dataclass(frozen=True)
class Piece:
    """A file found in the mail, before it is sniffed and given a safe name."""

    name: str
    content_type: str
    data: bytes
    origin: str  # part | forward | tnef | inline


@dataclass
class Contents:
    pieces: list[Piece] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Content types of the mail's own parts (not of forwarded ones), and multipart/report's report-type.
    own_types: set[str] = field(default_factory=set)
    report_type: str = ""
    charset: str = ""  # the first text part's charset: a hint for raw 8-bit headers
    attachment_bytes: int = 0

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)


@dataclass(frozen=True)
class _Frame:
    part: Message
    depth: int
    related: bool
    forwarded: bool


def read_parts(message: Message) -> Contents:
    """Bodies, files and problems of a message, in the order a reader meets them."""
    contents = Contents()
    stack = [_Frame(message, 0, False, False)]
    seen = 0
    while stack:
        frame = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            contents.problem(f"邮件包含的部分过多（超过 {MAX_PARTS} 个），其余部分未读取")
            break
        try:
            children = _read_part(frame, contents)
        except PART_ERRORS:
            contents.problem("邮件中有一个部分无法解码，已跳过")
            continue
        if children and frame.depth + 1 > MAX_DEPTH:
            contents.problem(f"邮件嵌套层数过多（超过 {MAX_DEPTH} 层），更深处的内容未读取")
            continue
        stack.extend(reversed(children))
    return contents


def _read_part(frame: _Frame, contents: Contents) -> list[_Frame]:
    """Read one part; the parts inside it, if any, are returned to be read next."""
    part = frame.part
    headers = Headers.of(part)
    content_type, type_params = split_params(headers.raw("content-type"))
    if "/" not in content_type:
        content_type = part.get_default_type()
    if not frame.forwarded:
        contents.own_types.add(content_type)
        if content_type == "multipart/report" and not contents.report_type:
            contents.report_type = type_params.get("report-type", "").lower()
    if content_type in _REPORTS or content_type in _SIGNATURES:
        return []  # machine-readable report blocks and signatures: nothing a person sent
    payload = part.get_payload()
    if isinstance(payload, list):
        forwarded = frame.forwarded or content_type.startswith("message/")
        related = frame.related or content_type == "multipart/related"
        return [_Frame(child, frame.depth + 1, related, forwarded) for child in payload if isinstance(child, Message)]
    disposition, disposition_params = split_params(headers.raw("content-disposition"))
    name = disposition_params.get("filename") or type_params.get("name") or ""
    data = part.get_payload(decode=True)
    leaf = _Leaf(
        content_type, type_params.get("charset", ""), disposition, name, data if isinstance(data, bytes) else b""
    )
    return _read_leaf(frame, leaf, contents)


@dataclass(frozen=True)
class _Leaf:
    content_type: str
    charset: str
    disposition: str
    name: str
    data: bytes


def _read_leaf(frame: _Frame, leaf: _Leaf, contents: Contents) -> list[_Frame]:
    if leaf.content_type in _MESSAGES or (
        leaf.content_type == "application/octet-stream" and leaf.name.lower().endswith(".eml")
    ):
        inner = email.message_from_bytes(leaf.data, policy=email.policy.compat32)
        return [_Frame(inner, frame.depth + 1, frame.related, True)]
    if leaf.content_type in _BODIES or leaf.content_type.startswith("multipart/"):
        if not frame.forwarded:
            contents.charset = contents.charset or leaf.charset
        if leaf.disposition != "attachment" and not leaf.name:
            body = contents.html if leaf.content_type == "text/html" else contents.plain
            body.append(decode_bytes(leaf.data, leaf.charset))
            return []
    origin = "forward" if frame.forwarded else "part"
    piece = Piece(leaf.name, leaf.content_type, leaf.data, origin)
    if leaf.content_type in TNEF_TYPES or leaf.name.lower() == "winmail.dat":
        _read_winmail(piece, contents)
        return []
    if leaf.content_type in _ENCRYPTED:
        contents.problem("邮件内容经过加密（S/MIME），无法读取")
    if frame.related and leaf.content_type.startswith("image/") and leaf.disposition != "attachment":
        piece = Piece(leaf.name, leaf.content_type, leaf.data, "inline")  # a logo or picture in the HTML
    _keep(piece, contents)
    return []


def _read_winmail(piece: Piece, contents: Contents) -> None:
    try:
        winmail = unpack_winmail(piece.data)
    except UnreadableWinmail:
        contents.problem(f"Outlook 附件包「{piece.name or 'winmail.dat'}」无法解析，其中的附件未能取出")
        _keep(piece, contents)
        return
    # Outlook often sends the same text as a text/plain part beside winmail.dat.
    if winmail.body.strip() and _squash(winmail.body) not in {_squash(text) for text in contents.plain}:
        contents.plain.append(winmail.body)
    for name, data in winmail.files:
        _keep(Piece(name, "application/octet-stream", data, "tnef"), contents)


def _keep(piece: Piece, contents: Contents) -> None:
    if contents.attachment_bytes + len(piece.data) > MAX_ATTACHMENT_BYTES:
        limit = MAX_ATTACHMENT_BYTES // (1024 * 1024)
        label = safe_name(piece.name) or piece.content_type
        contents.problem(f"附件「{label}」未读取：邮件附件总大小超过 {limit} MB")
        return
    contents.attachment_bytes += len(piece.data)
    contents.pieces.append(piece)


def _squash(text: str) -> str:
    return " ".join(text.split())
