"""A private PostgreSQL cluster on 127.0.0.1: initdb'd into a temporary folder and run in the foreground by
this process (as the `postgres` user when the tests run as root: the server refuses to run as root), with
trust authentication on loopback. Each test gets a database of its own (`create_database`)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

import psycopg

from .net import HOST, free_port, wait_closed, wait_listening

SUPERUSER = "subbot"


def postgres_bin() -> Path | None:
    """The newest installed server's bin folder (Debian: /usr/lib/postgresql/<major>/bin), if any."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


class Postgres:
    """Written into `root` by `initdb` at construction; started by `start()`, stopped by `stop()`."""

    host = HOST

    def __init__(self, root: Path, bin_dir: Path) -> None:
        self.root = root
        self.bin = bin_dir
        self.data = root / "data"
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        root.chmod(0o700)
        self._run(
            [self.bin / "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale"]
        )

    def _as_owner(self) -> dict[str, Any]:
        return {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}

    def _run(self, command: list[str | Path]) -> None:
        with open(self.root / "setup.log", "ab") as log:
            subprocess.run(command, stdout=log, stderr=log, check=True, cwd=self.root, **self._as_owner())

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        settings = {
            "listen_addresses": HOST,
            "port": str(self.port),
            "unix_socket_directories": str(self.root),
            # A test cluster: durability is not what is tested, and each test makes a database.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
        }
        args = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        with open(self.root / "server.log", "ab") as log:
            # In the foreground, a process group of its own: this process is the one to stop, by its id.
            self._process = subprocess.Popen(
                [self.bin / "postgres", "-D", str(self.data), *args],
                stdout=log,
                stderr=log,
                cwd=self.root,
                start_new_session=True,
                **self._as_owner(),
            )
        try:
            wait_listening(self.port, timeout=30)
            self._wait_ready(30.0)
        except (OSError, psycopg.Error):
            self.stop()
            raise RuntimeError(f"PostgreSQL did not start; see {self.root}/server.log") from None

    def _wait_ready(self, timeout: float) -> None:
        # It listens before it has finished starting ("the database system is starting up").
        end = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=10):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        # SIGINT is PostgreSQL's "fast shutdown": sessions are ended, nothing is waited for.
        with suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        wait_closed(self.port)

    def dsn(self, database: str) -> str:
        return f"host={HOST} port={self.port} user={SUPERUSER} dbname={database}"

    def url(self, database: str) -> str:
        """What `[bot] database_url` says for `database` (SQLAlchemy's psycopg 3 dialect)."""
        return f"postgresql+psycopg://{SUPERUSER}@{HOST}:{self.port}/{database}"

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name

    def sessions(self, database: str) -> int:
        """Client sessions connected to `database` now (besides the one asking)."""
        with psycopg.connect(self.dsn(database)) as connection:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (database,)
            ).fetchone()
        return int(row[0]) if row else 0

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""
