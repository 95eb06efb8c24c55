"""The Mailbox port over IMAP (imapclient): reads with BODY.PEEK[] so staff's \\Seen is never touched,
changes the mailbox only when a keyword or a folder for processed mail is configured, and waits for new
mail in IDLE when the server offers it."""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Any, Literal, Self

from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import (  # type: ignore[import-untyped]
    CapabilityError,
    IMAPClientAbortError,
    IMAPClientError,
)

from bot.mailbox.answers import FIELDS, answered_ids
from bot.mailbox.idle import RENEW, wait_in_idle, wait_with_noop
from bot.mailbox.port import Fetched, MailboxConfigError, MailboxUnavailable, MessageRef
from bot.mailbox.spool import SPOOL_BYTES, spool_file
from bot.mailbox.stop import Stop

log = logging.getLogger(__name__)

# Messages per UID FETCH: few round trips, yet a dropped connection loses little.
CHUNK = 50
# Bytes of whole messages asked for in one FETCH: fifty summaries of 20 MB must not come back at once.
FETCH_BUDGET = 32 << 20
# A message over SPOOL_BYTES is not held: it is copied to a spool file in pieces of PIECE bytes (partial FETCH).
PIECE = 4 << 20
BODY = b"BODY[]"
SIZE = b"RFC822.SIZE"
INTERNALDATE = b"INTERNALDATE"
DEFAULT_SENT = "Sent"
SENT = rb"\Sent"  # the SPECIAL-USE attribute (RFC 6154)
ATOM_SPECIALS = frozenset('(){ %*"\\]')


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    security: Literal["ssl", "starttls", "plain"] = "ssl"
    ca_file: str | None = None
    timeout: float = 30.0
    processed_keyword: str | None = None
    processed_folder: str | None = None
    sent_folder: str | None = None
    idle: bool = True  # wait in IDLE when the server offers it; False waits poll_minutes (and NOOPs)
    idle_renew: float = RENEW
    spool_dir: str | None = None  # where messages over spool_bytes are copied while read; None: the temp folder
    spool_bytes: int = SPOOL_BYTES

    @property
    def marks(self) -> bool:
        return bool(self.processed_keyword or self.processed_folder)

    @property
    def name(self) -> str:
        return f"imap://{self.username}@{self.host}/{self.folder}"


class ImapMailbox:
    """One logged-in session with the folder selected; read-only unless marking is configured."""

    def __init__(self, settings: ImapSettings) -> None:
        self._settings = settings
        self._ensured: set[str] = set()
        self._sent: str | None = None
        self._last_uid: int | None = None  # the highest UID the last list_refs saw
        _check_keyword_name(settings)
        context = _tls_context(settings)
        with _translated(settings.name, "connect"):
            self._client: Any = IMAPClient(
                settings.host,
                settings.port,
                ssl=settings.security == "ssl",
                ssl_context=context,
                timeout=settings.timeout,
            )
        try:
            self._uidvalidity = self._start(context)
            with self._translated("CAPABILITY"):
                self._idles = settings.idle and bool(self._client.has_capability("IDLE"))
        except BaseException:
            self._drop()
            raise
        # The host and folder, not the name: it holds the login, an address (no addresses at INFO).
        log.info(
            "IMAP %s/%s open, UIDVALIDITY %d, IDLE %s",
            self._settings.host,
            self._settings.folder,
            self._uidvalidity,
            self._idles,
        )

    @property
    def name(self) -> str:
        return self._settings.name

    @property
    def uidvalidity(self) -> int:
        return self._uidvalidity

    def list_refs(self) -> list[MessageRef]:
        with self._translated("UID SEARCH"):
            uids = sorted(self._search("ALL"))
        self._last_uid = uids[-1] if uids else 0
        return [MessageRef(self.name, self._uidvalidity, str(uid)) for uid in uids]

    def fetch(self, refs: Sequence[MessageRef]) -> Iterator[Fetched]:
        """Sizes first; then the small messages whole, a few at a time, and each big one into a spool file
        by partial FETCHes, so neither a big message nor a run of them is ever held in memory."""
        uids = [self._uid(ref) for ref in refs]
        for start in range(0, len(uids), CHUNK):
            chunk = uids[start : start + CHUNK]
            with self._translated("UID FETCH"):
                sizes = self._client.fetch(chunk, [SIZE, INTERNALDATE])
            # Expunged since it was listed: absent, or NIL when another session expunged it.
            size = {uid: int(data.get(SIZE) or 0) for uid, data in sizes.items() if data.get(INTERNALDATE)}
            for group in _groups([uid for uid in chunk if uid in size], size, self._settings):
                if size[group[0]] > self._settings.spool_bytes:  # a big one is a group of its own
                    yield from self._spooled(group[0], _aware(sizes[group[0]][INTERNALDATE]))
                else:
                    yield from self._whole(group)

    def _whole(self, uids: list[int]) -> Iterator[Fetched]:
        with self._translated("UID FETCH"):
            response = self._client.fetch(uids, [b"BODY.PEEK[]", INTERNALDATE])
        for uid in uids:
            data = response.get(uid, {})
            if data.get(BODY) is None:
                continue  # expunged in the meantime
            ref = MessageRef(self.name, self._uidvalidity, str(uid))
            yield Fetched(ref, bytes(data[BODY]), _aware(data[INTERNALDATE]))

    def _spooled(self, uid: int, arrived: dt.datetime) -> Iterator[Fetched]:
        with spool_file(self._settings.spool_dir) as (path, out):
            offset = 0
            while True:
                with self._translated("UID FETCH (part)"):
                    response = self._client.fetch([uid], [b"BODY.PEEK[]<%d.%d>" % (offset, PIECE)])
                piece = response.get(uid, {}).get(b"BODY[]<%d>" % offset)
                if piece is None:
                    if offset == 0:
                        return  # expunged in the meantime
                    break
                out.write(piece)
                offset += len(piece)
                if len(piece) < PIECE:
                    break
            out.close()
            log.debug("IMAP %s: message %d spooled, %d bytes", self._settings.host, uid, offset)
            yield Fetched(MessageRef(self.name, self._uidvalidity, str(uid)), b"", arrived, spooled=path)

    def mark_processed(self, ref: MessageRef) -> None:
        uid = self._uid(ref)
        keyword, folder = self._settings.processed_keyword, self._settings.processed_folder
        with self._translated("mark processed"):
            if keyword:
                self._client.add_flags([uid], [keyword.encode("ascii")], silent=True)
            if folder:
                self._move(uid, folder)

    def append_sent(self, raw: bytes) -> None:
        with self._translated("APPEND to Sent"):
            self._client.append(self._find_sent(), raw, flags=[b"\\Seen"])

    def answered_in_sent(self) -> frozenset[str]:
        """Staff's mail in Sent (SEARCH leaves out what carries the bot's own header), its header fields alone;
        the inbox is selected again after, as it was."""
        own = FIELDS[-1]
        section = b"BODY.PEEK[HEADER.FIELDS (" + " ".join(FIELDS).encode("ascii") + b")]"
        answered: set[str] = set()
        with self._translated("read Sent"):
            name = self._sent_name()
            if not self._client.folder_exists(name):
                return frozenset()
            self._client.select_folder(name, readonly=True)
            try:
                uids = sorted(self._client.search(["NOT", "HEADER", own, ""]))
                for start in range(0, len(uids), CHUNK * 10):
                    response = self._client.fetch(uids[start : start + CHUNK * 10], [section])
                    for data in response.values():
                        block = next((v for k, v in data.items() if k.startswith(b"BODY[HEADER")), None)
                        if block:
                            answered.update(answered_ids(bytes(block)))
            finally:
                self._client.select_folder(self._settings.folder, readonly=not self._settings.marks)
        return frozenset(answered)

    def wait_for_mail(self, timeout: float, stop: Stop) -> bool:
        if not self._idles:
            with self._translated("NOOP"):
                return wait_with_noop(self._client, timeout, stop)
        with self._translated("IDLE"):
            return self._arrived_since_listing() or wait_in_idle(self._client, timeout, stop, self._settings.idle_renew)

    def close(self) -> None:
        if self._client is None:
            return
        try:
            self._client.logout()
        except (IMAPClientError, OSError) as exc:
            log.debug("IMAP %s: logout failed (%s), connection dropped", self.name, exc)
            self._drop()
        self._client = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _start(self, context: ssl.SSLContext | None) -> int:
        settings, client = self._settings, self._client
        with self._translated("log in"):
            if settings.security == "starttls":
                client.starttls(context)
            client.login(settings.username, settings.password)
            client.normalise_times = False  # keep INTERNALDATE aware, as the server sent it
            if client.has_capability("ID"):
                # NetEase and other Coremail servers refuse SELECT ("Unsafe Login") until the client names itself.
                client.id_({"name": "subbot", "version": _version()})
        try:
            selected = client.select_folder(settings.folder, readonly=not settings.marks)
        except IMAPClientAbortError as exc:
            raise MailboxUnavailable(self.name, f"SELECT: {exc}") from exc
        except IMAPClientError as exc:
            raise MailboxConfigError(self.name, f"cannot select folder {settings.folder!r}: {exc}") from exc
        except OSError as exc:
            raise MailboxUnavailable(self.name, f"SELECT: {exc}") from exc
        self._check_keyword(selected.get(b"PERMANENTFLAGS", ()))
        return int(selected[b"UIDVALIDITY"])

    def _check_keyword(self, permanent: Sequence[bytes]) -> None:
        keyword = self._settings.processed_keyword
        if keyword and b"\\*" not in permanent and keyword.encode("ascii") not in permanent:
            raise MailboxConfigError(self.name, f"the server does not keep the keyword {keyword!r} on messages")

    def _arrived_since_listing(self) -> bool:
        # Mail that came after the last listing was announced in answers already read, never again in IDLE.
        last = self._last_uid
        if last is None:
            return False
        # "n:*" always includes the highest UID, even one below n (RFC 3501 6.4.8): hence the filter.
        return any(uid > last for uid in self._search(["UID", f"{last + 1}:*"]))

    def _search(self, criteria: str | list[str]) -> list[int]:
        # A long-lived session sees new mail only once the server syncs it: Dovecot answers SEARCH first and
        # announces the new message after it. NOOP syncs, so the search sees every message delivered so far.
        self._client.noop()
        return list(self._client.search(criteria))

    def _uid(self, ref: MessageRef) -> int:
        if ref.mailbox != self.name or ref.uidvalidity != self._uidvalidity:
            raise ValueError(f"{ref} is not a message of {self.name} at UIDVALIDITY {self._uidvalidity}")
        return int(ref.uid)

    def _move(self, uid: int, folder: str) -> None:
        self._ensure(folder)
        if self._client.has_capability("MOVE"):
            self._client.move([uid], folder)
        elif self._client.has_capability("UIDPLUS"):
            self._client.copy([uid], folder)
            self._client.add_flags([uid], [b"\\Deleted"], silent=True)
            self._client.uid_expunge([uid])  # this message only: never what staff marked \Deleted
        else:
            raise MailboxConfigError(self.name, "the server has neither MOVE nor UIDPLUS: use processed_keyword")

    def _find_sent(self) -> str:
        name = self._sent_name()
        self._ensure(name)
        return name

    def _sent_name(self) -> str:
        # A configured name wins; then the server's \Sent (SPECIAL-USE, else imapclient's common names).
        if self._sent is None:
            self._sent = str(self._settings.sent_folder or self._client.find_special_folder(SENT) or DEFAULT_SENT)
        return self._sent

    def _ensure(self, folder: str) -> None:
        if folder in self._ensured:
            return
        if not self._client.folder_exists(folder):
            self._client.create_folder(folder)
            with suppress(IMAPClientError):  # a folder nobody subscribes to is still usable
                self._client.subscribe_folder(folder)
            log.info("IMAP %s: created folder %r", self._settings.host, folder)
        self._ensured.add(folder)

    def _translated(self, doing: str) -> AbstractContextManager[None]:
        return _translated(self.name, doing)

    def _drop(self) -> None:
        with suppress(IMAPClientError, OSError):
            self._client.shutdown()


def connect_with_retry(
    settings: ImapSettings,
    attempts: int,
    sleep: Callable[[float], None] = time.sleep,
    first_wait: float = 2.0,
    longest_wait: float = 60.0,
) -> ImapMailbox:
    """Open the mailbox, waiting 2, 4, 8... seconds between attempts while it is unavailable.

    A loop of a few lines rather than a retry library: one place uses it and the tests inject `sleep`."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(1, attempts + 1):
        try:
            return ImapMailbox(settings)
        except MailboxUnavailable as exc:
            if attempt == attempts:
                raise
            wait = min(first_wait * 2 ** (attempt - 1), longest_wait)
            log.warning("IMAP attempt %d of %d failed (%s); next in %g s", attempt, attempts, exc.reason, wait)
            sleep(wait)
    raise AssertionError("unreachable")


def _groups(uids: list[int], sizes: dict[int, int], settings: ImapSettings) -> Iterator[list[int]]:
    """`uids` in order, in runs of small messages of at most FETCH_BUDGET bytes together; a message over
    `spool_bytes` in a run of its own."""
    group: list[int] = []
    total = 0
    for uid in uids:
        size = sizes[uid]
        if group and (size > settings.spool_bytes or total + size > FETCH_BUDGET):
            yield group
            group, total = [], 0
        group.append(uid)
        total += size
        if size > settings.spool_bytes:
            yield group
            group, total = [], 0
    if group:
        yield group


def _check_keyword_name(settings: ImapSettings) -> None:
    keyword = settings.processed_keyword
    # An IMAP keyword is an atom (RFC 3501 9): printable ASCII without ( ) { space % * " \ ] (so no \Seen)
    if keyword is not None and (not keyword or any(c in ATOM_SPECIALS or not " " < c < "\x7f" for c in keyword)):
        raise MailboxConfigError(settings.name, f"processed_keyword {keyword!r} is not an IMAP keyword")


def _tls_context(settings: ImapSettings) -> ssl.SSLContext | None:
    if settings.security == "plain":
        return None
    try:
        return ssl.create_default_context(cafile=settings.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise MailboxConfigError(settings.name, f"cannot read ca_file {settings.ca_file!r}: {exc}") from exc


@contextmanager
def _translated(mailbox: str, doing: str) -> Iterator[None]:
    """Library and socket errors in, the port's exceptions out."""
    try:
        yield
    except ssl.SSLCertVerificationError as exc:
        raise MailboxConfigError(mailbox, f"{doing}: server certificate not trusted ({exc.verify_message})") from exc
    except CapabilityError as exc:
        raise MailboxConfigError(mailbox, f"{doing}: {exc}") from exc
    except (IMAPClientError, OSError) as exc:
        raise MailboxUnavailable(mailbox, f"{doing}: {str(exc) or type(exc).__name__}") from exc


def _aware(value: dt.datetime) -> dt.datetime:
    offset = value.utcoffset()
    if offset is None:  # normalise_times is off, so only a broken server sends a date with no zone
        return value.replace(tzinfo=dt.UTC)
    return value.replace(tzinfo=dt.timezone(offset))


def _version() -> str:
    try:
        return version("subbot")
    except PackageNotFoundError:
        return "dev"
