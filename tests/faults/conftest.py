"""Fixtures of the fault suite: the fork server, an SMTP server slow to say 250, and the mailbox's mails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faults_world import HANDOFF_PAUSE, Delivery, ForkServer, mailbox, slow_smtp
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
