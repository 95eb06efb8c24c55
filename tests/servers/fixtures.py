"""Pytest fixtures for the real servers: each started once per session, stopped and its temporary
folder removed at the end; each test gets a fresh IMAP user and an SMTP server with nothing received."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers.dovecot import DOVECOT, Dovecot
from servers.net import HOST
from servers.postgres import Postgres, postgres_bin
from servers.smtp import SmtpServer
from servers.tls import Certificate, make_certificate


@pytest.fixture(scope="session")
def server_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: its parents are 0700, and Dovecot's users must pass through every one.
    root = Path(tempfile.mkdtemp(prefix="subbot-servers-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def certificate(server_dir: Path) -> Certificate:
    """The servers' certificate, for localhost and 127.0.0.1; trusted only by passing it as ca_file."""
    return make_certificate(server_dir, "server")


@pytest.fixture(scope="session")
def stranger_certificate(server_dir: Path) -> Certificate:
    """Another self-signed certificate: trusting it must not make the servers' one trusted."""
    return make_certificate(server_dir, "stranger")


@pytest.fixture(scope="session")
def dovecot_server(server_dir: Path, certificate: Certificate) -> Iterator[Dovecot]:
    if not DOVECOT.exists():
        pytest.fail(f"{DOVECOT} is missing: `make system-deps` installs dovecot-imapd")
    server = Dovecot(server_dir / "dovecot", certificate)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """The session's Dovecot, running (a test that stopped it left it to be started again here)."""
    dovecot_server.start()
    return dovecot_server


@pytest.fixture
def imap_user() -> str:
    """A user of its own for each test: Dovecot makes the mailbox on first login."""
    return f"u{uuid.uuid4().hex[:12]}@example.org"


@pytest.fixture(scope="session")
def postgres_server(server_dir: Path) -> Iterator[Postgres]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.fail("PostgreSQL is missing: `make system-deps` installs postgresql")
    server = Postgres(server_dir / "postgres", bin_dir)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: Postgres) -> str:
    """A `[bot] database_url` naming an empty database of this test's own on the session's PostgreSQL."""
    postgres_server.start()
    return postgres_server.url(postgres_server.create_database())


def _smtp(server: SmtpServer) -> Iterator[SmtpServer]:
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _smtp_plain() -> Iterator[SmtpServer]:
    yield from _smtp(SmtpServer("plain"))


@pytest.fixture(scope="session")
def _smtp_starttls(certificate: Certificate) -> Iterator[SmtpServer]:
    yield from _smtp(SmtpServer("starttls", certificate))


@pytest.fixture(scope="session")
def _smtp_ssl(certificate: Certificate) -> Iterator[SmtpServer]:
    yield from _smtp(SmtpServer("ssl", certificate))


@pytest.fixture
def smtp_server(_smtp_plain: SmtpServer) -> SmtpServer:
    """Plain SMTP, no login: nothing received, nothing refused, running."""
    _smtp_plain.reset()
    return _smtp_plain


@pytest.fixture
def smtp_starttls_server(_smtp_starttls: SmtpServer) -> SmtpServer:
    _smtp_starttls.reset()
    return _smtp_starttls


@pytest.fixture
def smtp_ssl_server(_smtp_ssl: SmtpServer) -> SmtpServer:
    _smtp_ssl.reset()
    return _smtp_ssl


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections and never says a word: a server that hangs."""
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen()
        accepted: list[socket.socket] = []
        stop = threading.Event()

        def accept() -> None:
            listener.settimeout(0.05)
            while not stop.is_set():
                try:
                    accepted.append(listener.accept()[0])
                except TimeoutError:
                    continue

        thread = threading.Thread(target=accept)
        thread.start()
        yield listener.getsockname()[1]
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
