"""Every raw message in the corpus (tests/corpus, with their origins in its NOTICE: other projects' test mail: raw 8-bit GBK and Big5 headers,
RFC 2231 continuations, forwards, winmail.dat, bounces, hostile names) parses without an exception,
with the sender, subject, attachment names and kind a person reading it would give."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from parsers.message import parse_message

EML = Path(__file__).resolve().parent / "corpus" / "eml"


@dataclass(frozen=True)
class Expected:
    sender: str  # lower-cased address; '' when the message has no From
    subject: str | None  # a substring; None where no right answer exists
    attachments: tuple[str, ...] = ()
    kind: str = "submission"
    body: str = ""  # a substring of body_text, where the body is the edge case
    sender_name: str | None = None


LONG = "-0123456789-qwertyuiopasdfghjklzxcvbnmopqrstuvz" * 3
EXPECTED: dict[str, Expected] = {
    "34-tencent-exmail-raw8bit-gb2312-headers.eml": Expected(
        "10000@qq.com", "提示：您的企业成员暂时无法登录邮件客户端", sender_name="腾讯企业邮箱", body="尊敬的管理员"
    ),
    # The relaying server already replaced most GBK bytes with U+FFFD (EF BF BD): no right subject is
    # left. What survives (时, 一) is kept by reading the rest as GB18030, the body's charset.
    "35-tencent-exmail-raw8bit-gb18030.eml": Expected("10000@qq.com", None),
    "36-bounce-office365.eml": Expected("postmaster@example.no", "Undeliverable: test_bounce 8", kind="bounce"),
    "41-oe5-gb2312-label-utf8-body-8bit-to.eml": Expected(
        "baoguan@hotmail.com", "代开各地增值税发票", sender_name="张先生", body="你好！我公司可代开"
    ),
    "42-raw-big5-subject-empty-cte.eml": Expected("3712f2@msa.hinet.net", "(大補泡麵專賣) 大家說英語 每日聽MP3"),
    "43-forwarded-message-rfc822.eml": Expected("i.kor@company.ru", "статус", body="Новый заказ №28922"),
    # The "Contract 25 04 2020.docx" there names a forwarded message/rfc822, which is read as one.
    "44-thunderbird-docx-quoted-ew-plus-rfc822.eml": Expected("i.kor@company.ru", "статус", body="Новый заказ"),
    "45-applemail-rfc2231-continuation.eml": Expected(
        "mikel@test.lindsaar.net", "まみむめもまみむめも", ("かきくけこ" * 5 + ".txt",)
    ),
    "46-postfix-bounce-multi-recipient.eml": Expected(
        "mailer-daemon@lvmail01.ll.com", "Undelivered Mail Returned to Sender", kind="bounce"
    ),
    "47-smtputf8-raw-utf8-headers.eml": Expected("jdöe@mächine.example", "Säying Hello", sender_name="Jöhn Doe"),
    # The second name holds "????" (%3F), which no file name may: they become "_".
    "48-rfc2231-and-ew-mixed-long-filenames.eml": Expected(
        "",
        "",
        (
            "Buchungsbestätigung- Rechnung-Geschäftsbedingungen-Nr.B123-45 - XXXXX xxxxxxxxxxxxxxxxx XxxX, "
            "Lüxxxxxxxxxx - VM Klaus XXXXXX - xxxxxxxx.pdf",
            f"01_A€àä____@Z{LONG}.txt",
            f"02_A€àäąбيد@Z{LONG}.txt",
        ),
    ),
    "49-path-traversal-filenames.eml": Expected("from@there.com", "Test", ("MyFile.txt", "foo")),
    "50-four-nested-rfc822.eml": Expected("test@example.com", "3-third-subject", body="0-zero-content"),
    "51-unknown-charset-label.eml": Expected(
        "info@bla.bla", "Submit your tax refund | Australian Taxation Office.", sender_name="myGov"
    ),
    "52-iso2022jp-quoted-ew-filename.eml": Expected(
        "from@there.com",
        "☆第132号 「ガーデン&エクステリア」専門店のためのＱ&Ａサロン 【月刊エクステリア・ワーク】",
        ("☆第132号 「ガーデン&エクステリア」専門店のためのＱ&Ａサロン 【月刊エクステリア・ワーク】",),
    ),
    "53-xls-ew-name-no-disposition.eml": Expected("", "", ("Prostřeno_2014_poslední volné termíny.xls",)),
    "54-pec-signed-nested.eml": Expected("test@example.com", "Certified", ("data.xml",), body="test-content"),
    "55-outlook-richtext-winmail-dat.eml": Expected("rrtest1@xink.io", "rr test 7", body="шостий"),
    "56-tbird-ew-and-rfc2231-filename.eml": Expected("", "", ("attachment.äöü",)),
}


@pytest.mark.parametrize("path", sorted(EML.glob("*.eml")) if EML.is_dir() else [], ids=lambda p: p.name)
def test_corpus_message_reads_right(path: Path) -> None:
    assert path.name in EXPECTED, f"{path.name} is new in the corpus: add what it should read as here"
    expected = EXPECTED[path.name]
    mail = parse_message(path.read_bytes())

    assert mail.sender.address == expected.sender
    if expected.sender_name is not None:
        assert mail.sender.name == expected.sender_name
    if expected.subject is not None:
        assert expected.subject in mail.subject
    assert tuple(a.name for a in mail.attachments) == expected.attachments
    assert (mail.kind, mail.problems) == (expected.kind, ())
    assert expected.body in mail.body_text
    for text in (mail.subject, mail.sender.name, *(a.name for a in mail.attachments)):
        assert not any(0xD800 <= ord(ch) <= 0xDFFF or ch in "\r\n\x00" for ch in text), repr(text)


def test_the_corpus_is_there() -> None:
    # The corpus is carried in the repository; without it the test above would pass by testing nothing.
    assert EML.is_dir(), f"no corpus at {EML}"
    assert set(EXPECTED) <= {p.name for p in EML.glob("*.eml")}
