"""What taking in a message needs besides the message: configuration and the helpers, built once (bot.app)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.forms.convert import Converter
from bot.outgoing.queue import Letterhead
from bot.store.content import ContentStore
from config import Context


@dataclass(frozen=True)
class Services:
    ctx: Context
    convert: Converter | None
    letterhead: Letterhead
    own_addresses: frozenset[str]
    reply_cap: int
    blank_form: bytes
    # Receiving servers whose Authentication-Results are trusted; none: the topmost header (parsers.auth).
    authserv_ids: frozenset[str] = frozenset()
    media: ContentStore | None = None  # where summaries' photos and videos go; None records them without storing
    spills: Path | None = None  # where a big message's parts are decoded while it is read; None: the temp folder
    raw: ContentStore | None = None  # the raw messages, for a mail taken in again (staff released it)
    # Staff who may command the bot by mail, and which of the receiving server's checks must vouch for them.
    staff_addresses: frozenset[str] = frozenset()
    staff_checks: tuple[str, ...] = ("dmarc", "dkim")
