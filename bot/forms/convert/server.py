"""The warm LibreOffice's own side, a script run by LibreOffice's Python (the one that has `uno`): it starts
soffice listening on a private UNO pipe and converts one file per connection on a Unix socket in its folder.

bot/forms/convert/warm.py, the bot's side, starts it (`python server.py CONFIG`, CONFIG a JSON object of the
`Config` keys below), talks to it and kills it. It imports only the standard library and `uno`, and
runs on whatever Python LibreOffice has (Debian's python3 with python3-uno, or the one a LibreOffice
build ships). The protocol, one exchange per connection: a request line `{"source": PATH, "target": PATH}`
(both files in the folder), a reply line `{"ok": true}` or `{"ok": false, "reason": TEXT}`, with
`"retry": true` when soffice had stopped before the request came (the file had no part in it).

The socket appears (renamed into place) only once soffice answers on its pipe, and disappears before the
server stops taking requests: after `max_conversions` files (the reply to the last is sent after the
socket is gone, so no one connects to a server on its way out), after `idle_seconds` without a request,
when soffice has stopped, when the bot that owns the folder exits (watched by pidfd), or on SIGTERM. It
leaves only on its own when no conversion is in progress (the folder's lock, which every client holds
for its whole exchange). Exit status: 0 done, 3 no `uno` here, 4 soffice did not start."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

FILTER = "MS Word 2007 XML"
NEVER_EXECUTE = 0  # com.sun.star.document.MacroExecMode: a sender's macros never run
NO_UPDATE = 0  # com.sun.star.document.UpdateDocMode: links to other files are not followed
TICK = 1.0  # seconds between looks at the owner, soffice and the idle clock
LINE = 1 << 16  # the longest request line


class Stop(Exception):
    """Time to go: SIGTERM, soffice gone, idle, or enough files converted."""


class OwnerGone(Stop):
    """The bot that owns the folder exited without shutting the server down (killed): the folder goes too."""


def main(argv: list[str]) -> int:
    config = json.loads(argv[1])
    os.umask(0o077)  # the pipe soffice makes in /tmp and every file here: this user's only
    _limit(resource.RLIMIT_AS, config["memory"])  # soffice inherits them
    _limit(resource.RLIMIT_CPU, config["cpu_seconds"])
    try:
        import uno
    except ImportError as exc:
        print(f"no uno in {sys.executable}: {exc}", file=sys.stderr)
        return 3
    signal.signal(signal.SIGTERM, _stop_on_signal)
    office = _start_office(config)
    desktop, orphaned = None, False
    try:
        desktop = _connect(uno, config, office)
        if desktop is None:
            return 4
        _serve(uno, config, office, desktop)
    except OwnerGone:
        orphaned = True
    except Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(_path(config, "socket"))
        _end_office(office, desktop)
    if orphaned:
        shutil.rmtree(config["folder"], ignore_errors=True)
    return 0


def _limit(limit: int, value: int) -> None:
    hard = resource.getrlimit(limit)[1]
    resource.setrlimit(limit, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))


def _stop_on_signal(number: int, frame: Any) -> None:
    raise Stop(f"signal {number}")


def _path(config: dict[str, Any], name: str) -> str:
    return os.path.join(config["folder"], name)


def _start_office(config: dict[str, Any]) -> subprocess.Popen[bytes]:
    profile = config["profile"]
    accept = f"pipe,name={config['pipe']};urp;StarOffice.ComponentContext"
    command = [config["soffice"], f"-env:UserInstallation={profile}", "--headless", "--invisible", "--nologo"]
    command += ["--norestore", "--nodefault", "--nolockcheck", f"--accept={accept}"]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)


def _connect(uno: Any, config: dict[str, Any], office: subprocess.Popen[bytes]) -> Any:
    """The office's Desktop once soffice answers on its pipe; None when it stops or takes too long."""
    from com.sun.star.connection import NoConnectException

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    url = f"uno:pipe,name={config['pipe']};urp;StarOffice.ComponentContext"
    deadline = time.monotonic() + config["start_seconds"]
    while office.poll() is None and time.monotonic() < deadline:
        try:
            remote = resolver.resolve(url)
        except NoConnectException:
            time.sleep(0.05)
            continue
        return remote.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", remote)
    print(f"soffice did not answer (exit status {office.poll()})", file=sys.stderr)
    return None


def _serve(uno: Any, config: dict[str, Any], office: subprocess.Popen[bytes], desktop: Any) -> None:
    listener = _listen(config)
    owner = _watch(config["owner"])
    served, last = 0, time.monotonic()
    while True:
        ready, _, _ = select.select([listener] + ([owner] if owner is not None else []), [], [], TICK)
        if not _owner_alive(owner, config["owner"], ready):
            raise OwnerGone
        if listener in ready:
            connection, _ = listener.accept()
            with connection:
                served += _exchange(uno, config, office, desktop, connection, listener, served)
            last = time.monotonic()
        elif (office.poll() is not None or time.monotonic() - last > config["idle_seconds"]) and _unused(config):
            raise Stop("soffice stopped, or idle")


def _listen(config: dict[str, Any]) -> socket.socket:
    """Listening before it has its name: a client that finds the socket can connect."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    building = _path(config, "socket.new")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(building)
    listener.bind(building)
    listener.listen(4)
    os.rename(building, _path(config, "socket"))
    return listener


def _watch(owner: int) -> int | None:
    """A pidfd that turns readable when the owner exits (None where this Python has no pidfd_open)."""
    if not hasattr(os, "pidfd_open"):
        return None
    try:
        return int(os.pidfd_open(owner))
    except ProcessLookupError:
        raise OwnerGone from None


def _owner_alive(pidfd: int | None, owner: int, ready: list[Any]) -> bool:
    if pidfd is not None:
        return pidfd not in ready
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _unused(config: dict[str, Any]) -> bool:
    """True, with the folder's lock taken until this process exits, when no client is converting."""
    fd = os.open(_path(config, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    return True  # held, deliberately, until the process ends


def _exchange(
    uno: Any,
    config: dict[str, Any],
    office: subprocess.Popen[bytes],
    desktop: Any,
    connection: socket.socket,
    listener: socket.socket,
    served: int,
) -> int:
    """Answer one request; 1 when a file was converted (or tried), 0 for a connection with no request."""
    connection.settimeout(10.0)
    request = _read_line(connection)
    if not request:
        return 0
    if office.poll() is not None or not _answers(desktop):  # stopped between requests: not this file's doing
        _close(listener, config)
        _reply(connection, {"ok": False, "retry": True, "reason": f"soffice had stopped ({office.poll()})"})
        raise Stop("soffice stopped")
    reply = _converted(uno, config, desktop, request)
    last = served + 1 >= config["max_conversions"] or office.poll() is not None
    if last:
        _close(listener, config)
    _reply(connection, reply)
    if last:
        raise Stop("enough files, or soffice stopped")
    return 1


def _answers(desktop: Any) -> bool:
    """soffice still answers on its pipe (one round trip; a dead one's pipe is closed, so this fails at once)."""
    try:
        desktop.getFrames()
    except Exception:  # noqa: BLE001 - a DisposedException, or whatever a broken bridge raises
        return False
    return True


def _converted(uno: Any, config: dict[str, Any], desktop: Any, request: bytes) -> dict[str, Any]:
    try:
        job = json.loads(request)
        source, target = _inside(config, job["source"]), _inside(config, job["target"])
        _convert(uno, desktop, source, target)
    except Exception as exc:  # noqa: BLE001 - whatever LibreOffice or UNO raised is this file's answer
        return {"ok": False, "reason": f"{type(exc).__name__}: {exc}"[:500]}
    return {"ok": True}


def _inside(config: dict[str, Any], path: str) -> str:
    real = os.path.realpath(path)
    if os.path.dirname(real) != os.path.realpath(config["folder"]):
        raise ValueError(f"{path} is not in the server's folder")
    return real


def _convert(uno: Any, desktop: Any, source: str, target: str) -> None:
    load = _properties(uno, Hidden=True, ReadOnly=True, MacroExecutionMode=NEVER_EXECUTE, UpdateDocMode=NO_UPDATE)
    document = desktop.loadComponentFromURL(uno.systemPathToFileUrl(source), "_blank", 0, load)
    if document is None:
        raise ValueError("LibreOffice could not open the file")
    try:
        document.storeToURL(uno.systemPathToFileUrl(target), _properties(uno, FilterName=FILTER, Overwrite=True))
    finally:
        try:
            document.close(True)
        except Exception:  # noqa: BLE001 - a document that will not close is disposed of
            document.dispose()


def _properties(uno: Any, **values: Any) -> tuple[Any, ...]:
    properties = []
    for name, value in values.items():
        prop = uno.createUnoStruct("com.sun.star.beans.PropertyValue")
        prop.Name, prop.Value = name, value
        properties.append(prop)
    return tuple(properties)


def _read_line(connection: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    with contextlib.suppress(OSError):
        while size < LINE:
            chunk = connection.recv(4096)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if chunk.endswith(b"\n"):
                break
    return b"".join(chunks)


def _reply(connection: socket.socket, reply: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):  # the client gave up waiting
        connection.sendall(json.dumps(reply).encode() + b"\n")


def _close(listener: socket.socket, config: dict[str, Any]) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_path(config, "socket"))
    listener.close()


def _end_office(office: subprocess.Popen[bytes], desktop: Any) -> None:
    """Ask LibreOffice to quit (it removes its pipes as it goes), then make sure it has."""
    if desktop is not None and office.poll() is None:
        asking = threading.Thread(target=_terminate, args=(desktop,), daemon=True)  # a hung soffice never answers
        asking.start()
        asking.join(10.0)
    try:
        office.wait(timeout=10.0)
    except subprocess.TimeoutExpired:
        office.kill()
        office.wait()


def _terminate(desktop: Any) -> None:
    with contextlib.suppress(Exception):  # the bridge goes down under the call as soffice quits
        desktop.terminate()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
