"""Activity summaries end to end: real mails (a .docx or PDF summary, JPEG/PNG/HEIC photos with and without
EXIF dates, repeats, a video, press and cloud-drive links) delivered to a Maildir, polled into a real SQLite
ledger, answered through the outbox; and the pure parts (media, links, matching, stages) on their own."""

from __future__ import annotations

import datetime as dt
import email
import html
import io
import os
import re
import zipfile
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from summary_files import exif, noise_photo, photo, summary_docx

from bot.app import App, build_app, open_mailbox, open_mailer
from bot.demo import DOCX, filled_entry, seed
from bot.forms.check import CheckResult
from bot.forms.layout import form_layout
from bot.intake.decide import which_deliverable
from bot.intake.evidence import summary_document
from bot.intake.poll import poll_once
from bot.ledger.schema import ActivityRow, FindingRow, MediaRow, MessageRow, ReplyRow
from bot.ledger.status import activity_progress, progress_of
from bot.outgoing.outbox import flush_outbox
from bot.summary.match import match_activities
from bot.summary.records import Planned
from config import Context
from config.settings import load_settings
from parsers.form_writer import FormEntry, write_form
from parsers.links import classify_link
from parsers.media import exif_date, media_kind, read_media, taken_at
from parsers.message import parse_message
from parsers.records import PlanRead, Unreadable

ZONE = dt.timezone(dt.timedelta(hours=8))
PDF_SUMMARY = Path(__file__).parent / "fixtures" / "summary" / "summary.pdf"
# An MP4's first box, as phones write it: what the bot needs to see to call it a video.
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00\x00\x00\x08free" + bytes(4000)
WECHAT = "https://mp.weixin.qq.com/s/Xk2pQ7-kepu2021"
BAIDU = "https://pan.baidu.com/s/1AbCdEfG?pwd=k8s2"
SIGNATURE = "https://mail.163.com/dashi/dlpro.html?from=mail81"
BJ = ("北京石油学会", "bjsyxh@example.com", "老科学家精神宣讲报告会")
DIZHI = ("地质专委会 张堃", "dizhi.zwh@example.com")


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2021, month, day, hour, 0, tzinfo=ZONE)


@dataclass(frozen=True)
class Outgoing:
    reply: EmailMessage

    @property
    def text(self) -> str:
        part = self.reply.get_body(("plain",))
        assert part is not None
        return str(part.get_content())

    @property
    def html(self) -> str:
        part = self.reply.get_body(("html",))
        assert part is not None
        return str(part.get_content())


class Bot:
    """The demo's settings (a Maildir and an outbox folder) with an empty inbox, polled at chosen times."""

    def __init__(self, folder: Path, ctx: Context) -> None:
        self.settings = load_settings(seed(folder), {})
        self.inbox = folder / "inbox"
        for demo in (self.inbox / "new").iterdir():
            demo.unlink()
        self.app: App = build_app(self.settings, ctx)
        self.count = 0

    def send(
        self, who: tuple[str, str], subject: str, arrived: dt.datetime, body: str, *files: tuple[str, bytes]
    ) -> None:
        message = EmailMessage()
        message["From"] = f"{who[0]} <{who[1]}>"
        message["To"] = "kepu@example.org"
        message["Subject"] = subject
        message["Date"] = format_datetime(arrived)
        self.count += 1
        message["Message-ID"] = f"<m{self.count}@{who[1].partition('@')[2]}>"
        message.set_content(body)
        for name, data in files:
            maintype, subtype = _content_type(name)
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        path = self.inbox / "new" / f"{self.count}.test"
        path.write_bytes(message.as_bytes())
        os.utime(path, (arrived.timestamp(), arrived.timestamp()))

    def poll(self, now: dt.datetime) -> list[Outgoing]:
        outbox = self.settings.smtp.outbox_dir
        before = set(outbox.glob("*.eml")) if outbox.exists() else set()
        with open_mailbox(self.settings) as mailbox:
            report = poll_once(
                mailbox, self.app.engine, self.app.store, self.app.services, lambda: now, reply_backlog=True
            )
        assert report.failed == 0
        flush_outbox(self.app.engine, open_mailer(self.settings), self.settings.bot.from_address, lambda: now)
        new = sorted(set(outbox.glob("*.eml")) - before)
        return [Outgoing(email.message_from_bytes(p.read_bytes(), policy=policy.default)) for p in new]

    def last_message(self) -> MessageRow:
        with Session(self.app.engine) as session:
            return session.execute(select(MessageRow).order_by(MessageRow.id.desc()).limit(1)).scalar_one()

    def media(self, message: MessageRow) -> list[MediaRow]:
        with Session(self.app.engine) as session:
            query = select(MediaRow).where(MediaRow.message_pk == message.id).order_by(MediaRow.position)
            return list(session.execute(query).scalars())

    def codes(self, message: MessageRow) -> list[tuple[str, str]]:
        with Session(self.app.engine) as session:
            query = select(FindingRow.severity, FindingRow.code).where(FindingRow.message_pk == message.id)
            return [(severity, code) for severity, code in session.execute(query)]

    def activities(self) -> dict[str, ActivityRow]:
        with Session(self.app.engine) as session:
            rows = session.execute(select(ActivityRow).where(ActivityRow.current.is_(True))).scalars()
            return {row.title: row for row in rows}


def _content_type(name: str) -> tuple[str, str]:
    extension = name.rsplit(".", 1)[-1].lower()
    types = {
        "jpg": ("image", "jpeg"),
        "png": ("image", "png"),
        "heic": ("image", "heic"),
        "mp4": ("video", "mp4"),
        "pdf": ("application", "pdf"),
        "docx": tuple(DOCX.split("/")),
    }
    maintype, subtype = types.get(extension, ("application", "octet-stream"))
    return maintype, subtype


def _entry(organiser: str, title: str, time: str) -> FormEntry:
    return filled_entry(organiser, title, time, modules=("团结引领",), plan="一、活动主题：众心向党，自立自强。")


@pytest.fixture
def bot(tmp_path: Path, ctx: Context) -> Bot:
    return with_plans(tmp_path, ctx)


def with_plans(folder: Path, ctx: Context) -> Bot:
    """Two branches whose plans were accepted: 北京石油学会 (one activity on 28 May) and the geology
    committee (12–14 May and 8 June)."""
    bot = Bot(folder, ctx)
    layout = form_layout(ctx.campaign)
    bj = write_form(layout, [_entry("北京石油学会", BJ[2], "第二阶段；5月28日")])
    dizhi = write_form(
        layout,
        [
            _entry("石油地质专业委员会", "地质科普进校园", "第一阶段；5月12日—5月14日"),
            _entry("石油地质专业委员会", "青年地质工作者座谈会", "第三阶段；6月8日"),
        ],
    )
    bot.send(BJ[:2], "活动筹备方案", at(4, 28), "方案见附件。", ("筹备方案.docx", bj))
    bot.send(DIZHI, "地质专委会活动方案", at(4, 30), "两项活动。", ("方案.docx", dizhi))
    replies = bot.poll(at(5, 1))
    assert sorted(r.reply["Subject"].rsplit("（", 1)[1] for r in replies) == [
        "已收到，回执号 P2021-0001）",
        "已收到，回执号 P2021-0002）",
    ]
    assert all("我们读取到以下" in r.text for r in replies)  # plan acks, from the plan templates
    return bot


RED, GREEN, BLUE, GREY = (200, 30, 30), (30, 200, 30), (30, 30, 200), (120, 120, 120)


def test_a_full_summary_is_acknowledged_with_each_photo_counted_once_and_its_activity_summarised(bot: Bot) -> None:
    red = photo(RED, dt.datetime(2021, 5, 28, 9, 30))
    files = (
        ("活动总结.docx", summary_docx(f"“{BJ[2]}”活动总结", "5月28日，我会举办报告会，150余人参加。")),
        ("IMG_0001.jpg", red),
        ("IMG_0001(1).jpg", red),  # the same photo attached twice
        ("合影.png", photo(GREEN)),  # no EXIF: no warning
        ("IMG_0002.heic", photo(BLUE, dt.datetime(2021, 5, 28, 11, 0), "HEIC")),
        ("现场视频.mp4", MP4),
    )
    body = f"叶老师好：\n总结和照片见附件。公众号报道：{WECHAT}\n更多照片：{BAIDU} 提取码 k8s2\n\n发自网易邮箱大师 {SIGNATURE}"
    bot.send(BJ[:2], "北京石油学会活动总结", at(6, 10), body, *files)
    (reply,) = bot.poll(at(6, 10, 11))

    assert reply.reply["Subject"] == "回复：北京石油学会活动总结（已收到，回执号 S2021-0003）"
    text = reply.text
    assert "收到您报送的活动总结，回执号 S2021-0003" in text
    assert "- 活动总结：「活动总结.docx」" in text
    assert "- 照片：3 张（另有 1 张与已收到的照片相同，只计一次）" in text
    assert "- 视频：1 个" in text
    assert f"- 链接 2 个：\n  媒体报道：{WECHAT}\n  网盘：{BAIDU}\n" in text
    assert SIGNATURE not in text
    assert f"已登记为以下活动的总结：\n1. {BJ[2]}（5月28日）" in text
    assert "供您参考" not in text  # no warnings: both dated photos were taken on the day
    assert f'<a href="{WECHAT}">' in reply.html and "另有 1 张与已收到的照片相同" in reply.html

    message = bot.last_message()
    assert (message.deliverable, message.verdict, message.late) == ("summary", "accepted", False)
    rows = bot.media(message)
    assert [(r.kind, r.name) for r in rows] == [
        ("document", "活动总结.docx"),
        ("photo", "IMG_0001.jpg"),
        ("photo", "IMG_0001(1).jpg"),
        ("photo", "合影.png"),
        ("photo", "IMG_0002.heic"),
        ("video", "现场视频.mp4"),
        ("link", WECHAT),
        ("link", BAIDU),
    ]
    assert rows[2].duplicate_of == rows[1].id and all(r.duplicate_of is None for r in rows if r is not rows[2])
    assert rows[2].stored_path == rows[1].stored_path
    assert [r.taken_at for r in rows[1:5]] == [
        dt.datetime(2021, 5, 28, 9, 30),
        dt.datetime(2021, 5, 28, 9, 30),
        None,
        dt.datetime(2021, 5, 28, 11, 0),
    ]
    data_dir = bot.settings.bot.data_dir
    for row, (_, data) in zip(rows[:6], files, strict=True):
        assert row.stored_path and (data_dir / row.stored_path).read_bytes() == data
        assert row.size == len(data)
    assert rows[4].stored_path is not None and rows[4].stored_path.endswith(".heic")
    assert rows[6].stored_path is None and rows[6].sha256 is None

    activities = bot.activities()
    assert activities[BJ[2]].summary_pk == message.id
    assert activities["地质科普进校园"].summary_pk is None
    with Session(bot.app.engine) as session:
        stages = {s.title: s.progress for s in activity_progress(session, at(6, 10, 12), ZONE)}
    assert stages == {BJ[2]: "summarised", "地质科普进校园": "held", "青年地质工作者座谈会": "held"}
    with Session(bot.app.engine) as session:
        stages = {s.title: s.progress for s in activity_progress(session, at(6, 1), ZONE)}
    assert stages["青年地质工作者座谈会"] == "planned"


def test_a_pdf_summary_with_a_photo_taken_on_another_day_is_accepted_with_a_warning(bot: Bot) -> None:
    files = (
        ("活动总结.pdf", PDF_SUMMARY.read_bytes()),
        ("DSC_0420.jpg", photo(RED, dt.datetime(2021, 5, 20, 15, 0))),
        ("DSC_0428.jpg", photo(GREEN, dt.datetime(2021, 5, 28, 10, 0))),
    )
    bot.send(BJ[:2], "活动总结", at(6, 19), "请查收。", *files)
    (reply,) = bot.poll(at(6, 19, 11))
    text = reply.text
    assert "已收到" in reply.reply["Subject"]
    assert "- 活动总结：「活动总结.pdf」" in text and "- 照片：2 张\n" in text
    assert "- 总结文件中的照片：1 张" in text  # the photo pasted into the PDF
    assert f"1. {BJ[2]}（5月28日）" in text  # named in the PDF's text
    assert "照片「DSC_0420.jpg」（拍摄于5月20日）的拍摄日期不在活动日期（5月28日）内" in text
    assert "DSC_0428" not in text.split("供您参考")[1]
    assert "已超过截止时间" in text  # the deadline was 18 June
    message = bot.last_message()
    assert (message.verdict, message.late) == ("accepted", True)
    assert bot.codes(message) == [("warning", "photo_date_outside")]
    assert bot.activities()[BJ[2]].summary_pk == message.id


def test_photos_without_a_summary_document_get_a_correction_and_are_still_recorded(bot: Bot) -> None:
    files = (("活动总结.jpg", photo(GREY)), ("IMG_0003.jpg", photo(RED, dt.datetime(2021, 5, 28, 9, 0))))
    bot.send(BJ[:2], "活动总结", at(6, 10), f"报道：{WECHAT}", *files)
    (reply,) = bot.poll(at(6, 10, 11))
    assert reply.reply["Subject"] == "回复：活动总结（请补充后重新发送，登记号 S2021-0003）"
    text = reply.text
    assert "活动总结还不能受理，请按以下 1 点补充" in text
    assert "附件「活动总结.jpg」是图片，不是活动总结文件" in text  # a photo of the summary
    assert "- 照片：2 张" in text
    assert not list(reply.reply.iter_attachments())  # no blank plan form for a summary
    message = bot.last_message()
    assert message.verdict == "needs_correction"
    assert bot.codes(message) == [("error", "photo_of_summary")]
    assert [r.kind for r in bot.media(message)] == ["photo", "photo", "link"]
    assert bot.activities()[BJ[2]].summary_pk is None

    # The summary follows in a mail of its own: accepted, the photos already received are not asked again.
    document = summary_docx("活动总结", f"{BJ[2]}于5月28日举行。")
    bot.send(BJ[:2], "回复：活动总结", at(6, 11), "补发总结。", ("总结.docx", document))
    (reply,) = bot.poll(at(6, 11, 11))
    assert "已收到" in reply.reply["Subject"] and "- 活动总结：「总结.docx」" in reply.text
    assert bot.activities()[BJ[2]].summary_pk == bot.last_message().id

    # More photos later: one already sent, counted once and recorded as the duplicate of the first.
    again = photo(RED, dt.datetime(2021, 5, 28, 9, 0))
    bot.send(BJ[:2], "活动总结补充照片", at(6, 12), "补充。", ("补充1.jpg", again), ("补充2.jpg", photo(BLUE)))
    (reply,) = bot.poll(at(6, 12, 11))
    assert "已收到" in reply.reply["Subject"]
    assert "- 活动总结：此前已收到「总结.docx」" in reply.text
    assert "- 照片：1 张（另有 1 张与已收到的照片相同，只计一次）" in reply.text
    first, _ = bot.media(bot.last_message())
    with Session(bot.app.engine) as session:
        original = session.get(MediaRow, first.duplicate_of)
        assert original is not None and original.name == "IMG_0003.jpg"


def test_a_summary_without_photos_or_links_gets_a_correction(bot: Bot) -> None:
    bot.send(BJ[:2], "活动总结", at(6, 10), "见附件。", ("总结.docx", summary_docx("总结", f"{BJ[2]}顺利举行。")))
    (reply,) = bot.poll(at(6, 10, 11))
    assert "还不能受理" in reply.text and "邮件中没有找到活动照片、视频或媒体报道链接" in reply.text
    assert bot.codes(bot.last_message()) == [("error", "media_missing")]
    assert bot.activities()[BJ[2]].summary_pk is None


def test_photos_pasted_into_the_summary_count_as_photos(bot: Bot) -> None:
    document = summary_docx("总结", f"{BJ[2]}顺利举行。", pictures=2)
    bot.send(BJ[:2], "活动总结", at(6, 10), "见附件。", ("总结.docx", document))
    (reply,) = bot.poll(at(6, 10, 11))
    assert "已收到" in reply.reply["Subject"] and "- 总结文件中的照片：2 张" in reply.text


def test_an_empty_summary_mail_is_asked_for_everything_without_the_plan_form(bot: Bot) -> None:
    bot.send(BJ[:2], "活动总结", at(6, 10), "叶老师好，总结稍后发送。")
    (reply,) = bot.poll(at(6, 10, 11))
    text = reply.text
    assert "还不能受理，请按以下 2 点补充" in text and "本次邮件中没有附件" in text
    assert not list(reply.reply.iter_attachments()) and "筹备方案表" not in text
    assert bot.last_message().verdict == "no_attachment"


def test_a_summary_is_matched_to_the_activity_it_names_or_to_all_with_a_warning(bot: Bot) -> None:
    named = summary_docx("地质科普进校园活动总结", "5月12日至14日走进三所中学。")
    bot.send(DIZHI, "活动总结", at(6, 1), f"报道：{WECHAT}", ("总结.docx", named))
    (reply,) = bot.poll(at(6, 1, 11))
    assert "1. 地质科普进校园（5月12日—5月14日）" in reply.text and "供您参考" not in reply.text
    activities = bot.activities()
    assert activities["地质科普进校园"].summary_pk == bot.last_message().id
    assert activities["青年地质工作者座谈会"].summary_pk is None

    # Unnamed, before the second activity's day: recorded for both, with two warnings.
    unnamed = summary_docx("活动总结", "我委今年的活动圆满完成。")
    bot.send(DIZHI, "活动总结（二）", at(6, 2), f"报道：{WECHAT}/2", ("总结2.docx", unnamed))
    (reply,) = bot.poll(at(6, 2, 11))
    assert "已记为贵单位全部2项活动（「地质科普进校园」、「青年地质工作者座谈会」）的总结" in reply.text
    assert "活动「青年地质工作者座谈会」计划于6月8日举办，收到总结时尚未到举办日期" in reply.text
    message = bot.last_message()
    assert bot.codes(message) == [("warning", "activities_unnamed"), ("warning", "activity_not_held")]
    assert {a.summary_pk for a in bot.activities().values() if a.branch_key == "石油地质专业委员会"} == {message.id}


def test_a_summary_from_a_branch_without_an_accepted_plan_is_flagged(bot: Bot) -> None:
    who = ("胜利油田科技展览馆", "slzlg@example.com")
    bot.send(who, "活动总结", at(6, 10), f"报道：{WECHAT}", ("总结.docx", summary_docx("总结", "开放日。")))
    (reply,) = bot.poll(at(6, 10, 11))
    assert "已收到" in reply.reply["Subject"]
    assert "没有找到贵单位已受理的活动筹备方案" in reply.text and "已登记为以下活动" not in reply.text


def test_the_blank_plan_form_sent_as_a_summary_is_not_a_summary(bot: Bot, ctx: Context) -> None:
    blank = write_form(form_layout(ctx.campaign))
    bot.send(BJ[:2], "活动总结", at(6, 10), "见附件。", ("活动总结.docx", blank), ("1.jpg", photo(RED)))
    (reply,) = bot.poll(at(6, 10, 11))
    assert "附件「活动总结.docx」是空白的筹备方案表，不是活动总结" in reply.text
    assert bot.codes(bot.last_message()) == [("error", "plan_form_as_summary")]
    assert "- 其他附件：「活动总结.docx」" in reply.text


def test_a_plan_mail_records_no_media_and_keeps_its_reply(bot: Bot) -> None:
    with Session(bot.app.engine) as session:
        plans = list(session.execute(select(MessageRow)).scalars())
        assert session.execute(select(MediaRow)).first() is None
        kinds = [r.kind for r in session.execute(select(ReplyRow)).scalars()]
    assert [p.deliverable for p in plans] == ["plan", "plan"] and kinds == ["ack", "ack"]


# --- the pure parts --------------------------------------------------------------------------------


def test_files_are_classified_by_content_not_by_name() -> None:
    assert media_kind(photo(RED), "总结.docx") == ("photo", "JPEG")
    assert media_kind(photo(RED, form="PNG"), "a.jpg") == ("photo", "PNG")
    assert media_kind(photo(RED, form="HEIC"), "a.jpg") == ("photo", "HEIC")
    assert media_kind(MP4, "a.jpg") == ("video", "MP4")
    assert media_kind(b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ", "a") == ("video", "MOV")
    assert media_kind(b"RIFF\x00\x00\x00\x00AVI LIST", "a") == ("video", "AVI")
    assert media_kind(summary_docx("t"), "a.jpg") == ("document", "docx")
    assert media_kind(PDF_SUMMARY.read_bytes(), "x") == ("document", "pdf")
    assert media_kind(b"just some text", "a.txt") == ("other", "unknown")


def test_exif_dates_read_from_jpeg_png_and_heic_and_original_wins_over_edited() -> None:
    taken = dt.datetime(2021, 5, 28, 9, 30, 5)
    for form in ("JPEG", "PNG", "HEIC"):
        assert read_media(photo(RED, taken, form), "x").taken_at == taken
        assert read_media(photo(RED, None, form), "x").taken_at is None


def test_a_png_exif_chunk_after_the_image_data_is_found_without_decoding_pixels() -> None:
    png = photo(RED, dt.datetime(2021, 5, 28, 9, 30), "PNG")
    start = png.index(b"eXIf") - 4
    length = int.from_bytes(png[start : start + 4], "big")
    chunk = png[start : start + 12 + length]
    moved = png.replace(chunk, b"")
    end = moved.index(b"IEND") - 4
    assert taken_at(moved[:end] + chunk + moved[end:], "PNG") == dt.datetime(2021, 5, 28, 9, 30)


def test_a_huge_declared_image_is_not_decoded() -> None:
    # A PNG header claiming 100,000 x 100,000 pixels (Pillow's decompression-bomb size), with EXIF.
    png = photo(RED, dt.datetime(2021, 5, 28, 9, 30), "PNG")
    ihdr = png.index(b"IHDR")
    bomb = png[: ihdr + 4] + (100_000).to_bytes(4, "big") * 2 + png[ihdr + 12 :]
    info = read_media(bomb, "bomb.png")
    assert (info.kind, info.taken_at) == ("photo", dt.datetime(2021, 5, 28, 9, 30))


@pytest.mark.parametrize(
    "value",
    ["0000:00:00 00:00:00", "    :  :     :  :  ", "2021:13:40 25:00:00", "1900:01:01 00:00:00", ""],
)
def test_nonsense_exif_dates_are_no_date(value: str) -> None:
    block = exif(dt.datetime(2021, 5, 28))
    assert exif_date(block.replace(b"2021:05:28 00:00:00", value.encode().ljust(19, b"\x00")[:19])) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.sampled_from(["JPEG", "PNG", "HEIC"]))
def test_garbage_after_a_photo_signature_never_raises(tail: bytes, form: str) -> None:
    heads = {"JPEG": b"\xff\xd8\xff\xe1", "PNG": b"\x89PNG\r\n\x1a\n", "HEIC": b"\x00\x00\x00\x18ftypheic"}
    info = read_media(heads[form] + tail, "x")
    assert info.kind == "photo" and info.size == len(heads[form]) + len(tail)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1024))
def test_garbage_exif_blocks_never_raise(block: bytes) -> None:
    moment = exif_date(b"MM\x00*" + block)
    assert moment is None or 1990 <= moment.year <= 2100


def test_truncated_photos_keep_their_kind_and_lose_only_their_date() -> None:
    whole = photo(RED, dt.datetime(2021, 5, 28), "JPEG")
    for cut in (3, 10, 30, len(whole) // 2):
        assert read_media(whole[:cut], "x").kind == "photo"
    assert read_media(noise_photo(1), "x").taken_at is None


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (WECHAT, "press"),
        (BAIDU, "drive"),
        ("https://www.aliyundrive.com/s/abc", "drive"),
        ("https://wx.mail.qq.com/ftn/download?func=3&k=abc", "drive"),
        ("https://www.bilibili.com/video/BV1xx", "video"),
        ("https://news.example.com/2021/0606/kepu.html", "press"),
        ("http://www.beijing.gov.cn/ywdt/kepu.html", "press"),
        ("https://www.163.com/dy/article/GBK.html", "press"),
        (SIGNATURE, "other"),
        ("https://example.com/", "other"),
        ("http://[::1:bad", "other"),
    ],
)
def test_links_are_press_drive_video_or_other(url: str, kind: str) -> None:
    assert classify_link(url).kind == kind


def test_matching_by_title_tolerates_quotes_spacing_and_a_longer_official_title() -> None:
    planned = (
        Planned(1, "“地质科普进校园”活动", None, None),
        Planned(2, "2021年青年地质工作者座谈会", None, None),
        Planned(3, "座谈会", None, None),
    )
    assert match_activities(["关于地质科普 进校园的总结"], planned) == ((planned[0],), "title")
    assert match_activities(["青年地质工作者座谈会顺利召开"], planned) == ((planned[1],), "title")
    assert match_activities(["今年的活动"], planned) == (planned, "all")
    assert match_activities(["今年的活动"], planned[:1]) == (planned[:1], "only")
    assert match_activities(["今年的活动"], ()) == ((), "")


def test_an_activity_is_planned_until_its_last_day_is_over_then_held_until_summarised() -> None:
    may28, may30 = dt.date(2021, 5, 28), dt.date(2021, 5, 30)
    assert progress_of(may28, may30, False, dt.date(2021, 5, 30)) == "planned"
    assert progress_of(may28, may30, False, dt.date(2021, 5, 31)) == "held"
    assert progress_of(may28, None, False, dt.date(2021, 5, 29)) == "held"
    assert progress_of(None, None, False, dt.date(2021, 7, 1)) == "planned"
    assert progress_of(may28, may30, True, dt.date(2021, 5, 1)) == "summarised"


def test_a_correction_names_the_activities_without_saying_they_were_recorded(bot: Bot) -> None:
    bot.send(BJ[:2], "活动总结", at(6, 10), "见附件。", ("总结.docx", summary_docx("总结", f"{BJ[2]}顺利举行。")))
    (reply,) = bot.poll(at(6, 10, 11))
    assert f"总结对应的活动：\n1. {BJ[2]}（5月28日）" in reply.text and "已登记为" not in reply.text
    assert "<p>总结对应的活动：</p>" in reply.html


def test_photos_in_a_zip_are_counted_and_a_rar_is_named_as_unopened(bot: Bot) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("照片/1.jpg", photo(RED, dt.datetime(2021, 5, 28, 9, 0)))
        package.writestr("照片/2.jpg", photo(GREEN, dt.datetime(2021, 5, 28, 9, 5)))
    document = ("总结.docx", summary_docx("总结", f"{BJ[2]}顺利举行。"))
    bot.send(BJ[:2], "活动总结", at(6, 10), "见附件。", document, ("照片.zip", archive.getvalue()))
    (reply,) = bot.poll(at(6, 10, 11))
    assert "已收到" in reply.reply["Subject"] and "- 照片：2 张\n" in reply.text
    rar = b"Rar!\x1a\x07\x01\x00" + bytes(200)
    bot.send(BJ[:2], "活动总结", at(6, 11), "见附件。", document, ("照片.rar", rar))
    (reply,) = bot.poll(at(6, 11, 11))
    # The photos of the first mail count: this one is accepted, and says what it could not open.
    assert "已收到" in reply.reply["Subject"] and "- 其他附件：「照片.rar」" in reply.text


def test_a_rar_without_other_photos_is_asked_for_again_by_name(tmp_path: Path, ctx: Context) -> None:
    bot = Bot(tmp_path, ctx)
    rar = b"Rar!\x1a\x07\x01\x00" + bytes(200)
    document = ("总结.docx", summary_docx("总结", "开放日。"))
    bot.send(
        ("胜利油田科技展览馆", "slzlg@example.com"), "活动总结", at(6, 10), "见附件。", document, ("照片.rar", rar)
    )
    (reply,) = bot.poll(at(6, 10, 11))
    assert "（压缩包「照片.rar」无法自动解压，请直接发送照片或改用 zip 格式）" in reply.text


def test_what_the_sender_named_is_escaped_in_the_html_reply(bot: Bot) -> None:
    # The mail reader already replaces < > " in file names; what it keeps is escaped by the HTML template.
    files = (("总结.docx", summary_docx("总结", f"{BJ[2]}顺利举行。")), ("1.jpg", photo(RED)), ("R&D <b>.txt", b"x"))
    bot.send(BJ[:2], "活动总结", at(6, 10), "见附件。", *files)
    (reply,) = bot.poll(at(6, 10, 11))
    (name,) = re.findall(r"其他附件：「(.+)」", reply.text)
    assert name.startswith("R&D ") and "<" not in name
    assert f"其他附件：「{html.escape(name, quote=False)}」" in reply.html and "R&amp;D" in reply.html


def test_a_summary_the_sandbox_gave_up_on_is_kept_for_staff_and_never_read_again(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What check_limited returns for a file that exhausted its child's limits (a PDF flate bomb, say).
    pdf = PDF_SUMMARY.read_bytes()
    unreadable = Unreadable("too_large", "文件内容展开后过大，无法安全读取", "sandbox memory")
    result = CheckResult("总结.pdf", PlanRead("总结.pdf", "pdf", unreadable=unreadable), ())
    mail = parse_message(_summary_mail(("总结.pdf", pdf)))

    def never(*args: object, **kwargs: object) -> object:
        raise AssertionError("read again")

    monkeypatch.setattr("bot.intake.evidence.run_limited", never)  # the sandbox's worker: every read of a summary's document
    document = summary_document(mail.attachments[0], result)
    assert document.usable and document.text == "" and document.photos == 0


def _summary_mail(*files: tuple[str, bytes]) -> bytes:
    message = EmailMessage()
    message["From"] = f"{BJ[0]} <{BJ[1]}>"
    message["Subject"] = "活动总结"
    message.set_content("见附件。")
    for name, data in files:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()


def test_photos_without_a_summary_word_are_a_summary_after_the_plan_deadline_and_a_form_photo_before(
    ctx: Context,
) -> None:
    """A branch mailing only photos in June means its activity, not its form; in April it means its form."""
    raw = _photos_only_mail()
    mail = parse_message(raw)
    june = dt.datetime(2021, 6, 10, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    april = dt.datetime(2021, 4, 28, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert which_deliverable(mail, (), ctx, june) == "summary"
    assert which_deliverable(mail, (), ctx, april) == "plan"
    assert which_deliverable(mail, (), ctx) == "plan"


def _photos_only_mail() -> bytes:
    message = EmailMessage()
    message["From"] = "北京石油学会 <bjsyxh@example.com>"
    message["To"] = "kepu@example.org"
    message["Subject"] = "活动照片"
    message.set_content("请查收。")
    message.add_attachment(photo((10, 120, 200)), maintype="image", subtype="jpeg", filename="IMG_0001.jpg")
    return message.as_bytes()
