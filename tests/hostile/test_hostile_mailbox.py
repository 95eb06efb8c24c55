"""Hostile mail through the whole bot on a Maildir (poll, ledger, replies to the outbox, the digest): a forged
roster sender is held for staff, not answered; nothing a sender names reaches a header of a reply, a path
on disk, or the HTML staff read unescaped."""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import io
import os
import zipfile
from dataclasses import replace
from pathlib import Path

from hostile_results import record
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App, build_app, open_mailbox
from bot.demo import samples, summary_document, write_message
from bot.intake.poll import poll_once
from bot.jobs.digest.model import build_digest
from bot.jobs.digest.query import read_snapshot
from bot.jobs.digest.view import render_digest
from bot.ledger.schema import ActivityRow, DocumentRow, FindingRow, MessageRow, ReplyRow
from bot.outgoing.mailer import OutboxDir
from bot.outgoing.outbox import flush_outbox
from config import Context
from config.settings import load_settings

NOW = dt.datetime(2021, 5, 9, 1, 0, tzinfo=dt.UTC)
FORGED = "mx.society.org.cn; dkim=none; spf=fail smtp.mailfrom=example.com; dmarc=fail header.from=example.com"
GENUINE = "mx.society.org.cn; dkim=pass header.d=example.com; spf=pass smtp.mailfrom=example.com; dmarc=pass"
SCRIPT = '<script>alert("x")</script>'
IMG = "<img src=x onerror=alert(1)>"


def _encoded(text: str) -> str:
    return "=?utf-8?B?" + base64.b64encode(text.encode()).decode() + "?="


def _setup(folder: Path, mails: list[bytes], mailbox_extra: str = "") -> Path:
    inbox = folder / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    arrived = dt.datetime(2021, 5, 1, 10, 0, tzinfo=dt.UTC).timestamp()
    for number, raw in enumerate(mails):
        path = inbox / "new" / f"{int(arrived) + number}.{number:03d}.hostile"
        path.write_bytes(raw)
        os.utime(path, (arrived + number, arrived + number))
    settings = folder / "bot.toml"
    settings.write_text(
        f'[bot]\ndata_dir = "{folder / "data"}"\nfrom_address = "kepu@example.org"\n\n'
        f'[mailbox]\ntype = "maildir"\npath = "{inbox}"\n{mailbox_extra}\n'
        f'[smtp]\ntype = "outbox"\noutbox_dir = "{folder / "outbox"}"\n',
        encoding="utf-8",
    )
    return settings


def _poll(settings_path: Path, ctx: Context) -> App:
    app = build_app(load_settings(settings_path, {}), ctx)
    with open_mailbox(app.settings) as mailbox:
        report = poll_once(mailbox, app.engine, app.store, app.services, lambda: NOW, reply_backlog=True)
    assert report.failed == 0
    flush_outbox(app.engine, OutboxDir(settings_path.parent / "outbox"), "kepu@example.org", lambda: NOW)
    return app


def _beijing(headers: tuple[tuple[str, str], ...], subject: str = "报送筹备方案") -> bytes:
    """The demo's first mail (北京石油学会, an accepted form) with these headers added."""
    return write_message(replace(samples()[0], subject=subject, headers=headers))


def _outbox(folder: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for p in sorted((folder / "outbox").glob("*.eml"))
    ]


def _digest_html(app: App) -> str:
    with Session(app.engine) as session:
        snapshot = read_snapshot(session, app.roster, NOW)
    return render_digest(build_digest(snapshot, app.roster, app.campaign, NOW), app.services.letterhead.renderer).html


def test_a_forged_roster_sender_is_held_for_staff_and_the_genuine_one_answered(tmp_path: Path, ctx: Context) -> None:
    forged = _beijing((("Authentication-Results", FORGED),), "冒名的筹备方案")
    genuine = _beijing((("Authentication-Results", GENUINE),))
    settings = _setup(tmp_path, [forged, genuine])
    app = _poll(settings, ctx)
    with Session(app.engine) as session:
        rows = {m.subject: m for m in session.execute(select(MessageRow)).scalars()}
        held, real = rows["冒名的筹备方案"], rows["报送筹备方案"]
        assert (held.kind, held.branch, held.verdict) == ("unauthenticated", None, None)
        assert (real.kind, real.branch, real.verdict) == ("submission", "北京石油学会", "accepted")
        codes = session.execute(select(FindingRow.code).where(FindingRow.message_pk == held.id)).scalars().all()
        assert codes == ["sender_unauthenticated"]
        # Nothing of the forged mail is taken as the branch's: no documents, no activities, no reply.
        assert not session.execute(select(DocumentRow).where(DocumentRow.message_pk == held.id)).first()
        assert not session.execute(select(ActivityRow).where(ActivityRow.message_pk == held.id)).first()
        replies = session.execute(select(ReplyRow.message_pk, ReplyRow.kind)).all()
    assert replies == [(real.id, "ack")]
    assert [str(m["Subject"]).split("（")[0] for m in _outbox(tmp_path)] == ["回复：报送筹备方案"]
    html = _digest_html(app)
    assert "疑似冒名（发件人未通过验证）" in html and "冒名的筹备方案" in html
    record(
        9,
        "A From claiming a roster address that DKIM/SPF/DMARC failed",
        "the 北京石油学会 form sent twice: once with the receiving server's Authentication-Results saying "
        "dmarc=fail, once saying pass",
        2,
        "the forged one is recorded as unauthenticated, credited to no branch, not answered, and set aside in "
        "the digest (疑似冒名); the genuine one is accepted and acknowledged",
        lost=0,
    )


def test_only_the_configured_servers_results_count(tmp_path: Path, ctx: Context) -> None:
    # A relay's pass on top, the mailbox's own server's failure below: only the latter is trusted.
    headers = (("Authentication-Results", "relay.example; dmarc=pass"), ("Authentication-Results", FORGED))
    raw = _beijing(headers)
    held = _poll(_setup(tmp_path / "configured", [raw], 'authserv_ids = ["mx.society.org.cn"]'), ctx)
    topmost = _poll(_setup(tmp_path / "topmost", [raw]), ctx)
    with Session(held.engine) as a, Session(topmost.engine) as b:
        assert a.execute(select(MessageRow.kind)).scalar_one() == "unauthenticated"
        assert b.execute(select(MessageRow.kind)).scalar_one() == "submission"


def test_a_mail_without_results_or_from_outside_the_roster_is_not_held(tmp_path: Path, ctx: Context) -> None:
    stranger = write_message(
        replace(
            samples()[0], sender="某人", address="someone@evil.example", headers=(("Authentication-Results", FORGED),)
        )
    )
    app = _poll(_setup(tmp_path, [_beijing(()), stranger]), ctx)
    with Session(app.engine) as session:
        kinds = sorted(session.execute(select(MessageRow.kind, MessageRow.matched_by)).all(), key=str)
    # The stranger is known by the organiser its form names, as before: only a claimed address is checked.
    assert kinds == [("submission", "address"), ("submission", "organiser")]


def _raw_mail(headers: list[str], files: list[tuple[str, bytes]], body: str = "方案见附件") -> bytes:
    """A mail written by hand, so that headers and file names can be as broken as a sender makes them."""
    lines = [*headers, "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="b"', ""]
    lines += ["--b", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", ""]
    lines.append(base64.b64encode(body.encode()).decode())
    for header, data in files:
        lines += ["--b", "Content-Type: application/octet-stream", header, "Content-Transfer-Encoding: base64", ""]
        lines.append(base64.encodebytes(data).decode())
    lines.append("--b--")
    return "\r\n".join(lines).encode("utf-8", "surrogateescape")


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


HOSTILE_NAMES = [
    "../../../../tmp/evil.docx",
    "/etc/cron.d/evil.pdf",
    "C:\\Windows\\System32\\evil.docx",
    "..\\..\\evil.doc",
    "a\x00b.docx",
    "\x1b[31mred\x07.pdf",
    "..",
    ".",
    "x" * 5000 + ".docx",
    f"{SCRIPT}.docx",
    f"{IMG}.pdf",
]


def test_hostile_headers_and_file_names_reach_no_reply_header_no_path_and_no_unescaped_html(
    tmp_path: Path, ctx: Context
) -> None:
    form = samples()[0].files[0][1]
    injected = "方案\r\nBcc: victim@evil.example\r\nX-Injected: 1"
    headers = [
        f"From: {_encoded('张三' + chr(13) + chr(10) + 'Bcc: victim@evil.example')} <bjsyxh@example.com>",
        "To: kepu@example.org",
        f"Subject: {_encoded(injected + SCRIPT)}",
        "Date: Sat, 01 May 2021 18:00:00 +0800",
        "Message-ID: <hostile.1@example.com>",
    ]
    files = [
        (f'Content-Disposition: attachment; filename="{_encoded(name)}"', b"%PDF-1.4 junk") for name in HOSTILE_NAMES
    ]
    files.append(("Content-Disposition: attachment; filename*=utf-8''%0D%0AX-Injected%3A%201.docx", b"PK junk"))
    files.append(('Content-Disposition: attachment; filename="../../form.docx"', form))
    zipped = {"../../zip-slip.docx": form, "/abs/zip.pdf": b"%PDF-1.4", f"{IMG}.docx": b"PK"}
    files.append(('Content-Disposition: attachment; filename="../archive.zip"', _zip(zipped)))
    summary = summary_document("活动总结", f"{SCRIPT}活动顺利举办")
    summary_mail = _raw_mail(
        [*headers[:2], f"Subject: {_encoded('活动总结' + injected)}", "Message-ID: <hostile.2@example.com>"],
        [(f'Content-Disposition: attachment; filename="{_encoded("../../" + IMG + "总结.docx")}"', summary)],
    )
    before = {p for p in tmp_path.parent.rglob("*")}
    settings = _setup(tmp_path, [_raw_mail(headers, files), summary_mail])
    app = _poll(settings, ctx)

    # Nothing written outside the folders the bot was given, and nothing there under a sender's name.
    written = {p for p in tmp_path.parent.rglob("*")} - before
    assert written and all(p.is_relative_to(tmp_path) for p in written)
    for path in written:
        assert not any(bad in path.name for bad in ("evil", "zip-slip", "form.docx", "<", "\x00"))
        assert path.relative_to(tmp_path).parts[0] in ("data", "outbox", "inbox", "bot.toml")

    replies = _outbox(tmp_path)
    assert len(replies) == 2
    for reply in replies:
        assert sorted(reply.keys()) == sorted(
            [
                "Content-Type",
                "MIME-Version",
                "From",
                "To",
                "Subject",
                "Date",
                "Message-ID",
                "In-Reply-To",
                "References",
                "Auto-Submitted",
                "X-Auto-Response-Suppress",
                "X-Subbot-Reply",
            ]
        )
        assert reply["To"] == "bjsyxh@example.com"
        assert "\n" not in str(reply["Subject"]) and "Bcc" in str(reply["Subject"])  # kept as text, one line
        html = next(p for p in reply.walk() if p.get_content_type() == "text/html").get_content()
        assert "<script" not in html and "<img" not in html
    with Session(app.engine) as session:
        names = session.execute(select(DocumentRow.name)).scalars().all()
    assert names and not any(ch in name for name in names for ch in "/\\\x00\r\n\x1b")
    digest = _digest_html(app)
    assert "<script" not in digest and "<img" not in digest
    assert "&lt;script&gt;" in digest
    record(
        10,
        "CR/LF, paths and HTML in headers and file names",
        f"encoded CR/LF in Subject and From name, {len(HOSTILE_NAMES) + 3} attachments named with ../, absolute "
        "and Windows paths, NUL and escape characters, <script> and <img>, a zip with ../ members, a summary",
        2,
        "replies carry exactly the headers the bot writes, to the one From address; nothing is written outside the "
        "data, outbox and inbox folders, nor under a sender's name; reply and digest HTML show the tags escaped",
        lost=0,
    )
