"""The IMAP server fails under a running bot (`subbot run` over the ~50 mails, marking each with a keyword):
Dovecot stopped mid-poll and started again, the connection reset in the middle of the FETCH, the server
hanging without a word. Each time the bot reconnects with backoff and resumes: the ledger ends as an
uninterrupted run leaves it, every message is marked, every reply due is sent once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fault_results import Result, record
from faults_world import (
    Delivery,
    ForkServer,
    Ledger,
    Reference,
    Running,
    done,
    eventually,
    keyworded,
    new_mailbox,
    reply_ids,
)
from servers.dovecot import Dovecot
from servers.smtp import SmtpServer
from tcpproxy import Proxy

# The bot's IMAP timeout here: how long it waits on a server that says nothing.
TIMEOUT = 2


@pytest.fixture
def start_run(forks: ForkServer) -> Iterator[Callable[[Path], Running]]:
    bots: list[Running] = []

    def start(settings: Path) -> Running:
        bots.append(Running(forks, settings, "--reply-backlog"))
        return bots[-1]

    yield start
    for bot in bots:
        bot.kill()


@pytest.fixture
def proxy(dovecot: Dovecot) -> Iterator[Proxy]:
    between = Proxy(dovecot.port)
    yield between
    between.close()


def mid_poll(data: Path, at_least: int = 10) -> Callable[[], bool]:
    return lambda: len(Ledger.read(data).messages) >= at_least


def failures(bot: Running) -> int:
    """Times the bot found the mailbox unavailable (its log, in English: "mailbox: ...; trying again in")."""
    return bot.log().count("trying again in")


def finish(bot: Running, settings: Path, user: str, dovecot: Dovecot, smtp: SmtpServer, reference: Reference) -> float:
    """Waits for the bot to catch up, stops it, and checks that nothing was skipped or sent twice;
    returns how long catching up took."""
    data = settings.parent / "data"
    took = eventually(lambda: done(data, reference, smtp), "catching up", bot.log)
    eventually(lambda: keyworded(dovecot, user) == (len(reference.outcome),) * 2, "every message marked", bot.log)
    assert bot.stop() == 0, bot.log()[-4000:]
    assert Ledger.read(data).outcome() == reference.outcome
    assert Counter(reply_ids(smtp)) == Counter(reference.replies)  # each reply due, once
    assert "Traceback" not in bot.log()  # a lost server is a warning and a reconnect, not a crash
    return took


def test_dovecot_stopped_mid_poll_and_started_again(
    tmp_path: Path,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    mails: list[Delivery],
    reference: Reference,
    start_run: Callable[[Path], Running],
) -> None:
    settings, user = new_mailbox(tmp_path, dovecot, smtp_server, mails, timeout=TIMEOUT)
    bot = start_run(settings)
    eventually(mid_poll(settings.parent / "data"), "the first messages taken in", bot.log)
    dovecot.stop()
    eventually(lambda: failures(bot) >= 1, "the bot finding Dovecot gone", bot.log)
    dovecot.start()
    took = finish(bot, settings, user, dovecot, smtp_server, reference)
    record(
        Result(
            suite="faults",
            order=3,
            fault="IMAP server stopped mid-poll, then started",
            tried=f"Dovecot stopped once {len(mails)} mails were being taken in by `subbot run`, started again",
            times=1,
            lost=0,
            duplicated=0,
            recovery=f"{took:.1f} s from Dovecot's start to caught up",
            outcome=(
                f"{failures(bot)} failed attempt(s), then reconnected with backoff; the message in hand when the "
                "server went was marked at the next poll; nothing skipped, each reply once"
            ),
        )
    )


def test_connection_reset_in_the_middle_of_the_fetch(
    tmp_path: Path,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    mails: list[Delivery],
    reference: Reference,
    proxy: Proxy,
    start_run: Callable[[Path], Running],
) -> None:
    # Reset once the server has sent 40% of the mailbox's bytes: inside the answer to UID FETCH.
    proxy.cut_after(int(0.4 * sum(len(d.raw) for d in mails)))
    settings, user = new_mailbox(tmp_path, dovecot, smtp_server, mails, port=proxy.port, timeout=TIMEOUT)
    bot = start_run(settings)
    eventually(lambda: proxy.resets == 1, "the reset", bot.log)
    took = finish(bot, settings, user, dovecot, smtp_server, reference)
    record(
        Result(
            suite="faults",
            order=4,
            fault="IMAP connection reset mid-FETCH",
            tried="a proxy between the bot and Dovecot sends an RST 40% of the way through the FETCH of every mail",
            times=proxy.resets,
            lost=0,
            duplicated=0,
            recovery=f"{took:.1f} s from the reset to caught up",
            outcome=(
                f"{failures(bot)} failed attempt(s), then reconnected with backoff; the whole fetch tried again; "
                "nothing skipped, each reply once"
            ),
        )
    )


def test_server_hangs_without_answering(
    tmp_path: Path,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    mails: list[Delivery],
    reference: Reference,
    proxy: Proxy,
    start_run: Callable[[Path], Running],
) -> None:
    settings, user = new_mailbox(tmp_path, dovecot, smtp_server, mails, port=proxy.port, timeout=TIMEOUT)
    bot = start_run(settings)
    eventually(mid_poll(settings.parent / "data"), "the first messages taken in", bot.log)
    proxy.hang()
    # It times out on the hung session, then on a new one that gets no greeting: two failures.
    eventually(lambda: failures(bot) >= 2, "the bot giving up on the silent server twice", bot.log)
    proxy.resume()
    took = finish(bot, settings, user, dovecot, smtp_server, reference)
    record(
        Result(
            suite="faults",
            order=5,
            fault="IMAP server hangs without answering",
            tried=f"a proxy stops passing anything on, mid-poll, with the bot's IMAP timeout at {TIMEOUT} s",
            times=1,
            lost=0,
            duplicated=0,
            recovery=f"{took:.1f} s from the server answering again to caught up",
            outcome=(
                f"each silent session given up after the timeout ({failures(bot)} tries, backoff between); "
                "nothing skipped, each reply once"
            ),
        )
    )
