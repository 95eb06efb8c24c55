"""`parse_message`: raw mail bytes to a `Mail` record: who sent it, what it carries, what kind it is.

Pure: no network, disk or clock. It never raises for any bytes (only TypeError when given
something that is not bytes); what it had to skip is listed, in words for staff, in `problems`."""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesFeedParser, BytesParser

from parsers.archive import unpack_zip
from parsers.auth import NO_RESULTS, SenderCheck, check_sender
from parsers.body import find_links, html_text
from parsers.headers import Headers, decode_raw_text, decode_value, parse_addresses, parse_date, parse_msg_ids
from parsers.mailkind import Signs, mail_kind
from parsers.names import fallback_name, safe_name, unique_name
from parsers.package import sniff
from parsers.parts import MAX_ATTACHMENT_BYTES, PART_ERRORS, Contents, Piece, read_parts
from parsers.spill import Spill

_CHUNK = 1 << 16
_ARCHIVES_UNREAD = {".rar": "RAR", ".7z": "7z"}
_ARCHIVE_MAGIC = {b"Rar!\x1a\x07": ".rar", b"7z\xbc\xaf\x27\x1c": ".7z"}


@dataclass(frozen=True)
class Address:
    name: str
    address: str  # lower-cased


@dataclass(frozen=True)
class Attachment:
    name: str  # decoded, a safe base name, never empty
    content_type: str
    kind: str  # from parsers.package.sniff
    data: bytes = field(repr=False)  # b"" when the part was spilled to a file
    origin: str  # part | inline | forward | tnef | zip:<archive name>
    spill: Spill | None = None  # a big photo or video, decoded to a file as the message was read

    @property
    def size(self) -> int:
        return self.spill.size if self.spill else len(self.data)

    @property
    def sha256(self) -> str:
        return self.spill.sha256 if self.spill else hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Mail:
    message_id: str
    sender: Address
    reply_to: Address | None
    to: tuple[Address, ...]
    subject: str
    date: dt.datetime | None
    in_reply_to: str
    references: tuple[str, ...]
    attachments: tuple[Attachment, ...]
    body_text: str
    links: tuple[str, ...]
    kind: str  # submission | auto_reply | bounce | own
    kind_reason: str
    problems: tuple[str, ...]
    # What the receiving server's Authentication-Results say of the From address (parsers.auth).
    sender_check: SenderCheck = NO_RESULTS


def parse_message(
    raw: bytes,
    own_addresses: frozenset[str] = frozenset(),
    authserv_ids: frozenset[str] = frozenset(),
    spills: Mapping[bytes, Spill] | None = None,
) -> Mail:
    """Read one raw message (RFC 5322 bytes as fetched from the mailbox). `authserv_ids` names the
    receiving servers whose Authentication-Results are trusted (none: the topmost header's). `spills` are
    the parts `parsers.spill.reduce_message` took out of `raw` into files, by their markers."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError(f"parse_message needs bytes, not {type(raw).__name__}")
    message, problems = _parse(bytes(raw))
    contents = _contents(message)
    headers = _headers(message, contents)
    hint = contents.charset or None
    senders = _addresses(headers, "from", contents, hint) or _addresses(headers, "sender", contents, hint)
    sender = senders[0] if senders else Address("", "")
    reply_to = _addresses(headers, "reply-to", contents, hint)
    subject = decode_value(headers.raw("subject"), hint)
    attachments = _attachments(contents, spills or {})
    body, links = _body(contents)
    own = frozenset(a.strip().lower() for a in own_addresses)
    signs = Signs(headers, sender.address, subject, frozenset(contents.own_types), contents.report_type, own)
    kind, reason = mail_kind(signs)
    return Mail(
        message_id=_first(parse_msg_ids(headers.raw("message-id"))),
        sender=sender,
        reply_to=reply_to[0] if reply_to else None,
        to=tuple(_addresses(headers, "to", contents, hint)),
        subject=subject,
        date=parse_date(headers.raw("date")),
        in_reply_to=_first(parse_msg_ids(headers.raw("in-reply-to"))),
        references=parse_msg_ids(headers.raw("references")),
        attachments=attachments,
        body_text=body,
        links=links,
        kind=kind,
        kind_reason=reason,
        problems=tuple([*problems, *contents.problems]),
        sender_check=check_sender(
            [decode_raw_text(v) for v in headers.all_raw("authentication-results")], sender.address, authserv_ids
        ),
    )


def _parse(raw: bytes) -> tuple[Message, list[str]]:
    # compat32 keeps every header raw (surrogate-escaped bytes) for `headers` to decode once, with
    # GB18030 for GB2312 labels; policy.default would decode them first, and lossily.
    parser = BytesParser(policy=email.policy.compat32)
    try:
        return _feed(raw), []
    except PART_ERRORS:
        pass
    problem = "邮件结构无法解析，只读取了邮件头"
    try:
        return parser.parsebytes(raw, headersonly=True), [problem]
    except PART_ERRORS:
        return Message(), ["邮件无法解析"]


def _feed(raw: bytes) -> Message:
    """What `BytesParser.parsebytes` gives, fed in chunks: it copies the whole message into a StringIO
    of four bytes a character first, so a mail of 140 MB took 1.3 GB to parse; this takes about half."""
    feeder = BytesFeedParser(policy=email.policy.compat32)
    for start in range(0, len(raw), _CHUNK):
        feeder.feed(raw[start : start + _CHUNK])
    return feeder.close()


def _contents(message: Message) -> Contents:
    try:
        return read_parts(message)
    except PART_ERRORS:  # read_parts guards each part; this is for the walk itself
        contents = Contents()
        contents.problem("邮件正文和附件无法读取")
        return contents


def _headers(message: Message, contents: Contents) -> Headers:
    try:
        return Headers.of(message)
    except PART_ERRORS:
        contents.problem("邮件头无法读取")
        return Headers(())


def _addresses(headers: Headers, name: str, contents: Contents, hint: str | None) -> list[Address]:
    found: list[Address] = []
    for raw in headers.all_raw(name):
        try:
            found.extend(Address(display, address) for display, address in parse_addresses(raw, hint))
        except PART_ERRORS:
            contents.problem(f"邮件头「{name.title()}」无法识别")
    return found


def _attachments(contents: Contents, spills: Mapping[bytes, Spill]) -> tuple[Attachment, ...]:
    found: list[tuple[Piece, str]] = []
    spilled: dict[int, Spill] = {}
    budget = MAX_ATTACHMENT_BYTES - contents.attachment_bytes
    for piece in contents.pieces:
        if (spill := spills.get(piece.data)) is not None:
            label = safe_name(piece.name) or piece.content_type
            if not spill.kept:
                contents.problem(f"附件「{label}」未读取：邮件附件过大")
                continue
            spilled[len(found)] = spill
            found.append((piece, spill.kind))
            if spill.kind == "zip":  # a zip under an Office file's name, in a big mail: kept, not unpacked
                contents.problem(f"附件「{label}」是压缩包，文件过大，未能自动解压")
            elif unread := _unread_archive(piece.name, spill.head):
                contents.problem(f"附件「{label}」是 {unread} 压缩包，无法自动解压")
            continue
        kind = _sniff(piece.data, piece.name)
        found.append((piece, kind))
        if kind == "zip":
            archive = safe_name(piece.name) or "附件.zip"
            unpacked = unpack_zip(piece.data, archive, budget)
            budget -= sum(len(data) for _, data in unpacked.files)
            contents.problems.extend(unpacked.problems)
            for name, data in unpacked.files:
                found.append((Piece(name, "application/octet-stream", data, f"zip:{archive}"), _sniff(data, name)))
        elif unread := _unread_archive(piece.name, piece.data):
            contents.problem(f"附件「{safe_name(piece.name) or unread}」是 {unread} 压缩包，无法自动解压")
    taken: set[str] = set()
    attachments = []
    for number, (piece, kind) in enumerate(found, 1):
        name = unique_name(safe_name(piece.name) or fallback_name(number, kind, piece.content_type), taken)
        taken.add(name)
        spill = spilled.get(number - 1)
        data = b"" if spill else piece.data
        attachments.append(Attachment(name, piece.content_type, kind, data, piece.origin, spill))
    return tuple(attachments)


def _sniff(data: bytes, name: str) -> str:
    try:
        return sniff(data, name)
    except PART_ERRORS:
        return "unknown"


def _unread_archive(name: str, head: bytes) -> str:
    extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    for magic, kind in _ARCHIVE_MAGIC.items():
        if head.startswith(magic):
            extension = kind
    return _ARCHIVES_UNREAD.get(extension, "")


def _body(contents: Contents) -> tuple[str, tuple[str, ...]]:
    texts = [_lines(text) for text in contents.plain if text.strip()]
    hrefs: list[str] = []
    html_texts: list[str] = []
    for html in contents.html:
        text, links = html_text(_lines(html))
        html_texts.append(text)
        hrefs.extend(links)
    body = "\n\n".join(texts) or "\n\n".join(t for t in html_texts if t)
    return body, find_links([*texts, "\n".join(hrefs), *html_texts])


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _first(ids: tuple[str, ...]) -> str:
    return ids[0] if ids else ""
