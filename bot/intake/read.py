"""Reading a fetched message into a `Mail`: a spooled one (a big message the mailbox copied to a file) has its
attachments decoded into a spill folder as the bytes go by, so a mail of 500 photos or a 300 MB video is never
held whole; the rest is parsed as any message."""

from __future__ import annotations

import secrets
from pathlib import Path

from bot.mailbox.port import Fetched
from bot.store.spills import SpillFolder
from parsers.message import Mail, parse_message
from parsers.spill import reduce_message

CHUNK = 1 << 20


def read_mail(fetched: Fetched, own_addresses: frozenset[str], authserv_ids: frozenset[str], spills: SpillFolder) -> Mail:
    """The message as `parse_message` reads it; a spooled one with its big photos and videos in `spills`."""
    if fetched.spooled is None:
        return parse_message(fetched.raw, own_addresses, authserv_ids)
    return read_file(fetched.spooled, own_addresses, authserv_ids, spills)


def read_file(path: Path, own_addresses: frozenset[str], authserv_ids: frozenset[str], spills: SpillFolder) -> Mail:
    with path.open("rb") as file:
        chunks = iter(lambda: file.read(CHUNK), b"")
        reduced = reduce_message(chunks, spills, secrets.token_hex(8))
    return parse_message(reduced.raw, own_addresses, authserv_ids, reduced.spills)


