"""`subbot remind`: queue today's reminders and send them (or, with --dry-run, only say who is due)."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot import wording
from bot.app import App
from bot.jobs.remind import queue_reminders, reminders_now
from bot.store.lock import Busy

REASONS = {"missing": "未报送", "correction": "待修改"}


def remind(app: App, now: Callable[[], dt.datetime], dry_run: bool) -> int:
    moment = now()
    if dry_run:
        with Session(app.engine) as session:
            due = reminders_now(session, app.ctx, moment)
        print(f"试运行（不发送）：今天应提醒 {len(due)} 个单位")
        for reminder in due:
            name = wording.deliverable_in_letter(reminder.deliverable)
            print(f"  {reminder.branch}：{name}{REASONS[reminder.reason]}，距截止 {reminder.days_left} 天")
        return 0
    try:
        with app.jobs_lock.hold():
            with Session(app.engine) as session, session.begin():
                report = queue_reminders(session, app.ctx, app.services.letterhead, moment)
            flushed = app.flush_outbox(now)
    except Busy as exc:
        print(exc, file=sys.stderr)
        return 4
    print(f"提醒：新排队 {report.queued} 封；发件箱本次发出 {flushed.sent} 封，待重试 {flushed.deferred} 封")
    if report.skipped_no_address:
        print(f"另有 {report.skipped_no_address} 个单位在名单中没有邮箱地址，无法提醒", file=sys.stderr)
    return 0
