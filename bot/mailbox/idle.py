"""Waiting for new mail on an open IMAP session (imapclient): IDLE (RFC 2177) when the server offers it,
else NOOP now and then so the server keeps the session. Errors are the library's; the adapter translates.

An idle wait sleeps in poll() on the session's socket and the stop flag's pipe together, so it costs
nothing until the server speaks (new mail, or Dovecot's "still here" every two minutes) or a signal comes."""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Sequence
from typing import Any

from bot.mailbox.stop import Stop

log = logging.getLogger(__name__)

RENEW = 29 * 60.0  # RFC 2177: a server may log out a client idle for 30 minutes, so IDLE is re-issued
NOOP_EVERY = 10 * 60.0  # without IDLE: well inside the 30-minute autologout of RFC 3501 5.4
NEW = (b"EXISTS", b"RECENT")
# POLLRDHUP: the server closed its side. imapclient's idle_check reads that end of stream as "nothing yet".
HANGUP = select.POLLHUP | select.POLLERR | select.POLLNVAL | select.POLLRDHUP


def wait_in_idle(client: Any, timeout: float, stop: Stop, renew: float = RENEW) -> bool:
    """IDLE until the server reports new mail (True), `timeout` passes or `stop` is set (False)."""
    end = time.monotonic() + timeout
    while not stop.is_set() and (left := end - time.monotonic()) > 0:
        client.idle()
        arrived = _watch(client, min(left, renew), stop)
        _, responses = client.idle_done()
        if arrived or reports_new(responses):
            log.debug("IDLE: the server reported new mail")
            return True
    return False


def wait_with_noop(client: Any, timeout: float, stop: Stop, every: float = NOOP_EVERY) -> bool:
    """Sleep until `timeout` passes or `stop` is set, with a NOOP every `every` seconds; True if it saw mail."""
    now = time.monotonic()
    end, next_noop = now + timeout, now + every
    while (now := time.monotonic()) < end:
        if stop.wait(min(end, next_noop) - now):
            return False
        if time.monotonic() >= next_noop:
            _, responses = client.noop()
            if reports_new(responses):
                return True
            next_noop += every
    return False


def reports_new(responses: Sequence[tuple[Any, ...]]) -> bool:
    return any(len(response) > 1 and response[1] in NEW for response in responses)


def _watch(client: Any, seconds: float, stop: Stop) -> bool:
    sock = client.socket().fileno()
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLRDHUP)
    poller.register(stop.fileno(), select.POLLIN)
    end = time.monotonic() + seconds
    while not stop.is_set() and (left := end - time.monotonic()) > 0:
        events = dict(poller.poll(left * 1000))
        if sock not in events:
            continue
        responses = client.idle_check(timeout=0)
        for response in responses:
            if response[0] == b"BYE":
                raise ConnectionAbortedError(f"the server said BYE while idling: {response!r}")
        if reports_new(responses):
            return True
        if not responses and events[sock] & HANGUP:
            raise ConnectionAbortedError("the server closed the connection while idling")
    return False
