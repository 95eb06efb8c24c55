"""A reply as MIME bytes: threaded to the branch's mail, marked as automatic, Chinese names readable
in every client (QQ Mail reads only RFC 2047 names, others RFC 2231: both are written)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from urllib.parse import quote

from replies.render import Rendered

REPLY_HEADER = "X-Subbot-Reply"
# RFC 2047 allows an encoded word of at most 75 characters; email.header's default folding writes 76.
_WORD_LINE = 74
_REPLY_PREFIX = re.compile(r"^\s*(?:re|回复|答复|reply)\s*[:：]", re.I)
DOCX_TYPE = "vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_SUBTYPES = {".docx": DOCX_TYPE, ".xlsx": XLSX_TYPE}


@dataclass(frozen=True)
class Thread:
    """What a reply needs of the mail it answers."""

    message_id: str
    references: tuple[str, ...]
    subject: str


@dataclass(frozen=True)
class FileToAttach:
    name: str
    data: bytes


def reply_prefix(subject: str) -> str:
    """'回复：' unless the subject already starts with a reply prefix."""
    return "" if _REPLY_PREFIX.match(subject) else "回复："


def one_line(text: str) -> str:
    """Header-safe text: no CR/LF (which would inject headers), single spaces."""
    return " ".join(text.split())


def compose(
    rendered: Rendered,
    sender: tuple[str, str],
    to: str,
    thread: Thread | None,
    message_id: str,
    now: dt.datetime,
    marker: str,
    files: Sequence[FileToAttach] = (),
    auto_submitted: str = "auto-replied",
) -> bytes:
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(rendered.text, "plain", "utf-8"))
    body.attach(MIMEText(rendered.html, "html", "utf-8"))
    message = body
    if files:
        message = MIMEMultipart("mixed")
        message.attach(body)
        for item in files:
            message.attach(_attachment(item))
    message["From"] = formataddr((str(Header(sender[0], "utf-8")), sender[1]))
    message["To"] = to
    message["Subject"] = _encoded(one_line(rendered.subject), "Subject")
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    if thread and thread.message_id:
        message["In-Reply-To"] = thread.message_id
        message["References"] = " ".join([*thread.references[-10:], thread.message_id])
    # RFC 3834: auto-replied for a reply, auto-generated for a digest; Outlook and Exchange: no out-of-office back.
    message["Auto-Submitted"] = auto_submitted
    message["X-Auto-Response-Suppress"] = "All"
    message[REPLY_HEADER] = marker
    return message.as_bytes()


def _encoded(text: str, header_name: str = "") -> str:
    """`text` as RFC 2047 encoded words, each short enough for strict readers."""
    return Header(text, "utf-8", header_name=header_name or None).encode(maxlinelen=_WORD_LINE)


def _attachment(item: FileToAttach) -> MIMEApplication:
    suffix = "." + item.name.rpartition(".")[2].lower()
    part = MIMEApplication(item.data, _subtype=_SUBTYPES.get(suffix, "octet-stream"))
    encoded_word = _encoded(item.name)
    part.set_param("name", encoded_word)
    part["Content-Disposition"] = f"attachment; filename=\"{encoded_word}\"; filename*=utf-8''{quote(item.name)}"
    return part
