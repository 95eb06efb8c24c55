"""The world the fault tests break: a mailbox of ~50 real-looking submissions on the test Dovecot, the bot's
settings as staff write them, the `subbot` command run through the fork server, and what the bot left behind
read back (ledger rows, keywords in the mailbox, replies aiosmtpd received, copies in Sent)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email
import html
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from servers.dovecot import PASSWORD, Dovecot
from servers.smtp import Collector, SmtpServer

from bot.demo import Sample, filled_entry, samples, write_message
from bot.forms.layout import form_layout
from config import load_campaign, load_roster
from parsers.form_writer import FormEntry, write_form

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
FORKSERVER = Path(__file__).with_name("forkserver.py")
MAILS = ROOT / "tests" / "fixtures" / "mail"
FROM = "kepu@example.org"
OWN = "plans@society.org.cn"
KEYWORD = "$SubbotDone"
SENT_FOLDER = "Sent Messages"  # the test Dovecot's \Sent
NOW = "2021-05-09T09:00"  # every poll runs at this (campaign) time: after the plan deadline, as in the demo
ZONE = dt.timezone(dt.timedelta(hours=8))
# How long the slow SMTP server holds a message it has taken before answering 250.
HANDOFF_PAUSE = 0.01
DEADLINE = 60.0  # seconds: a guard against a hang, never a measurement
# Golden mails as branches' clients wrote them (see tests/test_poll_imap.py for what each deserves).
GOLDEN = (
    "qq-gb18030-encoded-words.eml",
    "netease-163-gbk-only-names.eml",
    "foxmail-rfc2231-continuation.eml",
    "outlook-winmail-dat.eml",
    "outlook-auto-response-suppress.eml",
    "iphone-related-inline-image.eml",
    "forwarded-message-rfc822.eml",
    "zip-gbk-member-names.eml",
    "see-attachment-without-attachment.eml",
    "auto-reply-auto-submitted.eml",
    "auto-reply-outlook-subject.eml",
    "bounce-multipart-report.eml",
    "own-address.eml",
)


# --- the mailbox -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    raw: bytes
    arrived: dt.datetime

    @property
    def message_id(self) -> str:
        return str(email.message_from_bytes(self.raw)["Message-ID"] or "")


def mailbox() -> list[Delivery]:
    """~50 mails as the campaign's inbox holds them: the demo's dozen, the golden mails from real clients,
    and every branch on the roster sending its form, some wrong and then corrected, some twice."""
    deliveries = [Delivery(write_message(s), s.arrived) for s in samples()]
    arrived = dt.datetime(2021, 5, 4, 9, 30, tzinfo=ZONE)
    deliveries += [Delivery((MAILS / name).read_bytes(), arrived) for name in GOLDEN]
    deliveries += [Delivery(write_message(s), s.arrived) for s in branch_samples()]
    return sorted(deliveries, key=lambda d: d.arrived)


def branch_samples() -> list[Sample]:
    layout = form_layout(load_campaign())
    mails = []
    for number, branch in enumerate(load_roster().branches):
        day = dt.datetime(2021, 4, 26, 9, 15, tzinfo=ZONE) + dt.timedelta(days=number % 10, hours=number % 8)
        good = _entry(branch.name, f"{branch.name}科技工作者日座谈会", "第二阶段；5月28日")
        first = good if number % 2 else dataclasses.replace(good, cells={**good.cells, "contact.mobile": "6206712"})
        address = branch.emails[0]
        mails.append(_sample(branch.name, address, f"{branch.name}活动筹备方案", day, write_form(layout, [first])))
        if number % 2 == 0:  # asked to correct the mobile: the branch sends the form again, right, a day later
            later = day + dt.timedelta(days=1, hours=2)
            mails.append(_sample(branch.name, address, "回复：筹备方案（已修改）", later, write_form(layout, [good])))
        if number % 3 == 0:  # and a second activity, in a form of its own, a few days on
            extra = _entry(branch.name, f"{branch.name}科普进校园", "第三阶段；6月8日")
            later = day + dt.timedelta(days=3)
            mails.append(_sample(branch.name, address, "补充一项活动", later, write_form(layout, [extra])))
    strangers = (
        ("某市科协", "office@kexie.example.net"),
        ("某大学科协", "kexie@university.example.edu"),
        ("某区科技馆", "kjg@district.example.cn"),
    )
    for number, (name, address) in enumerate(strangers):
        day = dt.datetime(2021, 5, 2 + number, 14, 0, tzinfo=ZONE)
        form = write_form(layout, [_entry(name, "社区科普日", "第一阶段；5月20日")])
        mails.append(_sample(name, address, "我们也想报一个活动", day, form))
    return mails


def _entry(organiser: str, title: str, time: str) -> FormEntry:
    plan = "一、活动主题：众心向党，自立自强。\n二、主要安排：组织青年科技工作者座谈。\n三、预期成效：弘扬科学家精神。"
    return filled_entry(organiser, title, time, modules=("团结引领",), plan=plan)


def _sample(name: str, address: str, subject: str, day: dt.datetime, form: bytes) -> Sample:
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    return Sample(
        name, address, subject, day, "附件是我们的活动筹备方案，请查收。", ((f"{name}筹备方案.docx", form, docx),)
    )


def deliver(dovecot: Dovecot, user: str, deliveries: list[Delivery]) -> None:
    with dovecot.client(user) as client:
        if not client.folder_exists(SENT_FOLDER):
            client.create_folder(SENT_FOLDER)
        for d in deliveries:
            client.append("INBOX", d.raw, msg_time=d.arrived)


# --- the SMTP server ---------------------------------------------------------------------------------


class SlowCollector(Collector):
    """Takes a message, then waits `pause` seconds before saying 250, as a server that writes its queue to
    disk does. Inside that pause the message is the server's but the bot does not know it yet: the SMTP
    hand-off, the one place the bot's design allows a reply to go out twice."""

    def __init__(self, pause: float) -> None:
        super().__init__()
        self.pause = pause

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.pause)
        return answer


class PickyCollector(Collector):
    """Refuses RCPT for some addresses with `answer` (a mailbox that does not exist, say), takes the rest;
    counts every RCPT it is asked, so a test can see a refused address is not tried again and again."""

    def __init__(self, refused: frozenset[str], answer: str) -> None:
        super().__init__()
        self.refused, self.answer = refused, answer
        self.asked: Counter[str] = Counter()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.asked[address] += 1
        if address in self.refused:
            return self.answer
        return await super().handle_RCPT(server, session, envelope, address, options)


class GateCollector(Collector):
    """Holds every DATA while its gate is closed (`held` says one is waiting): a bot caught in its outbox
    flush, holding the poll lock, for as long as a test needs."""

    def __init__(self) -> None:
        super().__init__()
        self.gate, self.held = threading.Event(), threading.Event()
        self.gate.set()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        while not self.gate.is_set():
            self.held.set()
            await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


def slow_smtp(pause: float) -> SmtpServer:
    server = SmtpServer("plain")
    server.handler = SlowCollector(pause)
    return server


def reply_ids(smtp: SmtpServer) -> list[str]:
    """The Message-ID of every reply the SMTP server took, in order, repeats included."""
    return [_header(r.raw, "Message-ID") for r in smtp.received]


def reply_threads(smtp: SmtpServer) -> list[tuple[tuple[str, ...], str]]:
    """(recipients, In-Reply-To) of every reply taken: the same reply to the same branch, however composed."""
    return [(r.rcpt_tos, _header(r.raw, "In-Reply-To")) for r in smtp.received]


def _header(raw: bytes, name: str) -> str:
    return " ".join(str(email.message_from_bytes(raw)[name] or "").split())


def repeats(values: list[Any]) -> int:
    """How many values are there more than once (each extra copy counts one)."""
    return sum(n - 1 for n in Counter(values).values())


# --- the bot's settings and its command --------------------------------------------------------------


def write_settings(folder: Path, imap: dict[str, Any], smtp: SmtpServer, smtp_timeout: float = 5, **bot: Any) -> Path:
    """bot.toml as staff write it: `imap` is the [mailbox] section, `bot` adds [bot] keys."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = {"data_dir": str(folder / "data"), "from_address": FROM, "own_addresses": [OWN], **bot}
    path = folder / "bot.toml"
    path.write_text(
        f"[bot]\n{_toml(settings)}\n[mailbox]\n{_toml(imap)}\n"
        f'[smtp]\ntype = "smtp"\nhost = "{smtp.host}"\nport = {smtp.port}\nusername = ""\nsecurity = "plain"\n'
        f"timeout = {smtp_timeout}\n",
        encoding="utf-8",
    )
    return path


def _toml(values: dict[str, Any]) -> str:
    return "".join(f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in values.items())


def imap_section(host: str, port: int, user: str, **extra: Any) -> dict[str, Any]:
    keys = {"type": "imap", "host": host, "port": port, "username": user, "security": "plain"}
    return {**keys, "timeout": 5, "processed_keyword": KEYWORD, **extra}


def subbot(settings: Path, *command: str, now: str = NOW) -> list[str]:
    return ["--settings", str(settings), "--now", now, *command]


ENV = {"SUBBOT_IMAP_PASSWORD": PASSWORD}


class ForkServer:
    """The client side of forkserver.py: `start` a `subbot` command, `wait` for it or kill it."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SUBBOT_")}
        self.process = subprocess.Popen(
            [str(PYTHON), str(FORKSERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            env=env,
            text=True,
        )

    def _ask(self, **request: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the fork server ended")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def start(
        self, argv: list[str], log: Path, env: dict[str, str] | None = None, limits: dict[str, int] | None = None
    ) -> int:
        request = {
            "argv": argv,
            "out": str(log),
            "err": str(log),
            "env": {**ENV, **(env or {})},
            "limits": limits or {},
        }
        pid: int = self._ask(op="start", **request)["pid"]
        return pid

    def wait(self, pid: int, timeout: float = DEADLINE, signum: int | None = None) -> int | None:
        """The exit status (negative: the signal that ended it); None if still running after `timeout`."""
        code: int | None = self._ask(op="wait", pid=pid, timeout=timeout, signal=signum)["code"]
        return code

    def signal(self, pid: int, signum: int) -> None:
        self._ask(op="signal", pid=pid, signal=signum)

    def run(
        self, argv: list[str], log: Path, env: dict[str, str] | None = None, limits: dict[str, int] | None = None
    ) -> int:
        code = self.wait(self.start(argv, log, env, limits))
        assert code is not None, f"subbot {argv} still running after {DEADLINE} s"
        return code

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=DEADLINE)
        self.process.stdout.close()


class Running:
    """`subbot run` in a child of the fork server, until `stop` (SIGTERM) or `kill`."""

    def __init__(self, forks: ForkServer, settings: Path, *flags: str, log: str = "subbot.log") -> None:
        self.forks, self.log_path = forks, settings.parent / log
        self.pid: int | None = forks.start(subbot(settings, "run", *flags), self.log_path)

    def log(self) -> str:
        return log_text(self.log_path)

    def alive(self) -> bool:
        return self.pid is not None and self.forks.wait(self.pid, 0) is None

    def stop(self) -> int:
        assert self.pid is not None
        self.forks.signal(self.pid, signal.SIGTERM)
        code = self.forks.wait(self.pid)
        self.pid = None
        assert code is not None, "subbot run did not stop on SIGTERM"
        return code

    def kill(self) -> None:
        if self.pid is not None:
            self.forks.wait(self.pid, 0, signal.SIGKILL)
            self.pid = None


def run_subbot(argv: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The `subbot` script itself, in a process of its own (for runs that need a fresh interpreter)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SUBBOT_")}
    command = [str(ROOT / ".venv" / "bin" / "subbot"), *argv]
    with open(log, "a", encoding="utf-8") as out:
        return subprocess.run(
            command, env={**base, **ENV, **(env or {})}, stdout=out, stderr=subprocess.STDOUT, timeout=DEADLINE
        )


# --- what the bot left behind ------------------------------------------------------------------------


@dataclass(frozen=True)
class Ledger:
    """The ledger's rows that matter here, read straight from the SQLite file."""

    messages: tuple[dict[str, Any], ...]
    refs: tuple[dict[str, Any], ...]
    replies: tuple[dict[str, Any], ...]

    @staticmethod
    def read(data_dir: Path) -> Ledger:
        path = data_dir / "ledger.sqlite3"
        if not path.exists():
            return Ledger((), (), ())
        connection = sqlite3.connect(path, timeout=DEADLINE)
        connection.row_factory = sqlite3.Row
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "replies" not in tables:
                return Ledger((), (), ())
            return Ledger(
                tuple(dict(r) for r in connection.execute("SELECT * FROM messages ORDER BY id")),
                tuple(dict(r) for r in connection.execute("SELECT * FROM message_refs ORDER BY id")),
                tuple(dict(r) for r in connection.execute("SELECT * FROM replies ORDER BY id")),
            )
        finally:
            connection.close()

    def sent_ids(self) -> set[str]:
        return {r["outgoing_id"] for r in self.replies if r["status"] == "sent"}

    def pending(self) -> int:
        return sum(r["status"] == "pending" for r in self.replies)

    def outcome(self) -> dict[str, tuple[Any, ...]]:
        """Per message (by SHA-256): what became of it and of its reply. Equal for two runs over the same
        mail means the same decisions, the same receipts and the same replies."""
        replies = {r["message_pk"]: r for r in self.replies}
        result = {}
        for m in self.messages:
            reply = replies.get(m["id"], {})
            result[m["sha256"]] = (
                m["status"],
                m["kind"],
                m["verdict"],
                m["receipt"],
                reply.get("kind"),
                reply.get("status"),
                reply.get("outgoing_id"),
            )
        return result


@dataclass(frozen=True)
class Reference:
    """What one uninterrupted `subbot poll --reply-backlog` over the mailbox leaves: every faulted run over the
    same mail must end with the same ledger and the same replies."""

    outcome: dict[str, tuple[Any, ...]]
    replies: frozenset[str]
    seconds: float


def done(data: Path, reference: Reference, smtp: SmtpServer) -> bool:
    """Every message taken in and every reply due sent (checked by the ledger and the SMTP server)."""
    ledger = Ledger.read(data)
    return len(ledger.messages) == len(reference.outcome) and set(reply_ids(smtp)) >= reference.replies


def new_mailbox(
    tmp: Path, dovecot: Dovecot, smtp: SmtpServer, mails: list[Delivery], bot: dict[str, Any] | None = None, **imap: Any
) -> tuple[Path, str]:
    """A fresh Dovecot user holding `mails`, and settings for a bot of its own; `imap` changes [mailbox],
    `bot` adds [bot] keys (or smtp_timeout)."""
    user = f"f{uuid.uuid4().hex[:12]}@example.org"
    deliver(dovecot, user, mails)
    folder = tmp / user.partition("@")[0]
    section = imap_section(dovecot.host, imap.pop("port", dovecot.port), user, **imap)
    return write_settings(folder, section, smtp, **(bot or {})), user


def digest_rows(page: Path, reason: str) -> list[str]:
    """The rows of the digest's table of mail set aside for a person (需要人工处理的邮件) that give `reason`."""
    text = page.read_text(encoding="utf-8")
    section = text.split("需要人工处理的邮件", 1)[1].split("<h2", 1)[0]
    return [html.unescape(row) for row in section.split("<tr>") if f">{reason}</td>" in row]


def leftover_temporaries(data_dir: Path) -> int:
    """Half-written raw files a killed process left (the content store writes `<sha>.eml.tmp<pid>`, then renames)."""
    return sum(1 for _ in (data_dir / "raw").glob("*/*.tmp*")) if (data_dir / "raw").exists() else 0


def eventually(check: Callable[[], bool], what: str, log: Callable[[], str] = str, timeout: float = DEADLINE) -> float:
    """Waits for `check`; returns the seconds it took (a figure for the report, never asserted on)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"no {what} within {timeout:g} s\n{log()[-4000:]}")
        time.sleep(0.02)
    return time.monotonic() - start


def keyworded(dovecot: Dovecot, user: str) -> tuple[int, int]:
    """(messages in INBOX, how many carry the processed keyword)."""
    flags = dovecot.flags(user)
    return len(flags), sum(KEYWORD.encode() in f for f in flags.values())


def sent_copies(dovecot: Dovecot, user: str) -> list[str]:
    return [_header(raw, "Message-ID") for raw in dovecot.messages(user, SENT_FOLDER).values()]


@dataclass
class Stopwatch:
    started: float = field(default_factory=time.monotonic)

    def seconds(self) -> float:
        return time.monotonic() - self.started


def log_text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
