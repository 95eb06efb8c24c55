"""Where intake's time goes: one poll of N .docx plan mails run in this process under cProfile, and the
cumulative time of each stage per message (stages overlap: the whole includes its parts)."""

from __future__ import annotations

import cProfile
import datetime as dt
import pstats
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.process import subbot_env
from bench.servers import Servers
from bench.workload import DOCX_ONLY, Workload
from bot.app import build_app, open_mailbox, open_mailer
from bot.intake.take.poll import poll_once
from bot.outgoing.outbox import flush_outbox
from config import Context, load_campaign, load_roster
from config.settings import load_settings

# (what, file the function is in, function name)
STAGES = [
    ("poll, all of it", "bot/poll.py", "poll_once"),
    ("IMAP fetch (BODY.PEEK[] by chunks of UIDs)", "bot/mailbox/imap.py", "fetch"),
    ("raw mail written and fsynced", "bot/rawstore.py", "put"),
    ("parse_message", "parsers/message.py", "parse_message"),
    ("forms read and checked, in the sandbox's worker", "bot/worker.py", "run_limited"),
    ("  fork() of a new worker (after 200 files or a failure)", "~", "<built-in method posix.fork>"),
    ("  job sent to the worker", "bot/worker.py", "_send"),
    ("  waiting for the worker's answer", "bot/worker.py", "_receive"),
    ("ledger: decision recorded", "bot/ledger/ledger.py", "record_decision"),
    ("reply composed and queued", "bot/intake.py", "_queue_reply"),
    ("commits (SQLite, synchronous=FULL)", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("outbox flushed (SMTP, copy in Sent)", "bot/outbox.py", "flush_outbox"),
    ("  SMTP", "bot/mailer.py", "send"),
    ("  APPEND to Sent", "bot/mailbox/imap.py", "append_sent"),
]


@dataclass(frozen=True)
class Stage:
    what: str
    ms_per_message: float


def profile_intake(servers: Servers, workload: Workload, count: int) -> tuple[float, list[Stage]]:
    user = servers.new_user()
    servers.dovecot.append_many(user, workload.mails(count, DOCX_ONLY))
    servers.reset_smtp()
    with tempfile.TemporaryDirectory(prefix="subbot-bench-profile-") as tmp:
        settings = load_settings(servers.settings(Path(tmp), user), subbot_env())
        app = build_app(settings, Context(load_campaign(), load_roster()))

        def now() -> dt.datetime:
            return dt.datetime.now(dt.UTC)

        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.enable()
        with open_mailbox(settings) as mailbox:
            poll_once(mailbox, app.engine, app.store, app.services, now, reply_backlog=True)
            flush_outbox(app.engine, open_mailer(settings), settings.bot.from_address, now, mailbox.append_sent)
        profiler.disable()
        wall = time.perf_counter() - start
        app.engine.dispose()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    stages = []
    for what, filename, name in STAGES:
        total = sum(
            cumulative
            for (file, _, function), (_, _, _, cumulative, _) in stats.items()
            if function == name and (file == filename or file.endswith("/" + filename))
        )
        stages.append(Stage(what, total * 1000 / count))
    return wall * 1000 / count, stages
