"""Which Message-IDs a sent message answers, from its header block alone: its In-Reply-To and References,
unless it is one of the bot's own replies (X-Subbot-Reply), which answer branches but are no person's answer."""

from __future__ import annotations

from email.parser import BytesHeaderParser
from email.policy import compat32

from parsers.headers import parse_msg_ids
from parsers.mailkind import OWN_HEADER

# The header fields a Sent message is read for (IMAP asks the server for these alone).
FIELDS = ("MESSAGE-ID", "IN-REPLY-TO", "REFERENCES", OWN_HEADER.upper())
HEADER_LIMIT = 256 << 10  # bytes of header block read from a file at most: a header block is never this long


def answered_ids(header_block: bytes) -> tuple[str, ...]:
    headers = BytesHeaderParser(policy=compat32).parsebytes(header_block)
    if headers.get(OWN_HEADER) is not None:
        return ()
    ids = [*parse_msg_ids(str(headers.get("In-Reply-To") or "")), *parse_msg_ids(str(headers.get("References") or ""))]
    return tuple(dict.fromkeys(i for i in ids if i.startswith("<")))
