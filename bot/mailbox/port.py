"""What the bot needs from a mailbox, whatever serves it: list, fetch untouched, mark, keep a sent copy, tell
which mail staff answered from the Sent folder, and wait for new mail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from bot.mailbox.stop import Stop


@dataclass(frozen=True)
class MessageRef:
    """Where a message sits: (mailbox, uidvalidity, uid) names it once, ever. Maildir keys fit in `uid`."""

    mailbox: str
    uidvalidity: int
    uid: str


@dataclass(frozen=True)
class Fetched:
    """A message's exact bytes and when the server received it (IMAP INTERNALDATE, Maildir mtime), aware.

    A big message is not held: `raw` is empty and `spooled` is a file holding its bytes, which stays there
    only until the next message is fetched (the mailbox's, not the reader's, to remove)."""

    ref: MessageRef
    raw: bytes
    arrived: dt.datetime
    spooled: Path | None = None

    @property
    def size(self) -> int:
        return self.spooled.stat().st_size if self.spooled is not None else len(self.raw)


class MailboxError(Exception):
    """Something went wrong with `mailbox`; `reason` says what, in words fit for a log."""

    def __init__(self, mailbox: str, reason: str) -> None:
        super().__init__(mailbox, reason)
        self.mailbox = mailbox
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.mailbox}: {self.reason}"


class MailboxUnavailable(MailboxError):
    """Refused, dropped, timed out or login failed: worth trying again later."""


class MailboxConfigError(MailboxError):
    """The settings cannot work (no such folder, certificate not trusted, not a Maildir): a person must act."""


class Mailbox(Protocol):
    @property
    def name(self) -> str: ...

    def list_refs(self) -> list[MessageRef]:
        """Every message now in the folder, oldest first."""
        ...

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[Fetched]:
        """The messages still there, in the order asked, never marking them read."""
        ...

    def mark_processed(self, ref: MessageRef) -> None:
        """Keyword, flag or move as configured; nothing when nothing is configured."""
        ...

    def append_sent(self, raw: bytes) -> None:
        """Keep a copy of a reply where staff look for sent mail."""
        ...

    def answered_in_sent(self) -> frozenset[str]:
        """The Message-IDs (with their angle brackets) that mail in the Sent folder answers, by its In-Reply-To and
        References: staff's answers sent from this mailbox. Headers only; the bot's own copies (its X-Subbot-Reply
        header) are not staff's answers and are left out. No Sent folder: none."""
        ...

    def wait_for_mail(self, timeout: float, stop: Stop) -> bool:
        """Wait until mail may have arrived since the last `list_refs` (True), or until `timeout` seconds have
        passed or `stop` is set (False): setting it ends the wait at once (IMAP) or within a second (Maildir).
        A connection lost while waiting raises MailboxUnavailable."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
