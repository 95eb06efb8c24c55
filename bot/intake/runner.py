"""`subbot run`'s loop: one mailbox session kept open, a poll at start and whenever mail may have arrived
(at the latest every `interval` seconds), the poll lock (a file, or a database lock) held only while
polling, reconnecting with backoff when the session drops, and stopping between polls once `stop` is set."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.mailbox.port import Mailbox, MailboxConfigError, MailboxError
from bot.mailbox.stop import Stop
from bot.store.lock import Busy, FileLock, Lock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait after the n-th failure in a row: 2, 4, 8... up to `longest`."""

    first: float = 2.0
    longest: float = 60.0

    def after(self, failures: int) -> float:
        return min(self.first * 2.0 ** (failures - 1), self.longest)


@dataclass(frozen=True)
class Runner:
    connect: Callable[[], Mailbox]  # one attempt; raises MailboxError
    poll: Callable[[Mailbox], None]
    lock: Lock | Path  # a Path is a lock file (FileLock)
    interval: float  # seconds between polls when no mail is seen arriving
    stop: Stop
    backoff: Backoff = Backoff()

    def run(self) -> None:
        box: Mailbox | None = None
        failures = 0
        try:
            while not self.stop.is_set():
                if failures and self.stop.wait(self.backoff.after(failures)):
                    break
                try:
                    if box is None:
                        box = self.connect()
                    if not self._poll_locked(box):
                        break
                    failures = 0
                    box.wait_for_mail(self.interval, self.stop)
                except MailboxError as exc:
                    failures += 1
                    level = logging.ERROR if isinstance(exc, MailboxConfigError) else logging.WARNING
                    log.log(level, "mailbox: %s; trying again in %g s", exc.reason, self.backoff.after(failures))
                    _close(box)
                    box = None
                except Exception:  # a failed poll, not a message (take_one sets those aside): tried next round
                    log.exception("poll failed; trying again in %g s", self.interval)
                    _close(box)  # its session may be half-way through a command
                    box = None
                    self.stop.wait(self.interval)
        finally:
            _close(box)

    def _poll_locked(self, box: Mailbox) -> bool:
        """Poll under the lock, waiting while another process polls; False if stopped before getting it."""
        told = False
        lock = FileLock(self.lock) if isinstance(self.lock, Path) else self.lock
        while not self.stop.is_set():
            try:
                with lock.hold():
                    self.poll(box)
                    return True
            except Busy:
                if not told:
                    log.info("another subbot process is polling; waiting for it")
                    told = True
                self.stop.wait(1.0)
        return False


def _close(box: Mailbox | None) -> None:
    if box is not None:
        box.close()
