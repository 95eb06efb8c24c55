"""Reading a sender's file in a forked child held to limits of memory, CPU and wall-clock time.

The readers bound what they can see coming (zip members, pages, characters), but a library may still
inflate a PDF content stream whole (1 MB of PDF, 2 GB of memory) or loop on a crafted file: those
limits only a process can enforce. The child inherits the loaded modules (no start-up cost), runs the
work with RLIMIT_AS raised by `memory` above what it already maps and RLIMIT_CPU at `cpu_seconds`, and
sends the result back pickled. Only the soft limits are lowered, so LibreOffice, started from inside
the work, can still run (it inherits them and fits). Linux (and any POSIX with fork) only."""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import select
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar, cast

from bot.check import CheckResult, check_document
from bot.convert import TIMEOUT_SECONDS, Converter
from bot.findings import Finding
from bot.rules import Context
from parsers.package import sniff
from parsers.records import PlanRead, Unreadable

T = TypeVar("T")
Exhaustion = Literal["memory", "cpu", "time", "crash"]

_MESSAGES: dict[Exhaustion, str] = {
    "memory": "文件内容展开后过大，无法安全读取",
    "cpu": "文件读取耗时过长（结构异常），无法安全读取",
    "time": "文件读取耗时过长（结构异常），无法安全读取",
    "crash": "文件已损坏或格式异常，读取程序异常退出",
}


@dataclass(frozen=True)
class Limits:
    memory: int = 512 << 20  # bytes of address space the work may add to what the process maps already
    cpu_seconds: int = 30  # a real form takes well under a second; LibreOffice's own time is its own
    wall_seconds: float = TIMEOUT_SECONDS + 30.0  # a stuck child (a lock inherited mid-use) is killed


class Exhausted(Exception):
    """The child ran out of memory or time, or died: the work's result is unknown."""

    def __init__(self, reason: Exhaustion, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


class ChildError(Exception):
    """The work raised an exception that cannot be sent back as itself; carries its traceback text."""


def check_limited(
    data: bytes, name: str, ctx: Context, convert: Converter | None, limits: Limits | None = None
) -> CheckResult:
    """`check_document` in a child; a file that exhausts the limits is unreadable ("too_large")."""
    try:
        return run_limited(lambda: check_document(data, name, ctx, convert), limits or Limits())
    except Exhausted as exc:
        message = _MESSAGES[exc.reason]
        unreadable = Unreadable("too_large", message, f"sandbox {exc.reason}: {exc.detail}")
        read = PlanRead(name, sniff(data, name), unreadable=unreadable)
        return CheckResult(name, read, (Finding(None, "file", "error", "too_large", message),))


def run_limited(work: Callable[[], T], limits: Limits) -> T:
    """`work()` in a forked child under `limits`: its value, or its exception raised here again."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; coverage does not follow it
        os.close(reader)
        _child(work, limits, writer)
    os.close(writer)
    payload, timed_out = b"", True
    try:
        payload, timed_out = _read_all(reader, time.monotonic() + limits.wall_seconds)
    finally:
        os.close(reader)
        if timed_out:
            _kill(pid)
        _, status = os.waitpid(pid, 0)
    if timed_out:
        raise Exhausted("time", f"over {limits.wall_seconds:g} s")
    return cast(T, _outcome(payload, status, limits))


def _child(work: Callable[[], T], limits: Limits, writer: int) -> None:  # pragma: no cover
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _lower(resource.RLIMIT_AS, _mapped() + limits.memory)
        _lower(resource.RLIMIT_CPU, limits.cpu_seconds)
        try:
            result: tuple[str, object] = ("value", work())
        except MemoryError:
            result = ("memory", "MemoryError")
        except Exception as exc:  # noqa: BLE001 - sent back, raised again in the parent for its caller
            trace = "".join(traceback.format_exception(exc))[-4000:]
            exc.add_note(f"raised in the sandboxed child:\n{trace}")
            result = ("error", exc)
            try:
                pickle.loads(pickle.dumps(exc))
            except Exception:  # noqa: BLE001 - one pickle cannot carry back: its text instead
                result = ("error", ChildError(trace))
        try:
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("memory", "MemoryError while sending the result"))
        _write_all(writer, payload)
    except BaseException:  # noqa: BLE001 - nothing of the child may run on as a copy of the parent
        code = 70
    finally:
        os._exit(code)


def _lower(limit: int, value: int) -> None:
    soft, hard = resource.getrlimit(limit)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    if soft == resource.RLIM_INFINITY or value < soft:
        resource.setrlimit(limit, (value, hard))


def _mapped() -> int:
    """The address space this process maps now (VmSize), in bytes."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.close(fd)


def _read_all(fd: int, deadline: float) -> tuple[bytes, bool]:
    """Everything the child writes until it closes the pipe; (what came, whether time ran out)."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(chunks), True
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks), False
            chunks.append(chunk)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _outcome(payload: bytes, status: int, limits: Limits) -> object:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number in (signal.SIGXCPU, signal.SIGKILL) and not payload:
            raise Exhausted("cpu", f"over {limits.cpu_seconds} s of CPU (signal {signal.Signals(number).name})")
        raise Exhausted("crash", f"killed by {signal.Signals(number).name}")
    if not payload:
        raise Exhausted("crash", f"exited with status {os.WEXITSTATUS(status)} and no result")
    kind, value = pickle.loads(payload)
    if kind == "value":
        return value
    if kind == "memory":
        raise Exhausted("memory", f"over {limits.memory >> 20} MiB more: {value}")
    raise value
