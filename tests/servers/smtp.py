"""An SMTP server for the tests (aiosmtpd, in a thread, on 127.0.0.1): keeps what it receives, and
answers 4xx or 5xx at MAIL, RCPT or DATA when a test asks. Plain, STARTTLS or implicit TLS, the
last two with a login (any user, password 'secret')."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from .net import HOST, free_port, wait_closed
from .tls import Certificate

PASSWORD = "secret"
Stage = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes  # as received: CRLF line ends, dot-stuffing undone
    peer: Any = None  # the client's (address, port): one per connection


class Collector:
    """The aiosmtpd handler: each hook returns its answer as a value."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refusals: dict[Stage, str] = {}

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if "MAIL" in self.refusals:
            return self.refusals["MAIL"]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if "RCPT" in self.refusals:
            return self.refusals["RCPT"]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if "DATA" in self.refusals:
            return self.refusals["DATA"]
        content = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), tuple(envelope.rcpt_tos), content, session.peer))
        return "250 OK: queued"


def _authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


class SmtpServer:
    host = HOST

    def __init__(self, security: Literal["plain", "starttls", "ssl"] = "plain", certificate: Certificate | None = None):
        if security != "plain" and certificate is None:
            raise ValueError("TLS needs a certificate")
        self.security = security
        self.certificate = certificate
        self.port = free_port()
        self.handler = Collector()
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def running(self) -> bool:
        return self._controller is not None

    def refuse(self, stage: Stage, reply: str) -> None:
        """From now on answer `reply` (e.g. "451 4.3.0 try later") at `stage`."""
        self.handler.refusals[stage] = reply

    def reset(self) -> None:
        self.handler.received.clear()
        self.handler.refusals.clear()
        if not self.running:
            self.start()

    def start(self) -> None:
        if self._controller is not None:
            return
        # A fresh controller each time: a stopped one has closed its event loop.
        options: dict[str, Any] = {}
        if self.certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.certificate.cert, self.certificate.key)
            options = {"authenticator": _authenticate, "auth_exclude_mechanism": ["CRAM-MD5"]}
            if self.security == "ssl":
                # aiosmtpd knows TLS only from STARTTLS; this connection is TLS from its first byte.
                options.update(ssl_context=context, auth_require_tls=False)
            else:
                options.update(tls_context=context, require_starttls=True)
        controller = Controller(self.handler, hostname=HOST, port=self.port, **options)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        if self._controller is None:
            return
        controller, self._controller = self._controller, None
        controller.stop()
        wait_closed(self.port)
