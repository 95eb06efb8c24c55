"""The whole bot against the real servers: a settings file written as staff would write it (IMAP on the
test Dovecot, SMTP on the test aiosmtpd), the App built from it, and what the bot left behind read back:
ledger rows, and the replies aiosmtpd received."""

from __future__ import annotations

import datetime as dt
import email
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servers.dovecot import PASSWORD, Dovecot
from servers.smtp import SmtpServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App, build_app, open_mailbox, open_mailer
from bot.intake.poll import PollReport, poll_once
from bot.ledger.schema import MessageRow, RefRow, ReplyRow
from bot.outgoing.outbox import FlushReport, flush_outbox
from config import Context
from config.settings import load_settings
from parsers.message import Mail, parse_message

BEIJING = dt.timezone(dt.timedelta(hours=8))
# Mail delivered before the plan deadline (2021-05-06, Beijing time); the bot polls after it.
DELIVERED = dt.datetime(2021, 5, 4, 9, 30, tzinfo=BEIJING)
NOW = dt.datetime(2021, 5, 9, 1, 0, tzinfo=dt.UTC)
FROM = "kepu@example.org"
# The address the golden mails were sent to: its own replies coming back are not answered.
OWN = "plans@society.org.cn"
MAILS = Path(__file__).parent / "fixtures" / "mail"


def write_settings(
    folder: Path, dovecot: Dovecot, user: str, smtp: SmtpServer, templates_dir: Path | None = None, **mailbox: str
) -> Path:
    """bot.toml for the test servers; `mailbox` adds keys to [mailbox] (processed_keyword, ...)."""
    extra = "".join(f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in mailbox.items())
    templates = f'templates_dir = "{templates_dir}"\n' if templates_dir else ""
    path = folder / "bot.toml"
    path.write_text(
        f'[bot]\ndata_dir = "{folder / "data"}"\nfrom_address = "{FROM}"\nown_addresses = ["{OWN}"]\n{templates}\n'
        f'[mailbox]\ntype = "imap"\nhost = "{dovecot.host}"\nport = {dovecot.port}\nusername = "{user}"\n'
        f'security = "plain"\ntimeout = 5\n{extra}\n'
        f'[smtp]\ntype = "smtp"\nhost = "{smtp.host}"\nport = {smtp.port}\nusername = ""\nsecurity = "plain"\n'
        "timeout = 5\n",
        encoding="utf-8",
    )
    return path


class Bot:
    """An App, as one `subbot run` process holds it: each poll opens its own mailbox session, as `_poll` does
    (a session kept open sees mail delivered meanwhile only after its next command). `restart()` is a new
    process on the same data dir."""

    def __init__(self, settings_path: Path, ctx: Context) -> None:
        self._path, self._ctx = settings_path, ctx
        self._start()

    def _start(self) -> None:
        self.settings = load_settings(self._path, {"SUBBOT_IMAP_PASSWORD": PASSWORD})
        self.app: App = build_app(self.settings, self._ctx)

    def close(self) -> None:
        self.app.engine.dispose()

    def restart(self) -> None:
        self.close()
        self._start()

    def poll(
        self, now: dt.datetime = NOW, reply_backlog: bool = True, dry_run: bool = False
    ) -> tuple[PollReport, FlushReport]:
        """What `subbot poll` does: take in what is new, then send what is due, keeping copies in Sent."""
        app, clock = self.app, lambda: now
        with open_mailbox(self.settings) as mailbox:
            report = poll_once(
                mailbox, app.engine, app.store, app.services, clock, dry_run=dry_run, reply_backlog=reply_backlog
            )
            if dry_run:
                return report, FlushReport()
            mailer = open_mailer(self.settings)
            return report, flush_outbox(app.engine, mailer, FROM, clock, mailbox.append_sent)

    def rows(self, table: type[Any]) -> list[Any]:
        with Session(self.app.engine) as session:
            return list(session.execute(select(table).order_by(table.id)).scalars())

    def messages(self) -> list[MessageRow]:
        return self.rows(MessageRow)

    def replies(self) -> list[ReplyRow]:
        return self.rows(ReplyRow)

    def refs(self) -> list[RefRow]:
        return self.rows(RefRow)


@dataclass(frozen=True)
class Sent:
    """One reply as aiosmtpd received it: its envelope recipients, and as the project's reader reads it
    (which unfolds headers as mail clients do: a long Message-ID may sit on a continuation line)."""

    rcpt: tuple[str, ...]
    raw: bytes
    mail: Mail

    @property
    def in_reply_to(self) -> str:
        return self.mail.in_reply_to

    def header(self, name: str) -> str:
        return " ".join(str(email.message_from_bytes(self.raw)[name]).split())


def sent(smtp: SmtpServer) -> list[Sent]:
    return [Sent(r.rcpt_tos, r.raw, parse_message(r.raw)) for r in smtp.received]


def golden(name: str) -> tuple[bytes, dict[str, Any]]:
    """A golden mail's bytes and the parse expected of it."""
    path = MAILS / name
    return path.read_bytes(), json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))


def flags_without_recent(flags: dict[int, tuple[bytes, ...]]) -> Iterator[frozenset[bytes]]:
    return (frozenset(f) - {b"\\Recent"} for f in flags.values())
