"""One poll of a mailbox (or one round of daily jobs) at a time: a lock file in the data folder while the
ledger is a SQLite file on this machine, a PostgreSQL advisory lock when instances share a PostgreSQL ledger."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError


class Busy(Exception):
    """Another subbot process holds the lock."""

    def __init__(self, where: Path | str) -> None:
        self.where = where
        held = f"锁文件 {where}" if isinstance(where, Path) else f"数据库锁 {where}"
        super().__init__(f"另一个 subbot 进程正在处理邮箱（{held}）")


class Lock(Protocol):
    def hold(self, wait: bool = False) -> AbstractContextManager[None]:
        """Held for the `with` block; raises Busy at once if another process holds it, unless `wait`."""
        ...


@dataclass(frozen=True)
class FileLock:
    path: Path

    def hold(self, wait: bool = False) -> AbstractContextManager[None]:
        return exclusive(self.path, wait)


@contextmanager
def exclusive(path: Path, wait: bool = False) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise Busy(path) from exc
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True)
class AdvisoryLock:
    """A session-level advisory lock on a connection of its own, closed at the end. PostgreSQL drops a
    session's advisory locks with the session, so an instance killed mid-poll (its socket closed by the
    kernel, or found dead by TCP keepalive) leaves the lock to the next instance, never held forever.
    `engine` should not pool (see `bot.ledger.database.lock_engine`): closing must end the session."""

    engine: Engine
    name: str

    @property
    def key(self) -> int:
        # Advisory locks are named by one bigint: the first 8 bytes of the name's SHA-256.
        return int.from_bytes(hashlib.sha256(f"subbot:{self.name}".encode()).digest()[:8], "big", signed=True)

    @contextmanager
    def hold(self, wait: bool = False) -> Iterator[None]:
        with self.engine.connect() as connection:
            if wait:
                connection.execute(select(func.pg_advisory_lock(self.key)))
            elif not connection.execute(select(func.pg_try_advisory_lock(self.key))).scalar_one():
                raise Busy(self.name)
            # The lock belongs to the session, not to this transaction: end it, so the connection does not
            # sit "idle in transaction" for the whole poll.
            connection.commit()
            try:
                yield
            finally:
                # Closing the connection releases the lock too; unlocking first also covers a pooled engine.
                # A connection already gone took its lock with it: nothing left to release.
                with suppress(DBAPIError):
                    connection.execute(select(func.pg_advisory_unlock(self.key)))
                    connection.commit()
