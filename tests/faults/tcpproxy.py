"""A TCP proxy between the bot and a real server that misbehaves on request: it resets a connection once a
given number of bytes have come from the server (a connection reset in the middle of a FETCH), or hangs
(keeps every connection open, new ones too, and passes nothing on: a server that stops answering)."""

from __future__ import annotations

import select
import socket
import struct
import threading
from contextlib import suppress

from servers.net import HOST


class Proxy:
    def __init__(self, target_port: int) -> None:
        self.target = (HOST, target_port)
        self._listener = socket.create_server((HOST, 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._hanging = threading.Event()
        self._cut_after: int | None = None
        self.resets = 0
        self.connections = 0
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def cut_after(self, server_bytes: int) -> None:
        """Reset the next connection that receives more than `server_bytes` from the server (once)."""
        with self._lock:
            self._cut_after = server_bytes

    def hang(self) -> None:
        self._hanging.set()

    def resume(self) -> None:
        self._hanging.clear()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._accepting.join()
        for thread in self._threads:
            thread.join()

    def _accept(self) -> None:
        self._listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._relay, args=(client,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _relay(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            _reset(client)
            return
        from_server = 0
        try:
            while not self._stop.is_set():
                if self._hanging.is_set():
                    self._stop.wait(0.05)
                    continue
                readable, _, _ = select.select([client, server], [], [], 0.05)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    if source is server:
                        from_server += len(data)
                        if self._cut_now(from_server):
                            _reset(client)
                            return
                    (server if source is client else client).sendall(data)
        except OSError:
            return
        finally:
            with suppress(OSError):
                client.close()
            with suppress(OSError):
                server.close()

    def _cut_now(self, from_server: int) -> bool:
        with self._lock:
            if self._cut_after is None or from_server <= self._cut_after:
                return False
            self._cut_after = None
            self.resets += 1
            return True


def _reset(connection: socket.socket) -> None:
    """Close with an RST, not a FIN: SO_LINGER on, timeout 0."""
    with suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
