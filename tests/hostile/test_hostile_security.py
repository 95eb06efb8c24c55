"""The running bot's security: what it keeps on disk is readable by its user only, its logs carry neither
secrets nor personal data at INFO, and the image installs exactly the locked, hashed dependencies.
(TLS verification and passwords kept out of errors: tests/test_mailbox_imap.py and tests/test_mailer.py.)"""

from __future__ import annotations

import datetime as dt
import logging
import re
import stat
import tomllib
from pathlib import Path

import pytest
from hostile_results import record
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from sqlalchemy.orm import Session

from bot.app import build_app, open_mailbox
from bot.demo import seed
from bot.intake.poll import poll_once
from bot.jobs.digest.mail import queue_digest
from bot.jobs.remind import queue_reminders
from bot.outgoing.mailer import OutboxDir
from bot.outgoing.outbox import flush_outbox
from config import Context
from config.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2021, 5, 9, 1, 0, tzinfo=dt.UTC)
SECRET = "s3cr3t-Passw0rd!"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")  # not inside a hex file name
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")


def test_the_whole_bot_keeps_its_files_private_and_its_logs_clean(
    tmp_path: Path, ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    settings_path = seed(tmp_path)  # the demo's dozen mails: forms with phones, addresses, a summary with photos
    with settings_path.open("a", encoding="utf-8") as out:
        out.write('\n[digest]\nto = ["kepu@example.org"]\n')
    env = {"SUBBOT_IMAP_PASSWORD": SECRET, "SUBBOT_SMTP_PASSWORD": SECRET}
    caplog.set_level(logging.DEBUG)
    settings = load_settings(settings_path, env)
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    app = build_app(settings, ctx)
    logging.getLogger("subbot.test").debug("settings: %s", settings)
    with open_mailbox(settings) as mailbox:
        report = poll_once(mailbox, app.engine, app.store, app.services, lambda: NOW, reply_backlog=True)
    with Session(app.engine) as session, session.begin():
        queue_reminders(session, app.ctx, app.services.letterhead, NOW)
        queue_digest(session, app.ctx, app.services.letterhead, ("kepu@example.org",), NOW)
    flush_outbox(app.engine, OutboxDir(tmp_path / "outbox"), settings.bot.from_address, lambda: NOW)
    assert report.processed == 12

    records = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert records, "the bot logs what it does"
    assert not [m for _, m in records if SECRET in m]
    personal = [
        m
        for level, m in records
        if level >= logging.INFO and (EMAIL.search(m) or MOBILE.search(m) or LANDLINE.search(m))
    ]
    assert personal == []

    data = settings.bot.data_dir
    stored = sorted(p for p in data.rglob("*"))
    assert any(p.suffix == ".eml" for p in stored) and any("media" in p.parts for p in stored)
    # Raw mail and attachments are the bot's user's alone; the ledger is SQLite's 0644 inside the 0700 folder.
    kept = [p for p in stored if p.relative_to(data).parts[0] in ("raw", "media")]
    shared = [
        f"{p.relative_to(data)} {stat.filemode(p.stat().st_mode)}" for p in [data, *kept] if p.stat().st_mode & 0o077
    ]
    assert shared == [], shared
    record(
        12,
        "Stored mail and logs",
        "the demo's 12 mails polled, reminders and a digest queued and written, with both passwords set",
        12,
        f"data folder 0700; its {len(kept)} raw-mail and attachment files and folders 0600/0700; {len(records)} log "
        "records, none with a password, none at INFO or above with an email address or phone number",
        lost=0,
    )


def _pins(lock: str) -> dict[str, list[str]]:
    pins: dict[str, list[str]] = {}
    current = ""
    for line in lock.splitlines():
        if match := re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line):
            current = str(canonicalize_name(match.group(1)))
            pins[current] = []
        elif match := re.search(r"--hash=sha256:([0-9a-f]{64})", line):
            pins[current].append(match.group(1))
    return pins


def test_the_image_installs_every_dependency_pinned_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = _pins((ROOT / "requirements.lock").read_text(encoding="utf-8"))
    wanted = {str(canonicalize_name(Requirement(spec).name)) for spec in project["dependencies"]}
    assert wanted <= set(pins), wanted - set(pins)
    assert all(hashes for hashes in pins.values()), [name for name, hashes in pins.items() if not hashes]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    locked = dockerfile.index("--require-hashes --only-binary=:all: -r requirements.lock")
    assert locked < dockerfile.index("pip install --no-cache-dir --no-deps .")  # the project adds nothing unpinned
    record(
        13,
        "Dependencies pinned with hashes",
        "requirements.lock (pip-compile --generate-hashes) checked against pyproject.toml and the Dockerfile",
        len(pins),
        f"{len(pins)} packages pinned with {sum(len(h) for h in pins.values())} hashes; the image installs them with "
        "--require-hashes, then the project with --no-deps",
    )
