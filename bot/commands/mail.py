"""`subbot poll` and `subbot run`: the mailbox, taken in once or kept at."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import Progress

from bot import wording
from bot.app import App, open_mailbox
from bot.intake.poll import PollReport, poll_once
from bot.intake.runner import Runner
from bot.intake.take import storage_failure
from bot.jobs.daily import daily_jobs
from bot.jobs.scheduler import start_scheduler
from bot.mailbox.port import Mailbox, MailboxConfigError, MailboxError
from bot.mailbox.stop import Stop
from bot.store.lock import Busy
from config import ConfigError
from config.roster import RosterSource

log = logging.getLogger(__name__)


def poll(app: App, now: Callable[[], dt.datetime], dry_run: bool, reply_backlog: bool) -> int:
    try:
        with app.poll_lock.hold():
            report = _poll(app, now, dry_run, reply_backlog or app.settings.bot.reply_backlog)
    except Busy as exc:
        print(exc, file=sys.stderr)
        return 4
    except MailboxConfigError as exc:
        print(f"邮箱设置有误，需要人工处理：{exc.reason}", file=sys.stderr)
        return 3
    except MailboxError as exc:
        print(f"暂时无法连接邮箱（稍后再试）：{exc.reason}", file=sys.stderr)
        return 5
    except Exception as exc:
        if not storage_failure(exc):
            raise
        log.error("storage failed", exc_info=True)
        print(f"数据目录或账本无法写入（磁盘已满、只读或被锁定？），本次未处理任何邮件：{exc}", file=sys.stderr)
        return 6
    print(_summary(report, dry_run))
    return 0


def _poll(app: App, now: Callable[[], dt.datetime], dry_run: bool, reply_backlog: bool) -> PollReport:
    with _mailbox(app) as mailbox:
        return _poll_with(mailbox, app, now, dry_run, reply_backlog)


def _poll_with(
    mailbox: Mailbox, app: App, now: Callable[[], dt.datetime], dry_run: bool, reply_backlog: bool
) -> PollReport:
    with _progress() as progress:
        report = poll_once(
            mailbox,
            app.engine,
            app.store,
            app.services,
            now,
            dry_run=dry_run,
            reply_backlog=reply_backlog,
            progress=progress,
        )
        if not dry_run:
            flushed = app.flush_outbox(now, mailbox.append_sent)
            log.info("outbox: %d sent, %d deferred, %d refused", flushed.sent, flushed.deferred, flushed.failed)
    return report


@contextmanager
def _mailbox(app: App) -> Iterator[Any]:
    mailbox = open_mailbox(app.settings)
    try:
        yield mailbox
    finally:
        mailbox.close()


@contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    if not sys.stderr.isatty():
        yield None
        return
    with Progress(transient=True) as bar:
        task = bar.add_task("处理邮件", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def _summary(report: PollReport, dry_run: bool) -> str:
    head = "试运行（未记录、未发送）：" if dry_run else ""
    replies = "，".join(f"{wording.REPLY_NAMES.get(k, k)}{v}封" for k, v in sorted(report.replies.items())) or "无回复"
    backlog = "；首次运行，已有邮件只登记不回复（可用 --reply-backlog 改变）" if report.backlog else ""
    return (
        f"{head}邮箱共{report.seen}封，新邮件{report.new}封：处理{report.processed}封，"
        f"重复{report.duplicates}封，失败{report.failed}封；{replies}{backlog}"
    )


def run(app: App, now: Callable[[], dt.datetime], reply_backlog: bool, roster: Path | None = None) -> int:
    """Poll at start and whenever mail arrives, at least every `poll_minutes`, until SIGTERM or SIGINT;
    a poll in progress finishes first. The roster file is read again before a poll when it changed."""
    minutes = app.settings.bot.poll_minutes
    rounds = _Rounds(app, now, reply_backlog or app.settings.bot.reply_backlog, RosterSource(roster))
    with Stop() as stop:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        print(f"subbot 已启动：有新邮件即处理，至少每{minutes:g}分钟检查一次邮箱", flush=True)
        # Reminders and the digest on their hours; one missed while the bot was down runs once now.
        scheduler = start_scheduler(app.engine, app.campaign.zone, daily_jobs(lambda: rounds.app, now))
        try:
            Runner(lambda: open_mailbox(app.settings, attempts=1), rounds.poll, app.poll_lock, minutes * 60, stop).run()
        finally:
            scheduler.shutdown(wait=True)
    print("subbot 已停止", flush=True)
    return 0


@dataclass
class _Rounds:
    app: App
    now: Callable[[], dt.datetime]
    reply_backlog: bool
    roster: RosterSource

    def __post_init__(self) -> None:
        self.roster.changed()  # the file as it is now is the one the app was built with
        with suppress(ConfigError):
            self.roster.load()

    def poll(self, mailbox: Mailbox) -> None:
        self._reload_roster()
        report = _poll_with(mailbox, self.app, self.now, False, self.reply_backlog)
        log.info(_summary(report, False))
        # What was there at the first poll is recorded now: whatever arrives while running is new mail.
        self.reply_backlog = True

    def _reload_roster(self) -> None:
        """A roster saved while the bot runs is used from the next poll on; one that cannot be read is reported
        once, and the roster in use is kept."""
        if not self.roster.changed():
            return
        try:
            roster = self.roster.load()
        except ConfigError as exc:
            log.error("the roster file changed but cannot be used; the one in use is kept: %s", exc)
            return
        self.app = self.app.with_roster(roster)
        log.info("roster reloaded: %d branches", len(roster.branches))
