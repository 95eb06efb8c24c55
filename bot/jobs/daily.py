"""`subbot run`'s scheduled work: reminders at the campaign's hour, the digest at the settings' hour, each queued
and sent under the poll lock (its outbox flush must not overlap a poll's) and the jobs lock (one instance)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy.orm import Session

from bot.app import App
from bot.jobs.digest.mail import queue_digest
from bot.jobs.remind import queue_reminders
from bot.jobs.scheduler import DailyJob


def daily_jobs(current: Callable[[], App], now: Callable[[], dt.datetime]) -> list[DailyJob]:
    """`current` gives the app as it is when a job runs (its roster may have been reloaded since the start)."""

    def remind() -> None:
        app = current()
        with held(app):
            with Session(app.engine) as session, session.begin():
                queue_reminders(session, app.ctx, app.services.letterhead, now())
            app.flush_outbox(now)

    def digest() -> None:
        app = current()
        with held(app):
            with Session(app.engine) as session, session.begin():
                queue_digest(session, app.ctx, app.services.letterhead, app.settings.digest.to, now())
            app.flush_outbox(now)

    app = current()
    jobs = [DailyJob("reminders", app.campaign.reminders.at, remind)]
    if app.settings.digest.to:
        jobs.append(DailyJob("digest", app.settings.digest.hour, digest))
    return jobs


@contextmanager
def held(app: App) -> Iterator[None]:
    """The poll lock and the jobs lock, waiting for each; with a SQLite ledger they are one lock file."""
    with ExitStack() as stack:
        stack.enter_context(app.poll_lock.hold(wait=True))
        if app.jobs_lock != app.poll_lock:
            stack.enter_context(app.jobs_lock.hold(wait=True))
        yield
