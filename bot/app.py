"""Wiring: settings in, the objects a command needs out. The only place that knows every part."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Engine

from bot.forms.convert import converter
from bot.forms.layout import form_layout
from bot.intake.services import Services
from bot.ledger.database import lock_engine, migrate, open_engine
from bot.mailbox.imap import ImapSettings, connect_with_retry
from bot.mailbox.maildir import MaildirMailbox
from bot.mailbox.port import Mailbox
from bot.outgoing.mailer import Mailer, OutboxDir, SmtpMailer, SmtpSettings
from bot.outgoing.outbox import FlushReport, flush_outbox
from bot.outgoing.queue import Letterhead
from bot.store.content import MEDIA, RAW, ContentStore
from bot.store.lock import AdvisoryLock, FileLock, Lock
from config import Campaign, Context, Roster
from config.settings import Settings
from parsers.form_writer import write_form
from replies.render import Renderer


@dataclass(frozen=True)
class App:
    settings: Settings
    ctx: Context
    engine: Engine
    store: ContentStore  # raw messages
    services: Services
    lock_engine: Engine | None = None  # a PostgreSQL ledger: what the advisory locks connect with

    @property
    def campaign(self) -> Campaign:
        return self.ctx.campaign

    @property
    def roster(self) -> Roster:
        return self.ctx.roster

    @property
    def lock_path(self) -> Path:
        return self.settings.bot.data_dir / "subbot.lock"

    @property
    def poll_lock(self) -> Lock:
        """Held while polling: one instance at a time takes in this mailbox's mail. With a SQLite ledger, the
        lock file in the data folder (one lock for everything, on this machine); with PostgreSQL, a database
        lock per mailbox, which instances on every machine sharing the ledger see."""
        if self.lock_engine is None:
            return FileLock(self.lock_path)
        return AdvisoryLock(self.lock_engine, f"poll:{mailbox_name(self.settings)}")

    @property
    def jobs_lock(self) -> Lock:
        """Held around a daily job (digest, reminders) and its sending: the jobs are idempotent per day, and
        one at a time across instances each sees what the other queued."""
        if self.lock_engine is None:
            return FileLock(self.lock_path)
        return AdvisoryLock(self.lock_engine, "jobs")

    def with_roster(self, roster: Roster) -> App:
        """The same app, judging mail against another roster (reloaded while `subbot run` runs)."""
        ctx = Context(self.ctx.campaign, roster)
        return replace(self, ctx=ctx, services=replace(self.services, ctx=ctx))

    def flush_outbox(
        self, now: Callable[[], dt.datetime], keep_copy: Callable[[bytes], None] | None = None
    ) -> FlushReport:
        """Send every reply due now through the configured mailer (keeping copies in Sent with `keep_copy`)."""
        return flush_outbox(self.engine, open_mailer(self.settings), self.settings.bot.from_address, now, keep_copy)


def build_app(settings: Settings, ctx: Context) -> App:
    data_dir = settings.bot.data_dir
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    url = settings.database()
    engine = open_engine(url)
    migrate(engine)
    _private(data_dir)
    store = ContentStore(data_dir, RAW)
    return App(settings, ctx, engine, store, build_services(settings, ctx), lock_engine(url))


def _private(data_dir: Path) -> None:
    """The data folder and the ledger's files readable by the bot's user only: they hold personal data."""
    data_dir.chmod(0o700)
    for ledger_file in data_dir.glob("ledger.sqlite3*"):
        ledger_file.chmod(0o600)


def build_services(settings: Settings, ctx: Context) -> Services:
    """What reading and answering a message needs; no database, no mailbox (so `inspect` touches neither)."""
    return Services(
        ctx=ctx,
        convert=converter(),
        letterhead=Letterhead(Renderer(settings.bot.templates_dir), settings.bot.from_name, settings.bot.from_address),
        own_addresses=settings.own(),
        authserv_ids=frozenset(settings.mailbox.authserv_ids),
        reply_cap=settings.bot.reply_cap_per_day,
        blank_form=write_form(form_layout(ctx.campaign)),
        media=ContentStore(settings.bot.data_dir, MEDIA),
        spills=settings.bot.data_dir / "spool",
        raw=ContentStore(settings.bot.data_dir, RAW),
        staff_addresses=frozenset(settings.staff.addresses),
        staff_checks=tuple(settings.staff.authenticated_by),
    )


def mailbox_name(settings: Settings) -> str:
    """The configured mailbox's name, as its adapter names it in the ledger's refs."""
    box = settings.mailbox
    return f"maildir:{box.path.absolute()}" if box.type == "maildir" else _imap_settings(settings).name


def open_mailbox(settings: Settings, attempts: int = 5) -> Mailbox:
    """The configured mailbox, open; an IMAP server that is unavailable is tried `attempts` times."""
    box = settings.mailbox
    if box.type == "maildir":
        return MaildirMailbox(
            box.path,
            processed_flag=box.processed_flag,
            processed_folder=box.processed_folder,
            sent_path=box.sent_path,
            spool_dir=settings.bot.data_dir / "spool",
        )
    return connect_with_retry(_imap_settings(settings), attempts)


def _imap_settings(settings: Settings) -> ImapSettings:
    box = settings.mailbox
    return ImapSettings(
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
        spool_dir=str(settings.bot.data_dir / "spool"),
    )


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
