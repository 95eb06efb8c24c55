"""Wiring: settings in, the objects a command needs out. The only place that knows every part."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from bot.convert import converter
from bot.intake import Services
from bot.layout import form_layout
from bot.ledger.database import migrate, open_engine
from bot.mailbox.imap import ImapSettings, connect_with_retry
from bot.mailbox.maildir import MaildirMailbox
from bot.mailbox.port import Mailbox
from bot.mailer import Mailer, OutboxDir, SmtpMailer, SmtpSettings
from bot.mediastore import MediaStore
from bot.rawstore import RawStore
from bot.rules import Context
from config import Campaign, Roster
from config.settings import Settings
from parsers.form_writer import write_form
from replies.render import Renderer


@dataclass(frozen=True)
class App:
    settings: Settings
    ctx: Context
    engine: Engine
    store: RawStore
    services: Services

    @property
    def campaign(self) -> Campaign:
        return self.ctx.campaign

    @property
    def roster(self) -> Roster:
        return self.ctx.roster

    @property
    def lock_path(self) -> Path:
        return self.settings.bot.data_dir / "subbot.lock"


def build_app(settings: Settings, ctx: Context) -> App:
    data_dir = settings.bot.data_dir
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = open_engine(settings.database())
    migrate(engine)
    return App(settings, ctx, engine, RawStore(data_dir), build_services(settings, ctx))


def build_services(settings: Settings, ctx: Context) -> Services:
    """What reading and answering a message needs; no database, no mailbox (so `inspect` touches neither)."""
    return Services(
        ctx=ctx,
        convert=converter(),
        renderer=Renderer(settings.bot.templates_dir),
        from_name=settings.bot.from_name,
        from_address=settings.bot.from_address,
        own_addresses=settings.own(),
        authserv_ids=frozenset(settings.mailbox.authserv_ids),
        reply_cap=settings.bot.reply_cap_per_day,
        blank_form=write_form(form_layout(ctx.campaign)),
        media=MediaStore(settings.bot.data_dir),
    )


def open_mailbox(settings: Settings, attempts: int = 5) -> Mailbox:
    """The configured mailbox, open; an IMAP server that is unavailable is tried `attempts` times."""
    box = settings.mailbox
    if box.type == "maildir":
        return MaildirMailbox(
            box.path,
            processed_flag=box.processed_flag,
            processed_folder=box.processed_folder,
            sent_path=box.sent_path,
        )
    imap = ImapSettings(
        host=box.host,
        port=box.port,
        username=box.username,
        password=settings.imap_password,
        folder=box.folder,
        security=box.security,
        ca_file=str(box.ca_file) if box.ca_file else None,
        timeout=box.timeout,
        processed_keyword=box.processed_keyword,
        processed_folder=box.processed_folder,
        sent_folder=box.sent_folder,
        idle=box.idle,
    )
    return connect_with_retry(imap, attempts)


def open_mailer(settings: Settings) -> Mailer:
    smtp = settings.smtp
    if smtp.type == "outbox":
        return OutboxDir(smtp.outbox_dir)
    return SmtpMailer(
        SmtpSettings(
            host=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=settings.smtp_password,
            security=smtp.security,
            ca_file=str(smtp.ca_file) if smtp.ca_file else None,
            timeout=smtp.timeout,
            from_address=settings.bot.from_address,
        )
    )


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
