"""`subbot digest` and `subbot export`: the staff's daily digest (previewed, or sent now) and the 汇总表 alone."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from bot.app import App
from bot.jobs.digest.mail import current_digest, queue_digest
from bot.jobs.digest.rollup import rollup_name, write_rollup
from bot.jobs.digest.view import render_digest
from bot.store.lock import Busy


def preview(app: App, now: Callable[[], dt.datetime], out: Path) -> int:
    """Render the digest as it would be sent now, into an HTML file, sending nothing."""
    with Session(app.engine) as session:
        digest = current_digest(session, app.ctx, now())
    rendered = render_digest(digest, app.services.letterhead.renderer, rollup_name(digest))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(rendered.html, encoding="utf-8")
    print(f"每日摘要已写入 {out}（未发送）")
    print(f"  主题：{rendered.subject}")
    return 0


def send(app: App, now: Callable[[], dt.datetime]) -> int:
    """Queue today's digest for every staff address that has not had it today, and send what is due."""
    staff = app.settings.digest.to
    if not staff:
        print("设置文件的 [digest] 部分没有收件人（to），无法发送每日摘要", file=sys.stderr)
        return 3
    try:
        with app.jobs_lock.hold(wait=True):
            with Session(app.engine) as session, session.begin():
                report = queue_digest(session, app.ctx, app.services.letterhead, staff, now())
            flushed = app.flush_outbox(now)
    except Busy as exc:
        print(exc, file=sys.stderr)
        return 4
    already = f"，{report.already}位今天已发过" if report.already else ""
    print(
        f"{report.day.year}年{report.day.month}月{report.day.day}日每日摘要：新排队{report.queued}封{already}；"
        f"发件箱本次发出{flushed.sent}封，待重试{flushed.deferred}封，被拒收{flushed.failed}封"
    )
    return 0


def export(app: App, now: Callable[[], dt.datetime], out: Path) -> int:
    """Write the 汇总表 workbook alone."""
    with Session(app.engine) as session:
        digest = current_digest(session, app.ctx, now())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(write_rollup(digest, app.campaign))
    known = sum(b.known for b in digest.branches)
    print(f"汇总表已写入 {out}：已受理活动{len(digest.activities)}项，名单内单位{known}家")
    return 0
