"""Sending replies: over SMTP with verified TLS, or into a folder of .eml files for the demo.

A refusal of this message (5xx to MAIL, RCPT or DATA) is permanent; everything else (4xx, the server
down or slow, a failed login or an untrusted certificate) is temporary, so no reply is given up on
because of something a person can fix on the server side."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

log = logging.getLogger(__name__)
_LINE_END = re.compile(rb"\r\n|\r|\n")
# Messages one connection carries before it is renewed: servers limit a session (QQ Mail and 163 to a few
# dozen), and a fresh one costs only a TLS handshake and a login.
PER_CONNECTION = 20


class SendError(Exception):
    """`code` is the SMTP reply code when the server gave one; `reason` says what happened."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason, code)
        self.reason = reason
        self.code = code

    def __str__(self) -> str:
        return f"{self.code} {self.reason}" if self.code is not None else self.reason


class SendTemporary(SendError):
    """Try again later."""


class SendPermanent(SendError):
    """The server refused this message (5xx): sending it again will not help."""


class Mailer(Protocol):
    def send(self, raw: bytes, from_addr: str, to_addrs: Sequence[str]) -> None: ...

    def session(self) -> AbstractContextManager[None]:
        """Within it, sends may share one connection; outside, each send is a connection of its own."""
        ...


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    security: Literal["ssl", "starttls", "plain"] = "ssl"
    ca_file: str | None = None
    timeout: float = 60.0
    from_address: str = ""


class SmtpMailer:
    """Sends over SMTP. Within `session()` one connection (TLS and login once) carries up to
    `PER_CONNECTION` messages: a NOOP checks it before each reuse, and any temporary failure drops it, so a
    message is never sent again on a connection that broke under it (which could deliver it twice)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._open = False
        self._smtp: smtplib.SMTP | None = None
        self._carried = 0

    def send(self, raw: bytes, from_addr: str, to_addrs: Sequence[str]) -> None:
        if not self._open:
            send(self.settings, raw, from_addr, to_addrs)
            return
        try:
            with _translated(self.settings):
                smtp = self._connection()
                self._carried += 1
                _transact(smtp, self.settings, raw, from_addr, to_addrs)
        except SendTemporary:
            self._drop()
            raise

    @contextmanager
    def session(self) -> Iterator[None]:
        self._open = True
        try:
            yield
        finally:
            self._open = False
            self._drop()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None and self._carried < PER_CONNECTION and _alive(self._smtp):
            return self._smtp
        self._drop()
        self._smtp = _logged_in(self.settings)
        self._carried = 0
        return self._smtp

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def send(settings: SmtpSettings, raw: bytes, from_addr: str, to_addrs: Sequence[str]) -> None:
    """Hand `raw` to the SMTP server for `to_addrs` on a connection of its own; the envelope sender is
    `from_addr` or the settings'."""
    with _translated(settings), _logged_in(settings) as smtp:
        _transact(smtp, settings, raw, from_addr, to_addrs)


def _logged_in(settings: SmtpSettings) -> smtplib.SMTP:
    smtp = _connect(settings, _tls_context(settings))
    try:
        if settings.username:
            smtp.login(settings.username, settings.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _transact(smtp: smtplib.SMTP, settings: SmtpSettings, raw: bytes, from_addr: str, to_addrs: Sequence[str]) -> None:
    refused = smtp.sendmail(from_addr or settings.from_address, list(to_addrs), crlf(raw))
    if refused:
        # Delivered to the others; the bot writes to one address, so this is only logged.
        log.warning("SMTP %s: %d recipient(s) refused", settings.host, len(refused))


def _alive(smtp: smtplib.SMTP) -> bool:
    try:
        return smtp.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


@contextmanager
def _translated(settings: SmtpSettings) -> Iterator[None]:
    """smtplib's and the socket's errors in, SendTemporary or SendPermanent out."""
    try:
        yield
    except smtplib.SMTPRecipientsRefused as exc:
        codes = {code for code, _ in exc.recipients.values()}
        detail = "; ".join(f"{rcpt}: {code} {_text(message)}" for rcpt, (code, message) in exc.recipients.items())
        error = SendPermanent if all(code >= 500 for code in codes) else SendTemporary
        raise error(f"recipients refused: {detail}", max(codes)) from exc
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        error = SendPermanent if exc.smtp_code >= 500 else SendTemporary
        raise error(_text(exc.smtp_error), exc.smtp_code) from exc
    except smtplib.SMTPResponseException as exc:  # greeting, EHLO, STARTTLS or AUTH answered with an error
        raise SendTemporary(_text(exc.smtp_error), exc.smtp_code) from exc
    except ssl.SSLCertVerificationError as exc:
        raise SendTemporary(f"server certificate not trusted ({exc.verify_message})") from exc
    except (smtplib.SMTPException, OSError) as exc:  # refused, dropped, timed out, no STARTTLS or AUTH
        raise SendTemporary(f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class OutboxDir:
    """Writes each message as a .eml file into `folder` instead of sending it: the demo's mailer."""

    folder: Path

    def send(self, raw: bytes, from_addr: str, to_addrs: Sequence[str]) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{hashlib.sha256(raw).hexdigest()[:12]}.eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            # Written aside, then renamed: a reader of the folder never sees half a message.
            partial = self.folder / f".{name}.part"
            partial.write_bytes(raw)
            os.replace(partial, self.folder / name)
        except OSError as exc:
            raise SendTemporary(f"cannot write to {self.folder}: {exc}") from exc
        log.info("outbox: %s written", name)

    def session(self) -> AbstractContextManager[None]:
        return nullcontext()


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext | None:
    if settings.security == "plain":
        return None
    try:
        return ssl.create_default_context(cafile=settings.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise SendTemporary(f"cannot read ca_file {settings.ca_file!r}: {exc}") from exc


def _connect(settings: SmtpSettings, context: ssl.SSLContext | None) -> smtplib.SMTP:
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.security == "starttls":
        try:
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
    return smtp


def crlf(raw: bytes) -> bytes:
    """Every line ended by CRLF. smtplib sends bytes as they are, and servers refuse bare LF (RFC 5321
    2.3.8, and since "SMTP smuggling" many do); a lone dot after a bare LF would also escape dot-stuffing."""
    return _LINE_END.sub(b"\r\n", raw)


def _text(message: bytes | str) -> str:
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else message
