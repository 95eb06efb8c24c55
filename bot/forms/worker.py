"""The sandbox's process (bot/sandbox.py says what runs in it, and why in a process of its own).

One reader process, the worker, is forked on the first file (so it inherits the loaded modules) and then
fed file after file over two pipes, as length-prefixed pickled frames: forking the whole bot for every file was half of each message's intake. Before each job the
worker sets its soft RLIMIT_AS to what it maps now plus `memory` and its soft RLIMIT_CPU to the CPU
seconds it has used so far plus `cpu_seconds`; the parent waits for the answer until `wall_seconds`,
then kills the worker. Only soft limits move, never above what the worker was given, so LibreOffice,
started from inside the work, can still run (cold, it inherits them and fits; the warm one's server sets
its own, bot/forms/convert/warm.py). Linux only (fork, /proc).

The trade-off: files of different senders are read one after another in one process, so what a file
leaves behind (a library's cache, a grown heap; everything, if a crafted file ever ran code in a reader)
meets the files after it, where a child per file met nothing. What bounds it: the worker is replaced
after any exhaustion, crash or exception, after `MAX_JOBS` files, and once its resident memory has
grown `MAX_GROWTH` past what it had when forked. It holds none of the parent's connections: it points
every descriptor it inherited but its pipes and stdio at /dev/null (the ledger's database file, the IMAP,
SMTP and database sockets), and its garbage collector never walks what it inherited (frozen before the
fork), so no finalizer of an inherited connection runs in it. It runs no thread of the bot: one that
deadlocks on a lock inherited mid-use is killed at the wall-clock limit and replaced. It exits when its
request pipe ends (the parent closed it at exit, or died) and never returns into the parent's code.
One thread at a time talks to the worker; others wait their turn."""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import gc
import io
import math
import os
import pickle
import resource
import select
import signal
import struct
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NoReturn, TypeVar, TypeVarTuple, cast

from bot.forms.convert import TIMEOUT_SECONDS

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
Exhaustion = Literal["memory", "cpu", "time", "crash"]

MAX_JOBS = 200  # files one worker reads before it is replaced
MAX_GROWTH = 256 << 20  # resident bytes a worker may gain over what it had when forked before it is replaced

_HEADER = struct.Struct(">Q")  # a frame: its length, then that many bytes
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    memory: int = 512 << 20  # bytes of address space the work may add to what the worker maps already
    cpu_seconds: int = 30  # a real form takes well under a second; LibreOffice's own time is its own
    wall_seconds: float = TIMEOUT_SECONDS + 30.0  # a stuck worker (a lock inherited mid-use) is killed


class Exhausted(Exception):
    """The worker ran out of memory or time, or died: the work's result is unknown."""

    def __init__(self, reason: Exhaustion, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


class ChildError(Exception):
    """The work raised an exception that cannot be sent back as itself; carries its traceback text."""


def run_limited(function: Callable[[*Ts], T], *args: *Ts, limits: Limits | None = None) -> T:
    """`function(*args)` in the worker under `limits`: its value, or its exception raised here again.
    The function must be importable by name (a module's, not a lambda) and the arguments picklable."""
    return cast(T, _READER.run(function, args, limits or Limits()))


@dataclass
class _Worker:
    pid: int
    requests: int  # the parent's end of the pipe jobs go out on
    replies: int  # the parent's end of the pipe answers come back on
    jobs: int = 0
    status: int | None = None  # once reaped

    def gone(self) -> bool:
        if self.status is None:
            with contextlib.suppress(ChildProcessError):
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self.status = status
        return self.status is not None

    def stop(self, kill: bool) -> int:
        """End the worker: at the end of its request pipe, or at once; its exit status."""
        os.close(self.requests)
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 2.0
        while not self.gone() and time.monotonic() < deadline:
            time.sleep(0.005)
        if not self.gone():  # an idle worker exits at once; one that does not is killed
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                self.status = os.waitpid(self.pid, 0)[1]
        os.close(self.replies)
        return self.status or 0


class Reader:
    """The worker process (started when first needed, replaced when spent) and the turn to use it."""

    def __init__(self, max_jobs: int = MAX_JOBS, max_growth: int = MAX_GROWTH) -> None:
        self.max_jobs = max_jobs
        self.max_growth = max_growth
        self._turn = threading.Lock()
        self._worker: _Worker | None = None
        _READERS.add(self)

    def run(self, function: Callable[..., object], args: tuple[object, ...], limits: Limits) -> object:
        job = _job(function, args, limits)  # pickled here: work that cannot be sent fails in the caller
        with self._turn:
            kind, value = self._exchange(job, limits)
        if kind == "value":
            return value
        if kind == "memory":
            raise Exhausted("memory", f"over {limits.memory >> 20} MiB more: {value}")
        raise cast(BaseException, value)

    def close(self) -> None:
        """Let the worker go (it exits at the end of its request pipe): at exit, and in tests."""
        if self._turn.acquire(timeout=1.0):  # a thread stuck mid-job at exit: the worker sees EOF when we die
            try:
                self._retire(kill=False)
            finally:
                self._turn.release()

    def _exchange(self, job: bytes, limits: Limits) -> tuple[str, object]:
        worker = self._ready()
        deadline = time.monotonic() + limits.wall_seconds
        try:
            _send(worker.requests, job, deadline)
            reply = _receive(worker.replies, deadline)
        except _TimedOut:
            self._retire(kill=True)
            raise Exhausted("time", f"over {limits.wall_seconds:g} s") from None
        except BrokenPipeError:
            reply = None
        except BaseException:  # interrupted mid-frame: the pipes are out of step, the worker is spent
            self._retire(kill=True)
            raise
        if reply is None:
            raise _death(self._retire(kill=True), limits)
        kind, value, growth = pickle.loads(reply)
        worker.jobs += 1
        if kind != "value" or worker.jobs >= self.max_jobs or growth > self.max_growth:
            self._retire(kill=False)
        return kind, value

    def _ready(self) -> _Worker:
        if self._worker is not None and not self._worker.gone():
            return self._worker
        self._retire(kill=False)  # killed from outside between jobs: the next file is not blamed for it
        self._worker = _start()
        return self._worker

    def _retire(self, kill: bool) -> int:
        worker, self._worker = self._worker, None
        return worker.stop(kill) if worker else 0

    def _forget(self) -> None:
        """In a process forked from this one, the worker is not its own: let go of the pipes' copies."""
        worker, self._worker = self._worker, None
        self._turn = threading.Lock()
        if worker:
            os.close(worker.requests)
            os.close(worker.replies)


class _TimedOut(Exception):
    """The deadline passed while waiting on the worker."""


def _job(function: Callable[..., object], args: tuple[object, ...], limits: Limits) -> bytes:
    """Two pickles in one frame: the limits, read before the work is unpickled under them."""
    buffer = io.BytesIO()
    pickle.dump(limits, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickle.dump((function, args), buffer, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


def _death(status: int, limits: Limits) -> Exhausted:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
        if number in (signal.SIGXCPU, signal.SIGKILL):
            return Exhausted("cpu", f"over {limits.cpu_seconds} s of CPU (signal {name})")
        return Exhausted("crash", f"killed by {name}")
    return Exhausted("crash", f"exited with status {os.WEXITSTATUS(status)} and no result")


def _start() -> _Worker:
    requests_out, requests_in = os.pipe()
    replies_out, replies_in = os.pipe()
    gc.freeze()  # the worker's collector never walks, nor finalizes, what it inherits
    try:
        pid = os.fork()
    except BaseException:
        gc.unfreeze()
        for fd in (requests_out, requests_in, replies_out, replies_in):
            os.close(fd)
        raise
    if pid == 0:  # pragma: no cover - the worker; coverage does not follow it
        _serve(requests_out, replies_in)
    gc.unfreeze()
    os.close(requests_out)
    os.close(replies_in)
    os.set_blocking(requests_in, False)  # written with a deadline: a worker that stops reading is killed
    return _Worker(pid, requests_in, replies_out)


def _serve(requests: int, replies: int) -> NoReturn:  # pragma: no cover - the worker
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        sys.settrace(None)  # a profiler or tracer of the parent (bench, coverage) would only slow it:
        sys.setprofile(None)  # nothing of it is ever written out from here
        _let_go_of_inherited(requests, replies)
        given = {limit: resource.getrlimit(limit)[0] for limit in (resource.RLIMIT_AS, resource.RLIMIT_CPU)}
        forked = _resident()
        while (frame := _receive(requests, None)) is not None:
            _send(replies, _answer(frame, given, forked), None)
    except BaseException:  # noqa: BLE001 - nothing of the worker may run on as a copy of the parent
        code = 70
    finally:
        os._exit(code)


def _let_go_of_inherited(*keep: int) -> None:  # pragma: no cover - the worker
    """Point every inherited descriptor but stdio and `keep` at /dev/null: the parent's database file and
    sockets are no longer held open here, and a stray write through an inherited object goes nowhere."""
    null = os.open(os.devnull, os.O_RDWR)
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd != null and fd not in keep:
            with contextlib.suppress(OSError):
                os.dup2(null, fd, inheritable=False)
    os.close(null)
    if faulthandler.is_enabled():  # its file may have been one of them
        faulthandler.enable(2)


def _answer(frame: bytes, given: dict[int, int], forked: int) -> bytes:  # pragma: no cover - the worker
    stream = io.BytesIO(frame)
    limits = cast(Limits, pickle.load(stream))
    try:
        _hold(resource.RLIMIT_AS, _mapped() + limits.memory, given)
        _hold(resource.RLIMIT_CPU, _cpu_used() + limits.cpu_seconds, given)
        kind, value = _result(stream)
        try:
            return pickle.dumps((kind, value, _resident() - forked), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            return pickle.dumps(("memory", "MemoryError while sending the result", 0))
    finally:
        for limit, soft in given.items():  # the next frame is taken whole, before its limits are set
            _hold(limit, soft, given)


def _result(stream: io.BytesIO) -> tuple[str, object]:  # pragma: no cover - the worker
    try:
        function, args = pickle.load(stream)  # a pickle of its own, with its own memo
        return "value", function(*args)
    except MemoryError:
        return "memory", "MemoryError"
    except Exception as exc:  # noqa: BLE001 - sent back, raised again in the parent for its caller
        trace = "".join(traceback.format_exception(exc))[-4000:]
        exc.add_note(f"raised in the sandbox's worker:\n{trace}")
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # noqa: BLE001 - one pickle cannot carry back: its text instead
            return "error", ChildError(trace)
        return "error", exc


def _hold(limit: int, value: int, given: dict[int, int]) -> None:
    """Set the soft limit to `value`, never above what the worker was given nor its hard limit."""
    _, hard = resource.getrlimit(limit)
    for bound in (given[limit], hard):
        if bound != resource.RLIM_INFINITY and (value == resource.RLIM_INFINITY or value > bound):
            value = bound
    resource.setrlimit(limit, (value, hard))


def _mapped() -> int:
    """The address space this process maps now (VmSize), in bytes."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _resident() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _cpu_used() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return math.ceil(usage.ru_utime + usage.ru_stime)


def _send(fd: int, payload: bytes, deadline: float | None) -> None:
    for part in (_HEADER.pack(len(payload)), payload):
        view = memoryview(part)
        while view:
            _wait(fd, select.POLLOUT, deadline)
            view = view[os.write(fd, view) :]


def _receive(fd: int, deadline: float | None) -> bytes | None:
    """One frame, or None at the end of the pipe (the other side closed it, or died)."""
    header = _read(fd, _HEADER.size, deadline)
    return None if header is None else _read(fd, _HEADER.unpack(header)[0], deadline)


def _read(fd: int, size: int, deadline: float | None) -> bytes | None:
    chunks: list[bytes] = []  # as they come: a length that never arrives costs nothing
    while size:
        _wait(fd, select.POLLIN, deadline)
        chunk = os.read(fd, min(size, _CHUNK))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _wait(fd: int, event: int, deadline: float | None) -> None:
    if deadline is None:  # the worker's side: it blocks on its pipes
        return
    left = deadline - time.monotonic()
    poller = select.poll()
    poller.register(fd, event)
    if left <= 0 or not poller.poll(math.ceil(left * 1000)):
        raise _TimedOut


def _forget_workers() -> None:
    for reader in list(_READERS):
        reader._forget()


# The process's one worker, like its one logging tree: every caller shares it, whatever it was handed.
_READERS: weakref.WeakSet[Reader] = weakref.WeakSet()
_READER = Reader()
os.register_at_fork(after_in_child=_forget_workers)
atexit.register(_READER.close)
