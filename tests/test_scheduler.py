"""The daily jobs kept in the ledger's database: a run missed while the bot was down fires once on
start, however many were missed; a job not yet due does not fire."""

from __future__ import annotations

import datetime as dt
import pickle
import threading
import time
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from sqlalchemy import Engine, MetaData, Table, select, update

from bot.jobs.scheduler import TABLE, DailyJob, start_scheduler
from bot.ledger.database import migrate, open_engine, sqlite_url

BEIJING = dt.timezone(dt.timedelta(hours=8))


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.fired = threading.Event()

    def __call__(self) -> None:
        self.count += 1
        self.fired.set()


def engine_at(path: Path) -> Engine:
    engine = open_engine(sqlite_url(path / "ledger.sqlite3"))
    migrate(engine)
    return engine


def later_today() -> dt.time:
    """A time of day that is hours away, so the job is not due during the test."""
    return (dt.datetime.now(BEIJING) + dt.timedelta(hours=6)).time().replace(second=0, microsecond=0)


def set_next_run(engine: Engine, name: str, when: dt.datetime) -> None:
    """Edit the stored job the way time passing while the bot is down would (the job store's own format)."""
    jobs = Table(TABLE, MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        state = pickle.loads(connection.execute(select(jobs.c.job_state).where(jobs.c.id == name)).scalar_one())
        state["next_run_time"] = when
        connection.execute(
            update(jobs).where(jobs.c.id == name).values(job_state=pickle.dumps(state), next_run_time=when.timestamp())
        )


def wait_idle(scheduler: BackgroundScheduler) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(j.next_run_time is None for j in scheduler.get_jobs()):
        time.sleep(0.05)


def test_missed_runs_fire_once_on_start_then_wait_for_their_time(tmp_path: Path) -> None:
    engine = engine_at(tmp_path)
    first = Counter()
    scheduler = start_scheduler(engine, BEIJING, [DailyJob("digest", later_today(), first)])
    scheduler.shutdown(wait=True)
    # The bot is down, with the job stored; three days' runs go by.
    set_next_run(engine, "digest", dt.datetime.now(BEIJING) - dt.timedelta(days=3))
    assert first.count == 0

    again = Counter()
    restarted = start_scheduler(engine, BEIJING, [DailyJob("digest", later_today(), again)])
    try:
        assert again.fired.wait(10)
        time.sleep(0.5)  # room for a wrongly repeated firing to show
        assert again.count == 1
        wait_idle(restarted)
        job = restarted.get_job("digest")
        assert job.next_run_time > dt.datetime.now(BEIJING)
    finally:
        restarted.shutdown(wait=True)


def test_a_job_not_yet_due_does_not_fire_and_survives_a_restart(tmp_path: Path) -> None:
    engine = engine_at(tmp_path)
    counter = Counter()
    at = later_today()
    scheduler = start_scheduler(engine, BEIJING, [DailyJob("reminders", at, counter)])
    planned = scheduler.get_job("reminders").next_run_time
    scheduler.shutdown(wait=True)
    restarted = start_scheduler(engine, BEIJING, [DailyJob("reminders", at, counter)])
    try:
        assert not counter.fired.wait(0.5)
        assert restarted.get_job("reminders").next_run_time == planned
        assert (planned.hour, planned.minute) == (at.hour, at.minute)
    finally:
        restarted.shutdown(wait=True)
