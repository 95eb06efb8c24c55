"""The daily jobs on a clock: APScheduler with its jobs kept in the ledger's database, so a digest or a
reminder round missed while the bot was down runs once when it comes back (coalesced: never a pile).
The jobs themselves are idempotent per day (see bot/jobs.py): a second firing queues nothing."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore  # type: ignore[import-untyped]
from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from sqlalchemy import Engine

log = logging.getLogger(__name__)
TABLE = "apscheduler_jobs"

# Persisted jobs name their function by import path; the running process says what each name does.
_ACTIONS: dict[str, Callable[[], None]] = {}


@dataclass(frozen=True)
class DailyJob:
    name: str
    at: dt.time
    action: Callable[[], None]


def fire(name: str) -> None:
    """What the scheduler calls: the action registered under `name`, failures logged, never raised."""
    action = _ACTIONS.get(name)
    if action is None:
        log.error("scheduled job %r has no action in this process", name)
        return
    try:
        action()
    except Exception:  # a failed job is logged; the ledger shows what was not sent; tomorrow it runs again
        log.exception("scheduled job %r failed", name)


def start_scheduler(
    engine: Engine, zone: dt.tzinfo, jobs: Mapping[str, DailyJob] | list[DailyJob]
) -> BackgroundScheduler:
    """Start the jobs at their local times; replace their stored schedule, keep their stored next run time
    when it is already due (that is a missed run, which then fires once)."""
    daily = list(jobs.values()) if isinstance(jobs, Mapping) else list(jobs)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=TABLE)},
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        timezone=zone,
    )
    scheduler.start(paused=True)
    for job in daily:
        _ACTIONS[job.name] = job.action
        trigger = CronTrigger(hour=job.at.hour, minute=job.at.minute, timezone=zone)
        stored = scheduler.get_job(job.name)
        missed = stored.next_run_time if stored is not None and stored.next_run_time is not None else None
        scheduler.add_job(fire, trigger, args=[job.name], id=job.name, name=job.name, replace_existing=True)
        if missed is not None and missed <= dt.datetime.now(dt.UTC):
            log.info("scheduled job %s was due at %s while the bot was down: running it once", job.name, missed)
            scheduler.modify_job(job.name, next_run_time=missed)
    scheduler.resume()
    return scheduler
