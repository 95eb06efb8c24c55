"""A warm LibreOffice: one soffice kept running per bot process, started on the first legacy file and used
for the next ones (a .doc in a tenth of a second instead of two), killed and started again when it hangs.

Where it lives. `converter()` makes an `Office` in the bot's process: a private folder (0700, in TMPDIR)
and nothing running. The Office is a small picklable value, handed with each file to the sandbox's worker
(bot/worker.py), and the converting happens there: the first legacy file starts the server,
bot/forms/convert/server.py run by LibreOffice's Python (which has `uno`), which starts soffice. The server is
started in a session of its own, so it outlives the worker that started it (a worker is replaced every
200 files and after any exhaustion) and is neither killed with it nor held to its limits; it sets its
own (`memory` of address space, `cpu_seconds`) before it starts soffice, which inherits them. What the
workers know of it is in the folder: `socket` (the server's), `server.pid` (pid and start time, so a
stale file never names another process), `lock` (held by a client for its whole exchange, and by the
server to leave on its own), `profile/`, and each file while it is converted.

Each call has one deadline, `seconds`, for its turn, starting the server and converting. A file that
keeps LibreOffice past it fails (`ConversionFailed`) and the server's process group is killed; the next
file starts a new one. A file that crashes soffice fails (the server answers so). A server found gone
(it retired after `max_conversions` files, idled out, was killed) or whose soffice had stopped before the
request is started again and the file sent to the new one; the file fails if that one goes too. Where the server cannot start (no `uno` in LibreOffice's Python, a profile that
will not load), the file is converted cold (bot/forms/convert/cold.py), and the warm server is not tried again
for `RETRY_SECONDS`. The bot's process shuts the server down at exit; a bot killed outright leaves a
server that sees its owner gone (pidfd) and quits."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.forms.convert.cold import TIMEOUT_SECONDS, ConversionFailed, convert_to_docx

log = logging.getLogger(__name__)

SERVER = Path(__file__).with_name("server.py")
MEMORY = 2 << 30  # address space for the server and for soffice (each); soffice maps about 0.8 GB warm
CPU_SECONDS = 1800  # CPU seconds over a server's life, a backstop: each conversion has its deadline
START_SECONDS = 30.0  # soffice answers in 1–3 s, a new profile included
IDLE_SECONDS = 600.0  # a server unused this long leaves (its 150 MB with it); the next file starts one
MAX_CONVERSIONS = 100  # files one server converts before it is replaced: what a file leaves behind goes too
RETRY_SECONDS = 600.0  # after the warm server failed to start, files are converted cold this long
_STRIP = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH", "VIRTUAL_ENV")  # ours, not its


class OfficeDown(Exception):
    """The warm server could not be started (the file is converted cold)."""


class _NoServer(Exception):
    """No server listens in the folder (none started yet, or it left)."""


@dataclass(frozen=True)
class Office:
    """The Converter of a warm LibreOffice: `office(data, kind)` is the .docx, or ConversionFailed."""

    soffice: str
    python: str  # LibreOffice's Python, which runs server.py
    folder: Path
    owner: int  # the bot's process: the server quits when it does
    seconds: float = TIMEOUT_SECONDS
    idle_seconds: float = IDLE_SECONDS
    max_conversions: int = MAX_CONVERSIONS
    memory: int = MEMORY
    cpu_seconds: int = CPU_SECONDS

    @classmethod
    def open(cls, soffice: str, python: str, seconds: float = TIMEOUT_SECONDS) -> Office:
        """An Office with its private folder, shut down when this process exits; nothing runs yet."""
        office = cls(soffice, python, Path(tempfile.mkdtemp(prefix="subbot-office-")), os.getpid(), seconds)
        atexit.register(office.close)
        return office

    def __call__(self, data: bytes, kind: str) -> bytes:
        name = f"input.{kind}"
        deadline = time.monotonic() + self.seconds
        if self.folder.is_dir():  # once closed, files are converted cold
            with self._turn(name, deadline):
                if not self._gone_cold():
                    try:
                        return self._convert(data, kind, name, deadline)
                    except OfficeDown as exc:
                        self._go_cold(str(exc))
        return convert_to_docx(data, kind, self.soffice, timeout=max(1.0, deadline - time.monotonic()))

    def server_pid(self) -> int | None:
        """The running server's pid (its process group's too), or None."""
        server = _Server.read(self._file("server.pid"))
        return server.pid if server and server.running() else None

    def close(self) -> None:
        """Shut the server down and remove the folder (at exit, in the process that opened the Office)."""
        if os.getpid() != self.owner:
            return
        server = _Server.read(self._file("server.pid"))
        if server and server.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(server.pid, signal.SIGTERM)  # it asks soffice to quit, which removes soffice's pipes
            server.wait_group(15.0)
        self._kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _file(self, name: str) -> Path:
        return self.folder / name

    @contextlib.contextmanager
    def _turn(self, name: str, deadline: float) -> Iterator[None]:
        """One conversion at a time per server, across the workers and threads that share the folder."""
        fd = os.open(self._file("lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise ConversionFailed(name, "LibreOffice was busy with other files") from None
                    time.sleep(0.02)
            yield
        finally:
            os.close(fd)

    def _convert(self, data: bytes, kind: str, name: str, deadline: float) -> bytes:
        with contextlib.suppress(_NoServer):
            converted = self._ask(data, kind, name, deadline)
            if converted is not None:
                return converted
        self._start(deadline)
        try:
            converted = self._ask(data, kind, name, deadline)
        except _NoServer as exc:
            raise OfficeDown("the server went as soon as it was up") from exc
        if converted is None:
            raise ConversionFailed(name, "LibreOffice stopped while converting, twice")
        return converted

    def _ask(self, data: bytes, kind: str, name: str, deadline: float) -> bytes | None:
        """The .docx from the running server; None when the file must go to a new one: the server went
        without a reply, or soffice had stopped before the request (a file that crashes soffice is answered)."""
        token = secrets.token_hex(8)
        source, target = self._file(f"{token}.{kind}"), self._file(f"{token}.docx")
        try:
            with self._connection(deadline) as connection:
                source.write_bytes(data)
                request = {"source": str(source), "target": str(target)}
                connection.sendall(json.dumps(request).encode() + b"\n")
                reply = _read_reply(connection, deadline)
                if reply is None or reply.get("retry"):
                    self._kill()  # the server went (killed from outside, say) or soffice had: not the file's doing
                    return None
                if not reply.get("ok"):
                    raise ConversionFailed(name, f"LibreOffice could not convert it: {reply.get('reason')}")
                if not target.is_file():
                    raise ConversionFailed(name, "LibreOffice wrote no .docx")
                return target.read_bytes()
        except TimeoutError:
            log.warning("LibreOffice took over %g s on %s: its server is killed", self.seconds, name)
            self._kill()
            raise ConversionFailed(name, f"LibreOffice took over {self.seconds:g}s") from None
        finally:
            source.unlink(missing_ok=True)
            target.unlink(missing_ok=True)

    def _connection(self, deadline: float) -> socket.socket:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            connection.connect(str(self._file("socket")))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            connection.close()
            raise _NoServer(str(exc)) from exc
        except BaseException:
            connection.close()
            raise
        return connection

    def _start(self, deadline: float) -> None:
        """Start a server and wait until its socket is there, or raise OfficeDown."""
        self._kill()  # what is left of the last one, so two never share the profile
        started = time.monotonic()
        ready_by = min(deadline, started + START_SECONDS)
        pid = self._spawn(ready_by - started)
        server = _Server(pid, _started_at(pid) or 0)
        server.write(self._file("server.pid"))
        while not self._file("socket").exists():
            if not server.running():
                raise OfficeDown(f"the server exited: {self._log_tail()}")
            if time.monotonic() >= ready_by:
                self._kill()
                raise OfficeDown(f"the server was not up in {ready_by - started:.0f}s: {self._log_tail()}")
            time.sleep(0.02)
        log.debug("LibreOffice server %d up in %.1f s", pid, time.monotonic() - started)

    def _spawn(self, start_seconds: float) -> int:
        config = {
            "folder": str(self.folder),
            "soffice": self.soffice,
            "pipe": self._pipe(),
            "profile": self._profile(),
            "owner": self.owner,
            "memory": self.memory,
            "cpu_seconds": self.cpu_seconds,
            "start_seconds": start_seconds,
            "idle_seconds": self.idle_seconds,
            "max_conversions": self.max_conversions,
        }
        environment = {key: value for key, value in os.environ.items() if key not in _STRIP}
        output = os.open(self._file("server.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            actions = [
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, output, 1),
                (os.POSIX_SPAWN_DUP2, output, 2),
            ]
            command = [self.python, str(SERVER), json.dumps(config)]
            return os.posix_spawn(self.python, command, environment, file_actions=actions, setsid=True)
        finally:
            os.close(output)

    def _pipe(self) -> str:
        return self.folder.name

    def _profile(self) -> str:
        return self._file("profile").as_uri()

    def pipes(self) -> list[Path]:
        """The Unix sockets soffice makes in /tmp (and removes when it quits, not when it is killed): the UNO
        pipe we name, and its single-instance pipe, named by LibreOffice after the MD5 of the UTF-16 profile
        URL written in hex without leading zeros."""
        digest = hashlib.md5(self._profile().encode("utf-16-le"), usedforsecurity=False).digest()
        single = "SingleOfficeIPC_" + "".join(f"{byte:x}" for byte in digest)
        return [Path(f"/tmp/OSL_PIPE_{os.getuid()}_{name}") for name in (self._pipe(), single)]

    def _kill(self) -> None:
        """Kill the server's process group, if it is still ours, and clear what it leaves behind."""
        server = _Server.read(self._file("server.pid"))
        if server and server.ours():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait_group(5.0)
        for path in [self._file("socket"), self._file("socket.new"), self._file("server.pid"), *self.pipes()]:
            path.unlink(missing_ok=True)

    def _gone_cold(self) -> bool:
        with contextlib.suppress(FileNotFoundError):
            return time.time() - self._file("cold").stat().st_mtime < RETRY_SECONDS
        return False

    def _go_cold(self, reason: str) -> None:
        log.warning("LibreOffice server could not start (%s): converting cold for %g s", reason, RETRY_SECONDS)
        self._file("cold").write_text(reason, encoding="utf-8")

    def _log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self._file("server.log").read_text(encoding="utf-8", errors="replace")[-500:].strip()
        return ""


@dataclass(frozen=True)
class _Server:
    """The server's process (leader of its own group), named by pid and start time."""

    pid: int
    started: int  # clock ticks after boot (/proc/PID/stat)

    @classmethod
    def read(cls, path: Path) -> _Server | None:
        try:
            pid, started = path.read_text(encoding="ascii").split()
            return cls(int(pid), int(started))
        except (OSError, ValueError):
            return None

    def write(self, path: Path) -> None:
        path.write_text(f"{self.pid} {self.started}\n", encoding="ascii")

    def running(self) -> bool:
        """The server itself still runs (not a zombie, not a later process given its pid)."""
        stat = _stat(self.pid)
        if stat is None or int(stat[19]) != self.started:
            return False
        if stat[0] == "Z":
            _reap(self.pid)
            return False
        return True

    def ours(self) -> bool:
        """Its group is still ours to kill: the server runs, or it is gone and its group lives on (a pid
        that is some group's id is never given to a new process)."""
        return self.running() or (_stat(self.pid) is None and bool(_members(self.pid)))

    def wait_group(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (self.running() or _members(self.pid)) and time.monotonic() < deadline:
            time.sleep(0.02)


def _read_reply(connection: socket.socket, deadline: float) -> dict[str, Any] | None:
    """The server's reply line; None when it closed the connection without one; TimeoutError at the deadline."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        connection.settimeout(left)
        try:
            chunk = connection.recv(4096)
        except ConnectionResetError:
            return None
        if not chunk:
            return None
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            reply: dict[str, Any] = json.loads(b"".join(chunks))
            return reply


def _reap(pid: int) -> None:
    """Collect the server's exit where this process started it (else it stays a zombie until we exit)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (state first), or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def _started_at(pid: int) -> int | None:
    stat = _stat(pid)
    return int(stat[19]) if stat else None


def _members(group: int) -> list[int]:
    """The live (not zombie) processes of a process group."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat and stat[0] != "Z" and int(stat[2]) == group:
                members.append(int(entry))
    return members


def office_python(soffice: str) -> str | None:
    """LibreOffice's Python: the one a LibreOffice build ships beside soffice, else the system's (Debian's
    python3-uno puts `uno` there). Whether it has `uno` is found when the server first starts."""
    program = Path(os.path.realpath(soffice)).parent
    for candidate in (program / "python", Path("/usr/bin/python3")):
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None
