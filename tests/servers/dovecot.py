"""A private Dovecot on 127.0.0.1, set up as /work/shared/notes/dovecot.md says: any user name has a
Maildir mailbox with password 'secret', so each test takes a user of its own. One port speaks plain
IMAP and STARTTLS, another IMAPS, both with a throw-away certificate the tests trust through ca_file."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import IMAPClientError  # type: ignore[import-untyped]

from bot.mailbox.imap import ImapSettings

from .net import HOST, free_port, wait_closed, wait_listening
from .tls import Certificate

DOVECOT = Path("/usr/sbin/dovecot")
PASSWORD = "secret"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = {host}
# Dovecot's login processes refuse to run as root: the users the Debian package creates.
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
first_valid_uid = 1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
# A wrong password is answered at once, not after the default 2 seconds (with nodelay below).
auth_failure_delay = 0
mail_location = maildir:~/Maildir
# Logs "ID sent: name=..." so a test can see the client named itself.
imap_id_log = *
passdb {{
  driver = static
  args = password={password} nodelay=yes
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  # Not called "Sent": a client that finds it found it by SPECIAL-USE, not by a common name.
  mailbox "Sent Messages" {{
    special_use = \\Sent
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {ssl_port}
  }}
}}
service anvil {{
  chroot =
  # No growing delay for a client that failed to log in: tests fail logins on purpose.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


class Dovecot:
    """Written into `root` (mode 0755, so Dovecot's users can reach the mail); started by `start()`."""

    host = HOST

    def __init__(self, root: Path, certificate: Certificate) -> None:
        self.root = root
        self.certificate = certificate
        self.port = free_port()
        self.ssl_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)
        shutil.chown(root / "mail", "dovecot", "dovecot")
        self.config = root / "dovecot.conf"
        self.config.write_text(
            CONFIG.format(
                root=root,
                host=HOST,
                port=self.port,
                ssl_port=self.ssl_port,
                cert=certificate.cert,
                key=certificate.key,
                password=PASSWORD,
            )
        )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        with open(self.root / "stderr.log", "ab") as stderr:
            # -F: in the foreground, so this process is the one to stop, by its id.
            # A process group of its own: stopping it ends the sessions too, as a server going down does.
            self._process = subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.config)], stderr=stderr, start_new_session=True
            )
        try:
            wait_listening(self.port)
            wait_listening(self.ssl_port)
            # Ready once a login goes through; stopped before that, Dovecot takes seconds to go.
            with self.client("ready@probe"):
                pass
        except (OSError, IMAPClientError):
            self.stop()
            raise RuntimeError(f"Dovecot did not start; see {self.root}/dovecot.log") from None

    def stop(self) -> None:
        if self._process is None:
            return
        process, self._process = self._process, None
        # The master, its login, auth and log processes, and every imap session: all in the group it leads.
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
        wait_closed(self.port)

    def restart(self) -> None:
        self.stop()
        self.start()

    def settings(
        self, user: str, security: Literal["ssl", "starttls", "plain"] = "plain", **changes: Any
    ) -> ImapSettings:
        port = self.ssl_port if security == "ssl" else self.port
        ca_file = None if security == "plain" else str(self.certificate.cert)
        settings = ImapSettings(HOST, port, user, PASSWORD, security=security, ca_file=ca_file, timeout=5.0)
        return replace(settings, **changes)

    @contextmanager
    def client(self, user: str) -> Iterator[Any]:
        """A plain imapclient session of `user`, for arranging and checking behind the adapter's back."""
        with IMAPClient(HOST, self.port, ssl=False, timeout=5) as client:
            client.login(user, PASSWORD)
            client.normalise_times = False
            yield client

    def append(
        self,
        user: str,
        raw: bytes,
        folder: str = "INBOX",
        flags: Sequence[bytes] = (),
        internal_date: dt.datetime | None = None,
    ) -> int:
        """Deliver `raw` as if it arrived at `internal_date`; returns its UID."""
        return self.append_many(user, [raw], folder, flags, internal_date)[0]

    def append_many(
        self,
        user: str,
        raws: Sequence[bytes],
        folder: str = "INBOX",
        flags: Sequence[bytes] = (),
        internal_date: dt.datetime | None = None,
    ) -> list[int]:
        """Deliver each of `raws` over one connection, creating `folder` if need be; returns their UIDs."""
        with self.client(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            responses = [client.append(folder, raw, flags=tuple(flags), msg_time=internal_date) for raw in raws]
        # Each answer is "[APPENDUID <uidvalidity> <uid>] Append completed." (UIDPLUS).
        return [int(response.split(b"]")[0].split()[-1]) for response in responses]

    def flags(self, user: str, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            return {uid: tuple(data[b"FLAGS"]) for uid, data in client.fetch(client.search("ALL"), [b"FLAGS"]).items()}

    def messages(self, user: str, folder: str = "INBOX") -> dict[int, bytes]:
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            return {
                uid: bytes(data[b"BODY[]"])
                for uid, data in client.fetch(client.search("ALL"), [b"BODY.PEEK[]"]).items()
            }

    def folders(self, user: str) -> dict[str, tuple[bytes, ...]]:
        with self.client(user) as client:
            return {str(name): tuple(flags) for flags, _, name in client.list_folders()}

    def rebuild(self, user: str, folder: str = "INBOX") -> None:
        """What a rebuilt mailbox looks like: same messages, new UIDs under a new UIDVALIDITY.

        Dovecot's UID list and indexes go; it numbers the files afresh on the next login."""
        maildir = self.root / "mail" / user / "Maildir"
        if folder != "INBOX":
            maildir = maildir / f".{folder.replace('/', '.')}"
        for state in [maildir / "dovecot-uidlist", *maildir.glob("dovecot.index*")]:
            state.unlink(missing_ok=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _signal_group(leader: int, signum: signal.Signals) -> None:
    with suppress(ProcessLookupError):  # the group is empty already
        os.killpg(leader, signum)
