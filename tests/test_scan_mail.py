"""A photographed or scanned plan form by mail: read by OCR in the sandbox's worker (two readings: a cheap one
that finds a picture of a page, then OCR under limits of its own), accepted with the 「请人工核对」 warnings in
the receipt, and set aside in the digest for a person to check against the picture until staff say 已处理.
Photos of a summary are never taken for a form. Runs on the demo's Maildir, as the demo does."""

from __future__ import annotations

import datetime as dt
import email
from email.message import Message
from pathlib import Path

import pytest
from scan_pages import Page, make_pages, tools_missing
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import App, build_app, open_mailbox
from bot.cli import main
from bot.demo import Sample, seed
from bot.intake.poll import poll_once
from bot.jobs.digest.model import Digest, build_digest
from bot.jobs.digest.query import read_snapshot
from bot.ledger.schema import FindingRow, MessageRow
from bot.outgoing.mailer import OutboxDir
from bot.outgoing.outbox import flush_outbox
from config import Context
from config.settings import load_settings
from parsers.scan import ocr_available

pytestmark = pytest.mark.skipif(not ocr_available(), reason="the ocr extra is not installed (pip install -e '.[dev]')")

ARRIVED = dt.datetime(2021, 5, 4, 2, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2021, 5, 5, 1, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Page]:
    assert not tools_missing(), "run `make system-deps`"
    folder = tmp_path_factory.mktemp("mailed-scans")
    return {page.variant: page for page in make_pages(folder, ("photo", "pdf"))}


def _mail(address: str, subject: str, files: tuple[tuple[str, bytes, str], ...], minutes: int) -> Sample:
    return Sample("王老师", address, subject, ARRIVED + dt.timedelta(minutes=minutes), "您好，附件是我们的方案，请查收。", files)


def _run(folder: Path, ctx: Context, extra: list[Sample]) -> App:
    settings_path = seed(folder, extra)
    app = build_app(load_settings(settings_path, {}), ctx)
    with open_mailbox(app.settings) as mailbox:
        poll_once(mailbox, app.engine, app.store, app.services, lambda: NOW, reply_backlog=True)
    flush_outbox(app.engine, OutboxDir(folder / "outbox"), app.settings.bot.from_address, lambda: NOW)
    return app


def _reply_to(folder: Path, address: str) -> Message:
    found = [m for p in sorted((folder / "outbox").glob("*.eml")) if address in (m := email.message_from_bytes(p.read_bytes()))["To"]]
    assert len(found) == 1, [m["Subject"] for m in found]
    return found[0]


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def _digest(app: App) -> Digest:
    with Session(app.engine) as session:
        snapshot = read_snapshot(session, app.roster, NOW)
    return build_digest(snapshot, app.roster, app.campaign, NOW)


def test_a_phone_photo_and_a_scanned_pdf_are_accepted_as_read_and_set_aside_until_staff_check_them(
    tmp_path: Path, ctx: Context, pages: dict[str, Page]
) -> None:
    photo, scan = pages["photo"], pages["pdf"]
    organiser = photo.activities[0]["organiser"]
    branch = ctx.roster.find_by_name(organiser)
    assert branch is not None, organiser
    summary_photos = tuple((f"现场{i}.jpg", photo.data, "image/jpeg") for i in range(2))
    extra = [
        _mail("zhang.photo@qq.com", "筹备方案（手机拍照）", ((photo.name, photo.data, "image/jpeg"),), 0),
        _mail("li.scan@163.com", "筹备方案扫描件", ((scan.name, scan.data, "application/pdf"),), 1),
        # The same picture in a mail that says it is a summary: photos of the activity, never read as a form.
        _mail("li.scan@163.com", "活动总结照片", summary_photos, 2),
    ]
    app = _run(tmp_path, ctx, extra)

    with Session(app.engine) as session:
        rows = {m.subject: m for m in session.execute(select(MessageRow)).scalars()}
        codes = {
            subject: {f.code for f in session.execute(select(FindingRow).where(FindingRow.message_pk == row.id)).scalars()}
            for subject, row in rows.items()
        }
    for subject in ("筹备方案（手机拍照）", "筹备方案扫描件"):
        row = rows[subject]
        assert (row.verdict, row.branch, row.matched_by) == ("accepted", branch.name, "organiser"), subject
        assert "read_by_ocr" in codes[subject]
    assert "read_by_ocr" not in codes["活动总结照片"] and rows["活动总结照片"].deliverable == "summary"

    receipt = _text(_reply_to(tmp_path, "zhang.photo@qq.com"))
    assert "本表为扫描件或照片，内容由系统识别读取" in receipt
    assert photo.activities[0]["title"] in receipt  # the values read, listed for the branch to check

    # The newest of the branch's two OCR-read versions is set aside for a person, with the line that clears it.
    newest = rows["筹备方案扫描件"]
    aside = [x for x in _digest(app).set_aside if x.reason == "read_by_ocr"]
    assert [(x.message_pk, x.resolve) for x in aside] == [(newest.id, f"已处理 {newest.receipt}")]

    assert main(["--settings", str(tmp_path / "bot.toml"), "--now", NOW.isoformat(), "done", str(newest.receipt)]) == 0
    assert not [x for x in _digest(app).set_aside if x.reason == "read_by_ocr"]
