"""`subbot poll`, `run`, `retry` and `inspect`: the mailbox side."""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App, open_mailbox, open_mailer
from bot.decide import check_attachments, decide
from bot.intake import Intake, Services, take_in
from bot.jobs import daily_jobs
from bot.ledger import owed
from bot.ledger.schema import MessageRow
from bot.lock import Busy
from bot.mailbox.port import Fetched, Mailbox, MailboxConfigError, MailboxError, MessageRef
from bot.outbox import flush_outbox
from bot.poll import PollReport, poll_once, record_failure, storage_failure
from bot.rules import Context
from bot.runner import Runner
from bot.scheduler import start_scheduler
from bot.spool import Spool, read_file
from bot.stop import Stop

log = logging.getLogger(__name__)
REPLY_NAMES = {"ack": "回执", "correction": "修改通知", "suppressed": "不回复（启用前的旧邮件）"}


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
            flushed = flush_outbox(
                app.engine, open_mailer(app.settings), app.settings.bot.from_address, now, mailbox.append_sent
            )
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
    replies = "，".join(f"{REPLY_NAMES.get(k, k)}{v}封" for k, v in sorted(report.replies.items())) or "无回复"
    backlog = "；首次运行，已有邮件只登记不回复（可用 --reply-backlog 改变）" if report.backlog else ""
    return (
        f"{head}邮箱共{report.seen}封，新邮件{report.new}封：处理{report.processed}封，"
        f"重复{report.duplicates}封，失败{report.failed}封；{replies}{backlog}"
    )


def run(app: App, now: Callable[[], dt.datetime], reply_backlog: bool) -> int:
    """Poll at start and whenever mail arrives, at least every `poll_minutes`, until SIGTERM or SIGINT;
    a poll in progress finishes first."""
    minutes = app.settings.bot.poll_minutes
    rounds = _Rounds(app, now, reply_backlog or app.settings.bot.reply_backlog)
    with Stop() as stop:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        print(f"subbot 已启动：有新邮件即处理，至少每{minutes:g}分钟检查一次邮箱", flush=True)
        # Reminders and the digest on their hours; one missed while the bot was down runs once now.
        scheduler = start_scheduler(app.engine, app.campaign.zone, daily_jobs(app, now))
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

    def poll(self, mailbox: Mailbox) -> None:
        report = _poll_with(mailbox, self.app, self.now, False, self.reply_backlog)
        log.info(_summary(report, False))
        # What was there at the first poll is recorded now: whatever arrives while running is new mail.
        self.reply_backlog = True


def retry(app: App, message: str, now: Callable[[], dt.datetime]) -> int:
    # Under the poll lock, waiting for a poll in progress: its outbox flush and this one would otherwise both
    # find the same replies pending and send each twice.
    with app.poll_lock.hold(wait=True):
        return _retry(app, message, now)


def _retry(app: App, message: str, now: Callable[[], dt.datetime]) -> int:
    with Session(app.engine) as session:
        row = _find(session, message)
        if row is None:
            print(f"账本中没有邮件 {message}", file=sys.stderr)
            return 1
        if row.status != "failed":
            state = {"processed": "已处理", "duplicate": "是重复邮件"}.get(row.status, row.status)
            print(f"邮件 {message} {state}，无需重试", file=sys.stderr)
            return 1
        ref = row.refs[0] if row.refs else None
        fetched = Fetched(  # read from the stored copy as a file: a big one is never held whole
            MessageRef(ref.mailbox, ref.uidvalidity, ref.uid) if ref else MessageRef("retry", 0, row.sha256),
            b"",
            row.arrived_at.replace(tzinfo=dt.UTC),
            spooled=app.store.path(row.raw_path),
        )
        stored = (row.sha256, row.raw_path)
    try:
        with Session(app.engine) as session:
            existing = session.get(MessageRow, row.id)
            intake: Intake = take_in(session, fetched, stored, app.services, now(), False, existing)
            if ref is not None:  # set aside unmarked when it failed: marked processed by the next poll
                owed.owe_mark(session, fetched.ref, now())
            session.commit()
    except Exception:  # noqa: BLE001 - the same catch-all as the poll: record again, do not crash
        record_failure(app.engine, fetched, stored, traceback.format_exc(), now())
        print(f"邮件 {message} 重试仍失败，原因已记入账本", file=sys.stderr)
        return 1
    flush_outbox(app.engine, open_mailer(app.settings), app.settings.bot.from_address, now)
    print(f"邮件 {message} 已重新处理：{intake.status}，回复：{REPLY_NAMES.get(intake.reply, '无')}")
    return 0


def _find(session: Session, key: str) -> MessageRow | None:
    if key.isdigit():
        return session.get(MessageRow, int(key))
    return (
        session.execute(select(MessageRow).where((MessageRow.receipt == key) | (MessageRow.sha256.startswith(key))))
        .scalars()
        .first()
    )


def inspect(ctx: Context, app_services: Services, files: list[Path], as_json: bool, now: dt.datetime) -> int:
    """What the bot reads in raw messages and would do, touching neither ledger nor mailbox."""
    for path in files:
        with Spool() as spool:  # as a big mail is polled, photos and videos to files, here in the temp folder
            mail = read_file(path, app_services.own_addresses, app_services.authserv_ids, spool)
            documents = check_attachments(mail, ctx, app_services.convert)
            decision = decide(mail, documents, ctx, mail.date or now, 0, app_services.reply_cap)
        # By the attachment itself, not its name: two attachments may share one name.
        verdicts = {id(check.attachment): check.result.verdict for check in documents}
        report = {
            "file": str(path),
            "from": {"name": mail.sender.name, "address": mail.sender.address},
            "subject": mail.subject,
            "kind": mail.kind,
            "kind_reason": mail.kind_reason,
            "branch": decision.branch.name if decision.branch else None,
            "deliverable": decision.deliverable,
            "attachments": [
                {"name": a.name, "type": a.kind, "size": a.size, "origin": a.origin, "verdict": verdicts.get(id(a))}
                for a in mail.attachments
            ],
            "reply": decision.reply,
            "findings": [
                {
                    "document": f.document,
                    "severity": f.finding.severity,
                    "code": f.finding.code,
                    "message": f.finding.message,
                }
                for f in decision.findings
            ],
        }
        print(json.dumps(report, ensure_ascii=False) if as_json else _describe(report))
    return 0


def _describe(report: dict[str, Any]) -> str:
    lines = [
        f"{report['file']}",
        f"  发件人：{report['from']['name']} <{report['from']['address']}>（{report['branch'] or '名单外'}）",
        f"  主题：{report['subject']}",
        f"  类型：{report['kind']}（{report['kind_reason'] or '正常来信'}）",
    ]
    for a in report["attachments"]:
        lines.append(f"  附件：{a['name']}（{a['type']}，{a['size']}字节）{a['verdict'] or ''}")
    lines.append(f"  将回复：{report['reply']}")
    lines += [f"  {'✗' if f['severity'] == 'error' else '!'} {f['message']}" for f in report["findings"]]
    return "\n".join(lines)
