"""A fork server for the `subbot` command: one process imports the bot once, then forks a child per run that
calls `bot.cli.main(argv)` exactly as the `subbot` script does, and kills it with a real SIGKILL when told.

Why: importing the bot takes over a second, and the crash test starts the command hundreds of times. Each
child is still a separate process with its own database connections, sockets and files, killed by the
kernel wherever it happens to be. The server holds each child's pidfd until it has reaped it, so a signal
can never reach a recycled process id.

Protocol: one JSON object a line on stdin, one answer a line on stdout.
  {"op": "start", "argv": [...], "out": PATH, "err": PATH, "env": {...}, "limits": {"fsize": BYTES}}
                                                                             -> {"pid": N}
  {"op": "wait", "pid": N, "timeout": S, "signal": SIG | null}              -> {"code": C | null, "signalled": bool}
    waits up to S seconds for the child to end; if it has not and `signal` is given, sends it then and waits
    for the end. `code` is the exit status, negative for a signal (as subprocess gives it); null if still running.
  {"op": "signal", "pid": N, "signal": SIG}                                  -> {}
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import sys
import time
import traceback
from typing import Any

# What `subbot` imports on its way to each command, loaded once here rather than in every child.
import bot.app
import bot.cli
import bot.commands.digest
import bot.commands.ledger
import bot.commands.mail
import bot.commands.remind


class Children:
    def __init__(self) -> None:
        self.pidfds: dict[int, int] = {}

    def start(self, argv: list[str], out: str, err: str, env: dict[str, str], limits: dict[str, int]) -> dict[str, Any]:
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _child(argv, out, err, env, limits)
        self.pidfds[pid] = os.pidfd_open(pid)
        return {"pid": pid}

    def wait(self, pid: int, timeout: float, signum: int | None) -> dict[str, Any]:
        fd = self.pidfds[pid]
        ready, _, _ = select.select([fd], [], [], timeout)
        signalled = False
        if not ready:
            if signum is None:
                return {"code": None, "signalled": False}
            signal.pidfd_send_signal(fd, signum)
            signalled = True
        _, status = os.waitpid(pid, 0)
        os.close(self.pidfds.pop(pid))
        return {"code": os.waitstatus_to_exitcode(status), "signalled": signalled}

    def signal(self, pid: int, signum: int) -> dict[str, Any]:
        signal.pidfd_send_signal(self.pidfds[pid], signum)
        return {}

    def end_all(self) -> None:
        for pid, fd in list(self.pidfds.items()):
            signal.pidfd_send_signal(fd, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(fd)
        self.pidfds.clear()


def _child(argv: list[str], out: str, err: str, env: dict[str, str], limits: dict[str, int]) -> None:
    """Never returns: runs the command as `subbot` would and leaves with its exit status."""
    code = 1
    try:
        os.setpgid(0, 0)  # its own group: a LibreOffice it starts is not the server's business
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, path in ((1, out), (2, err)):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(target, fd)
        os.environ.update(env)
        if "fsize" in limits:  # no file may grow past it: write() fails with EFBIG (Python ignores SIGXFSZ)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limits["fsize"], limits["fsize"]))
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        code = bot.cli.main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - an uncaught exception, shown as the interpreter would show it
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    children = Children()
    try:
        for line in sys.stdin:
            request = json.loads(line)
            op = request.pop("op")
            started = time.monotonic()
            if op == "start":
                answer = children.start(
                    request["argv"], request["out"], request["err"], request.get("env", {}), request.get("limits", {})
                )
            elif op == "wait":
                answer = children.wait(request["pid"], request["timeout"], request.get("signal"))
            elif op == "signal":
                answer = children.signal(request["pid"], request["signal"])
            else:
                answer = {"error": f"unknown op {op}"}
            answer["took"] = time.monotonic() - started
            print(json.dumps(answer), flush=True)
    finally:
        children.end_all()


if __name__ == "__main__":
    serve()
