"""Golden tests of the replies the bot sends: a handful of incoming mails go through `subbot poll` on a
Maildir, and each reply written to the outbox is compared with its golden files in tests/fixtures/replies/:
NAME.txt (key headers, MIME structure, attachments as written, the plain text) and NAME.html (the HTML
part as sent, to open in a browser).

Only what must vary is normalised: the hash in our Message-ID (it hashes the incoming mail, whose .docx
and MIME boundaries differ on every run). The Date header is fixed by `--now`.

After a deliberate change to the templates or to `bot/compose.py`, rewrite the golden files from the
current output and review the diff by eye before committing:

    SUBBOT_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_replies.py
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo import filled_entry, seed
from bot.forms.check import check_form
from bot.intake.answer import MAX_LISTED, listed_at_most
from config import Context
from parsers.form_writer import FormEntry, write_form
from parsers.records import FormLayout

GOLDEN = Path(__file__).parent / "fixtures" / "replies"
UPDATE = os.environ.get("SUBBOT_UPDATE_GOLDEN") == "1"
NOW = "2021-05-09T09:00"
ZONE = dt.timezone(dt.timedelta(hours=8))
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
KEY_HEADERS = (
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
)
HOSTILE_TITLE = '<script>alert("x")</script>钻井开放日'
HOSTILE_NAME = "<img src=x onerror=alert(1)>"


@dataclass(frozen=True)
class Incoming:
    case: str  # the golden files' name, and the local part of the mail's Message-ID
    sender: str
    address: str
    subject: str
    arrived: dt.datetime
    entries: tuple[FormEntry, ...] | None  # None: the mail has no attachment
    references: tuple[str, ...] = ()

    @property
    def message_id(self) -> str:
        return f"<{self.case}@{self.address.rpartition('@')[2]}>"


def _entry(organiser: str, title: str, time: str, **cells: str) -> FormEntry:
    plan = "一、活动主题：众心向党，自立自强。\n二、主要安排：邀请老科学家作报告。"
    return filled_entry(organiser, title, time, plan=plan, **cells)


def _day(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2021, month, day, hour, 0, tzinfo=ZONE)


CASES = (
    Incoming(
        "ack-two-activities",
        "地质专委会 张堃",
        "dizhi.zwh@example.com",
        "石油地质专委会活动方案（两项）",
        _day(4, 30),
        (
            _entry("石油地质专业委员会", "地质科普进校园", "第一阶段；5月12日—5月14日"),
            _entry("石油地质专业委员会", "青年地质工作者座谈会", "第三阶段；6月8日", scale="视报名情况而定"),
        ),
    ),
    Incoming(
        "correction-fields",
        "石油工程专委会",
        "gongcheng@example.com",
        "回复：筹备方案",
        _day(5, 3),
        (_entry("石油工程专业委员会", "钻井技术开放日", "第二阶段；6月8日", **{"contact.mobile": "6206712"}),),
        references=("<first@example.org>", "<notice@example.org>"),
    ),
    Incoming("correction-blank-form", "四川省石油学会", "scsyxh@example.org", "活动方案", _day(5, 4), None),
    Incoming(
        "ack-late",
        "新疆石油学会",
        "xjsyxh@example.com",
        "新疆石油学会活动筹备方案（迟交）",
        _day(5, 8),
        (_entry("新疆石油学会", "石油精神主题展览", "第三阶段；6月10日—6月20日"),),
    ),
    Incoming(
        "ack-hostile-values",
        HOSTILE_NAME,
        "bjsyxh@example.com",
        "<b>方案</b>",
        _day(5, 5),
        (_entry("北京石油学会", HOSTILE_TITLE, "第二阶段；5月28日", venue='<a href="http://evil.example">点此</a>'),),
    ),
)


def _mail(incoming: Incoming, layout: FormLayout) -> bytes:
    message = EmailMessage()
    message["From"] = f'"{incoming.sender}" <{incoming.address}>'
    message["To"] = "中国石油学会科普咨询部 <kepu@example.org>"
    message["Subject"] = incoming.subject
    message["Date"] = format_datetime(incoming.arrived)
    message["Message-ID"] = incoming.message_id
    if incoming.references:
        message["In-Reply-To"] = incoming.references[-1]
        message["References"] = " ".join(incoming.references)
    message.set_content("请查收。")
    if incoming.entries is not None:
        form = write_form(layout, list(incoming.entries))
        message.add_attachment(form, maintype=DOCX[0], subtype=DOCX[1], filename=f"{incoming.case}.docx")
    return message.as_bytes()


def deliver(inbox: Path, name: str, raw: bytes, arrived: dt.datetime) -> None:
    """A message delivered to a Maildir at `arrived` (the bot reads delivery time from the file)."""
    path = inbox / "new" / name
    path.write_bytes(raw)
    os.utime(path, (arrived.timestamp(), arrived.timestamp()))


@dataclass(frozen=True)
class Sent:
    raw: bytes
    message: EmailMessage


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory, layout: FormLayout) -> dict[str, Sent]:
    """The outbox after one poll of an inbox holding CASES, keyed by case (read back from In-Reply-To)."""
    folder = tmp_path_factory.mktemp("replies")
    settings = seed(folder)
    for demo in (folder / "inbox" / "new").iterdir():
        demo.unlink()
    for number, incoming in enumerate(CASES):
        deliver(
            folder / "inbox",
            f"{int(incoming.arrived.timestamp())}.{number}.golden",
            _mail(incoming, layout),
            incoming.arrived,
        )
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["--settings", str(settings), "--now", NOW, "poll", "--reply-backlog"]) == 0
    by_case: dict[str, Sent] = {}
    for path in (folder / "outbox").glob("*.eml"):
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        by_case[str(message["In-Reply-To"]).strip("<>").partition("@")[0]] = Sent(raw, message)
    assert sorted(by_case) == sorted(c.case for c in CASES)
    return by_case


def _incoming(case: str) -> Incoming:
    return next(c for c in CASES if c.case == case)


def _text_part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body((subtype,))
    assert body is not None
    return str(body.get_content())


def _structure(part: MIMEPart) -> str:
    if part.is_multipart():
        inner = ", ".join(_structure(p) for p in part.iter_parts())
        return f"{part.get_content_type()}({inner})"
    return part.get_content_type()


def _raw_headers(raw: bytes) -> Iterator[tuple[str, str]]:
    """Every attachment's Content-Type and Content-Disposition exactly as written (folds kept)."""
    plain = email.message_from_bytes(raw)  # compat32: header values stay as they were written
    for part in plain.walk():
        if part.get_content_disposition() == "attachment":
            yield "Content-Type", str(part["Content-Type"])
            yield "Content-Disposition", str(part["Content-Disposition"])


def _normalise(name: str, value: str) -> str:
    if name == "Message-ID":
        return re.sub(r"^<([A-Z]\d{4}-\d{4})\.[0-9a-f]{16}@", r"<\1.(hash of the incoming mail)@", value)
    return value


def golden_text(item: Sent) -> str:
    message = item.message
    lines = [f"{name}: {_normalise(name, str(message[name]))}" for name in KEY_HEADERS if message[name] is not None]
    lines.append(f"MIME: {_structure(message)}")
    for attachment in message.iter_attachments():
        lines.append(f"Attachment: {attachment.get_filename()} ({len(attachment.get_content())} bytes, varies)")
    lines += [f"  {name}: {value}" for name, value in _raw_headers(item.raw)]
    lines += ["", "--- text/plain ---", _text_part(message, "plain")]
    return "\n".join(lines)


def _check_golden(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"{path} is missing: write it with SUBBOT_UPDATE_GOLDEN=1 (see this module's docstring)"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", [c.case for c in CASES])
def test_each_reply_matches_its_golden_files(case: str, sent: dict[str, Sent]) -> None:
    _check_golden(GOLDEN / f"{case}.txt", golden_text(sent[case]))
    _check_golden(GOLDEN / f"{case}.html", _text_part(sent[case].message, "html"))


@pytest.mark.parametrize("case", [c.case for c in CASES])
def test_reply_answers_in_the_thread_and_says_it_is_automatic(case: str, sent: dict[str, Sent]) -> None:
    incoming, message = _incoming(case), sent[case].message
    receipt = str(message["X-Subbot-Reply"])
    assert re.fullmatch(r"[PSM]2021-\d{4}", receipt)
    subject = str(message["Subject"])
    # One reply prefix, never a second one before a subject that already has it.
    assert subject.startswith("回复：") and not subject.startswith("回复：回复")
    assert incoming.subject.removeprefix("回复：") in subject and receipt in subject
    assert message["In-Reply-To"] == incoming.message_id
    assert str(message["References"]).split() == [*incoming.references, incoming.message_id]
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert message["To"] == incoming.address
    assert len(message.get_all("MIME-Version") or []) == 1


def test_encoded_words_are_no_longer_than_rfc_2047_allows(sent: dict[str, Sent]) -> None:
    words = [w for item in sent.values() for w in re.findall(rb"=\?[^?]+\?[bBqQ]\?[^?]*\?=", item.raw)]
    assert words
    assert max(len(w) for w in words) <= 75


def test_ack_lists_every_activity_with_its_key_fields_and_the_warnings(sent: dict[str, Sent]) -> None:
    text = _text_part(sent["ack-two-activities"].message, "plain")
    html = _text_part(sent["ack-two-activities"].message, "html")
    receipt = str(sent["ack-two-activities"].message["X-Subbot-Reply"])
    assert "2021年04月30日 10:00（北京时间）" in text and receipt in text
    for part in (text, html):
        assert "1. 地质科普进校园" in part and "2. 青年地质工作者座谈会" in part
        assert "第1阶段，5月12日—5月14日" in part and "第3阶段，6月8日" in part
        assert "「预计活动规模」填写的「视报名情况而定」中没有人数" in part  # a warning, not a correction
    assert "超过截止时间" not in text


def test_late_ack_says_it_was_late_and_names_the_deadline(sent: dict[str, Sent]) -> None:
    text = _text_part(sent["ack-late"].message, "plain")
    assert "已超过截止时间（2021年05月06日24时）" in text
    assert "已收到" in str(sent["ack-late"].message["Subject"])


def test_correction_numbers_each_finding_with_its_activity_field_and_what_is_expected(sent: dict[str, Sent]) -> None:
    text = _text_part(sent["correction-fields"].message, "plain")
    findings = re.findall(r"^(\d+)\. (.+)$", text, re.M)
    assert [number for number, _ in findings] == ["1", "2"]
    for _, finding in findings:
        assert finding.startswith("第1项活动「钻井技术开放日」：")
    assert "「拟举办时间」" in findings[0][1] and "第二阶段为5月26日—6月5日，填写的6月8日" in findings[0][1]
    assert "「手机」填写的「6206712」" in findings[1][1] and "应为11位" in findings[1][1]
    assert "请直接回复本邮件，把完整的文件作为附件重新发送" in text
    # The sender has a form: it comes back marked, not a blank one (tests/test_correction_annotated.py reads it).
    (attachment,) = sent["correction-fields"].message.iter_attachments()
    assert attachment.get_filename() == "correction-fields（请按批注修改）.docx"
    assert "附件「correction-fields（请按批注修改）.docx」是您发来的文件，以上各点已在文件中用批注标出" in text
    assert "空白" not in text


def test_correction_without_a_form_brings_the_blank_form_named_both_ways(sent: dict[str, Sent], ctx: Context) -> None:
    item = sent["correction-blank-form"]
    (attachment,) = item.message.iter_attachments()
    name = f"{ctx.campaign.form.title}.docx"
    assert attachment.get_filename() == name  # RFC 2231, as read by most clients
    ((_, disposition),) = [h for h in _raw_headers(item.raw) if h[0] == "Content-Disposition"]
    rfc2231 = re.search(r"filename\*=utf-8''(\S+)", disposition)
    assert rfc2231 is not None
    quoted = re.search(r'filename="([^"]+)"', disposition)  # RFC 2047 in quotes: what QQ Mail reads
    assert quoted is not None and str(make_header(decode_header(quoted.group(1)))) == name
    data = attachment.get_content()
    assert isinstance(data, bytes)
    assert [f.code for f in check_form(data, name, ctx, None).findings] == ["form_blank"]
    assert "附件是空白的筹备方案表" in _text_part(item.message, "plain")


def test_html_escapes_what_the_sender_wrote(sent: dict[str, Sent]) -> None:
    html = _text_part(sent["ack-hostile-values"].message, "html")
    text = _text_part(sent["ack-hostile-values"].message, "plain")
    assert "<script" not in html and "<img" not in html and "<a href" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;钻井开放日" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert HOSTILE_TITLE in text and HOSTILE_NAME in text  # plain text is shown as text by every client


def test_an_override_folder_replaces_one_template_and_the_rest_stay_packaged(
    tmp_path: Path, layout: FormLayout, sent: dict[str, Sent]
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "ack.txt").write_text(
        "{{ sender_name }}：收到，回执号 {{ receipt }}。（本会自定义模板）\n", encoding="utf-8"
    )
    settings = seed(tmp_path)
    settings.write_text(
        settings.read_text(encoding="utf-8").replace("[bot]\n", f'[bot]\ntemplates_dir = "{templates}"\n'),
        encoding="utf-8",
    )
    for demo in (tmp_path / "inbox" / "new").iterdir():
        demo.unlink()
    incoming = _incoming("ack-late")
    deliver(tmp_path / "inbox", "1.override", _mail(incoming, layout), incoming.arrived)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["--settings", str(settings), "--now", NOW, "poll", "--reply-backlog"]) == 0
    (path,) = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert _text_part(message, "plain") == "新疆石油学会：收到，回执号 P2021-0001。（本会自定义模板）\n"
    packaged = sent["ack-late"].message
    receipt = str(packaged["X-Subbot-Reply"])
    assert _text_part(message, "html") == _text_part(packaged, "html").replace(receipt, "P2021-0001")
    assert message["Subject"] == str(packaged["Subject"]).replace(receipt, "P2021-0001")


def test_a_reply_listslisted_at_most_thirty_points_and_counts_the_rest() -> None:
    many = [f"第{n}个附件无法读取" for n in range(498)]
    listed = listed_at_most(many)
    assert len(listed) == MAX_LISTED
    assert listed[:-1] == many[: MAX_LISTED - 1]
    assert listed[-1].startswith(f"另有 {498 - MAX_LISTED + 1} 处")
    assert listed_at_most(many[:MAX_LISTED]) == many[:MAX_LISTED]
