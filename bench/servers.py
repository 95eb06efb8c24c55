"""The test suite's real servers (the package tests.servers, imported as one: `python -m bench...` runs from the
repository's root), started for the benchmarks: a private Dovecot and an aiosmtpd that notes
when each message arrived. Each run takes an IMAP user of its own, so mailboxes start empty."""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers.dovecot import PASSWORD, Dovecot
from tests.servers.smtp import Collector, SmtpServer
from tests.servers.tls import make_certificate


class TimedCollector(Collector):
    """Keeps, beside each message, the moment (time.monotonic) it was received."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        self.arrived.append(time.monotonic())
        return answer


@dataclass
class Servers:
    dovecot: Dovecot
    smtp: SmtpServer
    root: Path

    @property
    def collector(self) -> TimedCollector:
        handler = self.smtp.handler
        assert isinstance(handler, TimedCollector)
        return handler

    def new_user(self) -> str:
        return f"b{uuid.uuid4().hex[:12]}@example.org"

    def settings(self, folder: Path, user: str, **bot: object) -> Path:
        """bot.toml for a run: its own data folder, the IMAP user, replies to aiosmtpd."""
        extra = "".join(f"{key} = {_toml(value)}\n" for key, value in bot.items())
        path = folder / "bot.toml"
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f'[bot]\ndata_dir = "{folder / "data"}"\nfrom_address = "kepu@example.org"\n'
            f"reply_cap_per_day = 100000\n{extra}\n"
            f'[mailbox]\ntype = "imap"\nhost = "{self.dovecot.host}"\nport = {self.dovecot.port}\n'
            f'username = "{user}"\nsecurity = "plain"\ntimeout = 30\n\n'
            f'[smtp]\ntype = "smtp"\nhost = "{self.smtp.host}"\nport = {self.smtp.port}\nusername = ""\n'
            'security = "plain"\n',
            encoding="utf-8",
        )
        return path

    def reset_smtp(self) -> None:
        self.smtp.handler.received.clear()
        self.collector.arrived.clear()


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return f'"{value}"'


@contextmanager
def servers() -> Iterator[Servers]:
    root = Path(tempfile.mkdtemp(prefix="subbot-bench-"))
    root.chmod(0o755)
    smtp = SmtpServer("plain")
    smtp.handler = TimedCollector()
    dovecot = Dovecot(root / "dovecot", make_certificate(root, "server"))
    try:
        dovecot.start()
        smtp.start()
        yield Servers(dovecot, smtp, root)
    finally:
        smtp.stop()
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)


__all__ = ["PASSWORD", "Servers", "servers"]
