"""Big mail is never held whole: the mailboxes copy a message over `spool_bytes` to a file in pieces (IMAP by
partial FETCH against a real Dovecot), and the reader decodes its photos and videos to files as the bytes go
by (parsers.spill). What the bot reads of a message must not depend on which way it came: every real and
golden mail, and mails built here with photos and videos in every place a client puts them, read the same."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import hashlib
import io
import os
import random
import re
import tempfile
import zipfile
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from imap_bot import DELIVERED, sent, write_settings
from imap_bot import Bot as ImapBot
from PIL import Image
from servers.dovecot import Dovecot
from servers.smtp import SmtpServer
from sqlalchemy import select
from sqlalchemy.orm import Session
from summary_files import exif, summary_docx
from test_summary import BJ, Bot, at, with_plans

from bot.demo import DOCX, samples, write_message
from bot.intake.evidence import media_info
from bot.intake.read import read_file
from bot.ledger.schema import DocumentRow
from bot.mailbox.imap import ImapMailbox
from bot.mailbox.maildir import MaildirMailbox
from bot.mailbox.spool import SPOOL_BYTES
from bot.outgoing.mailer import crlf
from bot.store.content import MEDIA, ContentStore
from bot.store.spills import SpillFolder, remove_abandoned
from config import Context
from parsers.message import Mail, parse_message
from parsers.spill import reduce_message

ROOT = Path(__file__).parent
CORPUS = ROOT / "corpus" / "eml"
REAL_MAILS = sorted([*CORPUS.glob("*.eml"), *(ROOT / "fixtures").rglob("*.eml")])
MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"


class FolderSink:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.opened: list[Path] = []

    def open(self, number: int) -> tuple[str, Any]:
        path = self.folder / f"{len(self.opened)}-{number}.part"
        self.opened.append(path)
        return str(path), path.open("wb")


def big_photo(seed: int, taken: dt.datetime | None = None, side: int = 400) -> bytes:
    """A JPEG of noise (bigger than the spill threshold once base64-encoded), with DateTimeOriginal if `taken`."""
    generator = random.Random(seed)
    image = Image.frombytes("RGB", (side, side), generator.randbytes(side * side * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=60, **({"exif": exif(taken)} if taken else {}))
    return out.getvalue()


def video(megabytes: float, seed: int = 0) -> bytes:
    return MP4_HEAD + random.Random(seed).randbytes(int(megabytes * (1 << 20)))


def reduced(raw: bytes, folder: Path, chunk: int = 1 << 16, **options: Any) -> tuple[Mail, FolderSink]:
    sink = FolderSink(folder)
    result = reduce_message((raw[i : i + chunk] for i in range(0, len(raw), chunk)), sink, "n0nce", **options)
    return parse_message(result.raw, spills=result.spills), sink


def view(mail: Mail) -> dict[str, Any]:
    """Everything read of a mail, attachments by what they hold rather than where it is kept."""
    fields = {f.name: getattr(mail, f.name) for f in dataclasses.fields(mail) if f.name != "attachments"}
    fields["attachments"] = [(a.name, a.content_type, a.kind, a.origin, a.size, a.sha256) for a in mail.attachments]
    return fields


def assert_spills_hold_their_parts(mail: Mail) -> None:
    for attachment in mail.attachments:
        if attachment.spill is not None:
            data = Path(attachment.spill.path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == attachment.sha256 and len(data) == attachment.size
            assert data.startswith(attachment.spill.head)


def padded(docx: bytes) -> bytes:
    """The same .docx with 200 KB of picture-like noise in word/media: over the spill threshold."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("word/media/padding.bin", random.Random(5).randbytes(200_000), zipfile.ZIP_STORED)
    return out.getvalue()


def summary_mail(*files: tuple[str, bytes], crlf: bool = True) -> bytes:
    message = EmailMessage(policy=email.policy.SMTP if crlf else email.policy.default)
    message["From"] = f"{BJ[0]} <{BJ[1]}>"
    message["To"] = "kepu@example.org"
    message["Subject"] = "北京石油学会活动总结"
    message["Message-ID"] = f"<big{random.randrange(10**9)}@example.com>"
    message.set_content("总结、照片和视频见附件。")
    for name, data in files:
        maintype, subtype = _types(name)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def _types(name: str) -> tuple[str, str]:
    return {
        "jpg": ("image", "jpeg"),
        "mp4": ("video", "mp4"),
        "docx": tuple(DOCX.split("/")),  # type: ignore[dict-item]
    }.get(name.rsplit(".", 1)[-1], ("application", "octet-stream"))


# --- the reader: the same mail whichever way it is read ---------------------------------------------------


@pytest.mark.parametrize("path", REAL_MAILS, ids=lambda p: p.name)
def test_every_real_and_golden_mail_reads_the_same_reduced(path: Path, tmp_path: Path) -> None:
    raw = path.read_bytes()
    whole = view(parse_message(raw))
    for chunk in (7, 4096, 1 << 20):  # pieces that split lines, \r\n pairs and boundaries anywhere
        mail, _ = reduced(raw, tmp_path, chunk, threshold=0)  # every photo and video spilled, however small
        assert view(mail) == whole
        assert_spills_hold_their_parts(mail)


def _forward(inner: bytes) -> bytes:
    outer = EmailMessage(policy=email.policy.SMTP)
    outer["From"] = f"{BJ[0]} <{BJ[1]}>"
    outer["Subject"] = "转发：活动照片"
    outer.set_content("转发的照片。")
    outer.add_attachment(email.message_from_bytes(inner, policy=email.policy.SMTP))
    return outer.as_bytes()


def _related(photo: bytes) -> bytes:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = f"{BJ[0]} <{BJ[1]}>"
    message["Subject"] = "正文里的照片"
    message.set_content("见图。")
    message.add_alternative('<p>见图：<img src="cid:p1"></p>', subtype="html")
    html_part = message.get_payload()[1]  # type: ignore[index]
    html_part.add_related(photo, maintype="image", subtype="jpeg", cid="<p1>")
    return message.as_bytes()


def _single_part(data: bytes) -> bytes:
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = f"{BJ[0]} <{BJ[1]}>"
    message["Subject"] = "视频"
    message.set_content(data, maintype="video", subtype="mp4", disposition="attachment", filename="现场.mp4")
    return message.as_bytes()


def _untidy(raw: bytes) -> bytes:
    """Base64 as careless clients write it: no padding, and the mail cut off before its closing boundary."""
    text = re.sub(rb"(?m)^([A-Za-z0-9+/]+)=+\r$", rb"\1\r", raw)
    assert text != raw
    cut = text.rindex(b"\r\n--")
    return text[:cut] + b"\r\n"


PHOTO = big_photo(1, dt.datetime(2021, 5, 28, 9, 30))
STRUCTURES = {
    "attachments": summary_mail(
        ("活动总结.docx", summary_docx("活动总结", "正文")), ("1.jpg", PHOTO), ("v.mp4", video(0.3))
    ),
    "lf line endings": summary_mail(("1.jpg", PHOTO), ("v.mp4", video(0.2)), crlf=False),
    "forwarded": _forward(summary_mail(("1.jpg", PHOTO), ("2.jpg", big_photo(2)))),
    "inline in html": _related(PHOTO),
    "a single part": _single_part(video(0.2)),
    "untidy base64": _untidy(summary_mail(("1.jpg", PHOTO + b"x"), ("2.jpg", big_photo(3) + b"yz"))),
}


@pytest.mark.parametrize("name", STRUCTURES)
def test_photos_and_videos_anywhere_in_a_mail_are_spilled_and_read_the_same(name: str, tmp_path: Path) -> None:
    raw = STRUCTURES[name]
    whole = parse_message(raw)
    for chunk in (13, 1 << 16):
        mail, sink = reduced(raw, tmp_path, chunk)
        assert view(mail) == view(whole)
        spilled = [a for a in mail.attachments if a.spill is not None]
        assert spilled and len(spilled) == len(sink.opened)
        assert all(a.data == b"" for a in spilled)
        assert_spills_hold_their_parts(mail)
        by_name = {a.name: a for a in whole.attachments}
        for attachment in spilled:  # the file holds exactly what the standard library decodes
            assert Path(attachment.spill.path).read_bytes() == by_name[attachment.name].data  # type: ignore[union-attr]


def test_files_are_spilled_but_small_ones_and_those_the_reader_opens_stay_in_the_mail(tmp_path: Path) -> None:
    document = summary_docx("活动总结", "正文", pictures=3)  # 100 KB or so: read by the sandbox from its file
    small = big_photo(4, side=40)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("照片1.jpg", big_photo(8))
    winmail = (ROOT / "fixtures" / "mail" / "outlook-winmail-dat.eml").read_bytes()
    files = (
        ("活动总结.docx", document),
        ("小.jpg", small),
        ("大.jpg", PHOTO),
        ("照片.zip", archive.getvalue()),  # unpacked by the reader: stays
        ("转发.eml", winmail + b"\r\n" * 40000),  # an attached message: stays
    )
    raw = summary_mail(*files)
    mail, sink = reduced(raw, tmp_path)
    assert [(a.name, a.kind, a.spill is not None) for a in mail.attachments] == [
        ("活动总结.docx", "docx", True),
        ("小.jpg", "image", False),
        ("大.jpg", "image", True),
        ("照片.zip", "zip", False),
        ("照片1.jpg", "image", False),  # from the zip
        # From the winmail.dat of the attached message: read in memory, as all of that message is.
        ("第五支部（堃园社区）活动筹备方案表.docx", "docx", False),
        ("说明.pdf", "pdf", False),
    ]
    assert view(mail) == view(parse_message(raw))
    assert mail.attachments[1].data == small and len(sink.opened) == 2


def test_multiparts_nested_past_the_readers_depth_are_copied_as_they_are(tmp_path: Path) -> None:
    raw = summary_mail(("1.jpg", PHOTO))
    for level in range(300):  # far past MAX_DEPTH (12)
        raw = (
            f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
            + raw
            + f"\r\n--b{level}--\r\n".encode()
        )
    raw = b"From: a@example.com\r\nSubject: deep\r\nMIME-Version: 1.0\r\n" + raw
    mail, sink = reduced(raw, tmp_path)
    assert view(mail) == view(parse_message(raw))
    assert sink.opened == []  # the photo lies deeper than the reader reads: nothing spilled, nothing lost


FUZZ_MAIL = summary_mail(("1.jpg", big_photo(9, side=120)), ("v.mp4", video(0.05)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cut=st.integers(0, len(FUZZ_MAIL)),
    at=st.integers(0, len(FUZZ_MAIL)),
    noise=st.binary(max_size=200),
    chunk=st.integers(1, 70_000),
)
def test_any_mangling_of_a_mail_is_reduced_and_read_without_an_exception(
    cut: int, at: int, noise: bytes, chunk: int, tmp_path: Path
) -> None:
    raw = (FUZZ_MAIL[:at] + noise + FUZZ_MAIL[at:])[:cut]
    mail, _ = reduced(raw, tmp_path, chunk, threshold=1024)
    assert isinstance(mail, Mail)
    assert_spills_hold_their_parts(mail)


def test_a_senders_own_marker_is_only_bytes(tmp_path: Path) -> None:
    # The marker a reduced mail carries, written by the sender into a file: without this read's nonce it
    # names no spilled part; the file is read as the bytes it is.
    forged = b"\0subbot-spill\0n0nce\0" + b"1\0"
    raw = summary_mail(("a.bin", forged), ("1.jpg", PHOTO))
    sink = FolderSink(tmp_path)
    result = reduce_message([raw], sink, "other")
    mail = parse_message(result.raw, spills=result.spills)
    assert [(a.name, a.data, a.spill is not None) for a in mail.attachments] == [
        ("a.bin", forged, False),
        ("1.jpg", b"", True),
    ]


def test_past_the_disk_limit_a_part_is_dropped_and_named(tmp_path: Path) -> None:
    raw = summary_mail(("1.jpg", PHOTO), ("2.jpg", big_photo(5)), ("v.mp4", video(0.2)))
    mail, sink = reduced(raw, tmp_path, max_spilled=len(PHOTO) + 1)  # the second starts under it, ends over it
    assert [a.name for a in mail.attachments] == ["1.jpg", "2.jpg"]
    assert len(sink.opened) == 2
    assert mail.problems == ("附件「v.mp4」未读取：邮件附件过大",)


def test_a_spilled_photo_is_dated_and_hashed_from_its_file(tmp_path: Path) -> None:
    with SpillFolder(tmp_path) as spool:
        path = tmp_path / "mail.eml"
        path.write_bytes(summary_mail(("1.jpg", PHOTO), ("v.mp4", video(0.2))))
        mail = read_file(path, frozenset(), frozenset(), spool)
        photo, clip = (media_info(a) for a in mail.attachments)
        assert (photo.kind, photo.format, photo.taken_at, photo.size) == (
            "photo",
            "JPEG",
            dt.datetime(2021, 5, 28, 9, 30),
            len(PHOTO),
        )
        assert photo.sha256 == hashlib.sha256(PHOTO).hexdigest()
        assert (clip.kind, clip.format) == ("video", "MP4")
        folder = Path(mail.attachments[0].spill.path).parent  # type: ignore[union-attr]
        assert folder.parent == tmp_path and oct(folder.stat().st_mode & 0o777) == "0o700"
    assert not folder.exists(), "the spool folder goes with the message"


def test_a_dead_processs_spool_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    dead = tmp_path / "spool-999999999-x"
    fetched = tmp_path / "fetch-999999999-y.eml"
    mine = tmp_path / f"spool-{os.getpid()}-z"
    for folder in (dead, mine):
        folder.mkdir()
    fetched.write_bytes(b"x")
    remove_abandoned(tmp_path)
    assert not dead.exists() and not fetched.exists() and mine.exists()


def test_a_spool_makes_its_folder_only_for_a_part_and_removes_it(tmp_path: Path) -> None:
    root = tmp_path / "spool"
    with SpillFolder(root):
        pass
    assert not root.exists()
    with SpillFolder(root) as spool:
        path, out = spool.open(1)
        out.write(b"photo")
        out.close()
        assert Path(path).read_bytes() == b"photo" and oct(Path(path).stat().st_mode & 0o777) == "0o600"
    assert list(root.iterdir()) == []


def test_a_spilled_file_is_linked_into_the_media_store_or_copied_from_another_file_system(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir(mode=0o700)
    store = ContentStore(tmp_path / "data", MEDIA)
    here = tmp_path / "spilled.jpg"
    here.write_bytes(PHOTO)
    linked = store.path(store.put_file(here, "a" * 64, ".jpg"))
    assert linked.read_bytes() == PHOTO and os.path.samefile(linked, here)
    assert oct(linked.parent.stat().st_mode & 0o777) == "0o700"
    with tempfile.TemporaryDirectory(dir="/dev/shm") as other:  # tmpfs: a file system of its own
        there = Path(other) / "spilled.jpg"
        there.write_bytes(PHOTO)
        if there.stat().st_dev == tmp_path.stat().st_dev:
            pytest.skip("no second file system here")
        copied = store.path(store.put_file(there, "b" * 64, ".jpg"))
        assert copied.read_bytes() == PHOTO and not os.path.samefile(copied, there)
        assert oct(copied.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in linked.parent.parent.rglob("*") if p.is_file()) == [
        f"{'a' * 64}.jpg",
        f"{'b' * 64}.jpg",
    ]


# --- the mailboxes: a big message copied to a file in pieces -----------------------------------------------


def test_imap_copies_big_messages_to_files_by_partial_fetch_in_order(
    dovecot: Dovecot, imap_user: str, tmp_path: Path
) -> None:
    small = summary_mail(("1.jpg", big_photo(6)))
    big = summary_mail(("v.mp4", video(9)))  # 12 MB in base64: over 8 MB, and more than two 4 MB pieces
    raws = [small, big, small.replace(b"big", b"bag"), big.replace(b"big", b"bog")]
    dovecot.append_many(imap_user, raws)
    settings = dataclasses.replace(dovecot.settings(imap_user), spool_dir=str(tmp_path))
    seen: list[tuple[bool, bytes]] = []
    with ImapMailbox(settings) as box:
        for fetched in box.fetch(box.list_refs()):
            spooled = fetched.spooled
            if spooled is not None:
                assert spooled.parent == tmp_path and oct(spooled.stat().st_mode & 0o777) == "0o600"
                assert fetched.size == spooled.stat().st_size
            seen.append((spooled is not None, spooled.read_bytes() if spooled else fetched.raw))
            # The file of the message before is gone once the next is asked for.
            assert len(list(tmp_path.iterdir())) == (1 if spooled else 0)
    assert len(big) > SPOOL_BYTES > len(small)
    assert seen == [(False, raws[0]), (True, raws[1]), (False, raws[2]), (True, raws[3])]
    assert list(tmp_path.iterdir()) == []


def test_maildir_copies_big_messages_to_files(tmp_path: Path) -> None:
    inbox = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True)
    raws = [summary_mail(("1.jpg", PHOTO)), summary_mail(("v.mp4", video(0.5)))]
    for number, raw in enumerate(raws):
        (inbox / "new" / f"{number}.host").write_bytes(raw)
    spool = tmp_path / "spool"
    with MaildirMailbox(inbox, spool_dir=spool, spool_bytes=len(raws[1]) - 1) as box:
        got = [
            (f.spooled is not None, f.spooled.read_bytes() if f.spooled else f.raw) for f in box.fetch(box.list_refs())
        ]
    assert sorted(got) == sorted([(False, raws[0]), (True, raws[1])])
    assert list(spool.iterdir()) == []


# --- end to end: a summary with a video and photos, bigger than the spool size --------------------------------


def test_a_big_summary_is_stored_and_answered_without_being_held(tmp_path: Path, ctx: Context) -> None:
    bot: Bot = with_plans(tmp_path, ctx)
    photos = [big_photo(10 + n, dt.datetime(2021, 5, 28, 9, n)) for n in range(3)]
    clip = video(9, seed=7)
    files = [
        ("活动总结.docx", summary_docx(f"“{BJ[2]}”活动总结", "5月28日，我会举办报告会，150余人参加。")),
        *((f"IMG_{n}.jpg", data) for n, data in enumerate(photos)),
        ("IMG_0(1).jpg", photos[0]),  # the same photo twice: counted once
        ("现场视频.mp4", clip),
    ]
    bot.send(BJ[:2], "北京石油学会活动总结", at(6, 10), "总结、照片和视频见附件。", *files)
    raw = (bot.inbox / "new" / f"{bot.count}.test").read_bytes()
    assert len(raw) > SPOOL_BYTES

    (reply,) = bot.poll(at(6, 10, 11))

    assert "已收到" in reply.reply["Subject"]
    assert "- 照片：3 张（另有 1 张与已收到的照片相同，只计一次）" in reply.text and "- 视频：1 个" in reply.text
    message = bot.last_message()
    assert (message.deliverable, message.verdict, message.size) == ("summary", "accepted", len(raw))
    assert (bot.settings.bot.data_dir / message.raw_path).read_bytes() == raw
    rows = bot.media(message)
    data_dir = bot.settings.bot.data_dir
    assert [(r.kind, r.name) for r in rows] == [("document", "活动总结.docx")] + [
        ("photo", n) for n, _ in files[1:5]
    ] + [("video", "现场视频.mp4")]
    for row, (_, data) in zip(rows, files, strict=True):
        assert row.size == len(data) and row.sha256 == hashlib.sha256(data).hexdigest()
        assert row.stored_path and (data_dir / row.stored_path).read_bytes() == data
    assert [r.taken_at for r in rows[1:4]] == [dt.datetime(2021, 5, 28, 9, n) for n in range(3)]
    assert rows[4].duplicate_of == rows[1].id
    assert list((data_dir / "spool").iterdir()) == []


def test_a_big_plan_mail_polled_from_dovecot_is_read_from_its_spool_and_answered(
    dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, ctx: Context, tmp_path: Path
) -> None:
    plan = samples()[0]  # the demo's first branch, its plan rightly filled
    (name, form, content_type), *_ = plan.files
    form = padded(form)  # big enough to be spilled, so the worker reads it from its file
    clip = video(9, seed=3)
    files = ((name, form, content_type), ("现场.mp4", clip, "video/mp4"))
    # With CRLF line ends, as an IMAP server keeps and hands out a message.
    raw = crlf(write_message(dataclasses.replace(plan, files=files)))
    assert len(raw) > SPOOL_BYTES
    dovecot.append(imap_user, raw, internal_date=DELIVERED)

    bot = ImapBot(write_settings(tmp_path, dovecot, imap_user, smtp_server), ctx)
    try:
        report, flushed = bot.poll()
    finally:
        bot.close()

    assert (report.processed, report.failed, flushed.sent) == (1, 0, 1)
    (message,) = bot.messages()
    data_dir = bot.settings.bot.data_dir
    assert message.size == len(raw) and (data_dir / message.raw_path).read_bytes() == raw
    with Session(bot.app.engine) as session:
        documents = session.execute(select(DocumentRow).order_by(DocumentRow.position)).scalars().all()
        assert [(d.name, d.kind, d.verdict, d.size) for d in documents] == [(name, "docx", "accepted", len(form))]
        assert documents[0].sha256 == hashlib.sha256(form).hexdigest()
    with SpillFolder(tmp_path / "check") as spool:  # both files were spilled as the mail was read
        again = read_file(data_dir / message.raw_path, frozenset(), frozenset(), spool)
        assert [(a.name, a.spill is not None) for a in again.attachments] == [(name, True), ("现场.mp4", True)]
    (reply,) = sent(smtp_server)
    assert reply.in_reply_to == parse_message(raw).message_id
    assert list((data_dir / "spool").iterdir()) == []
