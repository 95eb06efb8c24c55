"""The flag that ends `subbot run`, safe to set from a signal handler and able to wake a wait in poll().

Not a threading.Event: its set() takes a lock, and a handler that runs while the main thread holds that
lock inside wait() never gets it. Here set() only writes a byte to a pipe, which also makes a wait that
polls a socket together with `fileno()` end at once: an idle bot need not wake every second to look."""

from __future__ import annotations

import os
import select
from contextlib import suppress
from types import TracebackType
from typing import Self


class Stop:
    def __init__(self) -> None:
        self._set = False
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)

    def set(self) -> None:
        self._set = True
        with suppress(BlockingIOError):  # the pipe is full, so readable already
            os.write(self._write, b"\0")

    def is_set(self) -> bool:
        return self._set

    def fileno(self) -> int:
        """Readable once set (and from then on)."""
        return self._read

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds, less if set meanwhile; True if set."""
        if not self._set:
            poller = select.poll()
            poller.register(self._read, select.POLLIN)
            poller.poll(max(timeout, 0.0) * 1000)
        return self._set

    def close(self) -> None:
        if self._read >= 0:
            os.close(self._read)
            os.close(self._write)
            self._read = self._write = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
