"""Fixtures of the fault suite: the fork server, an SMTP server slow to say 250, and the mailbox's mails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faults_world import (
    HANDOFF_PAUSE,
    Delivery,
    ForkServer,
    Ledger,
    Reference,
    Stopwatch,
    log_text,
    mailbox,
    new_mailbox,
    reply_ids,
    slow_smtp,
    subbot,
)
from servers.dovecot import Dovecot
from servers.smtp import SmtpServer


@pytest.fixture(scope="session")
def forks() -> Iterator[ForkServer]:
    server = ForkServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def _slow_smtp() -> Iterator[SmtpServer]:
    server = slow_smtp(HANDOFF_PAUSE)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def slow_smtp_server(_slow_smtp: SmtpServer) -> SmtpServer:
    """Plain SMTP that takes each message, then waits HANDOFF_PAUSE before its 250: nothing received yet."""
    _slow_smtp.reset()
    return _slow_smtp


@pytest.fixture(scope="session")
def mails() -> list[Delivery]:
    """The ~50 mails of the campaign's inbox, built once (each Message-ID is made afresh per build)."""
    return mailbox()


@pytest.fixture(scope="session")
def reference(
    tmp_path_factory: pytest.TempPathFactory, forks: ForkServer, dovecot_server: Dovecot, mails: list[Delivery]
) -> Reference:
    """The mail polled once, uninterrupted, by a bot of its own: what every faulted run must end with."""
    dovecot_server.start()
    smtp = SmtpServer("plain")
    smtp.start()
    try:
        settings, _ = new_mailbox(tmp_path_factory.mktemp("reference"), dovecot_server, smtp, mails)
        clock = Stopwatch()
        log = settings.parent / "subbot.log"
        assert forks.run(subbot(settings, "poll", "--reply-backlog"), log) == 0, log_text(log)
        took = clock.seconds()
        ledger = Ledger.read(settings.parent / "data")
        assert [r["status"] for r in ledger.replies if r["status"] != "sent"] == []
        assert len(ledger.replies) == len(reply_ids(smtp)) >= 30
        return Reference(ledger.outcome(), frozenset(reply_ids(smtp)), took)
    finally:
        smtp.stop()
