"""The mail reader's bounds: nesting, part count, attachment bytes, zip members, hostile winmail.dat
and HTML. Past each limit the reader records a problem and stops, quickly, without an exception."""

from __future__ import annotations

import io
import struct
import time
import zipfile

import pytest

from parsers import parts
from parsers.archive import MAX_FILES, unpack_zip
from parsers.message import parse_message
from parsers.winmail import UnreadableWinmail, unpack_winmail

FROM = b"From: branch@society.org.cn\r\n"


def test_nesting_past_the_limit_is_a_problem() -> None:
    nested = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(40))
    mail = parse_message(FROM + nested + b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n")
    assert mail.attachments == ()
    assert any("嵌套层数过多" in p for p in mail.problems)


def test_nesting_too_deep_for_the_parser_keeps_the_headers() -> None:
    nested = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(3000))
    mail = parse_message(FROM + b"Subject: deep\r\n" + nested)
    assert (mail.sender.address, mail.subject) == ("branch@society.org.cn", "deep")
    assert mail.problems


def test_forwards_within_the_limit_are_read() -> None:
    forwards = b"Content-Type: message/rfc822\r\n\r\n" * 4
    mail = parse_message(FROM + forwards + b"Content-Type: application/pdf; name=a.pdf\r\n\r\n%PDF-1.4\r\n")
    assert [(a.name, a.origin) for a in mail.attachments] == [("a.pdf", "forward")]


def test_parts_past_the_limit_are_a_problem() -> None:
    part = b"--b\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n"
    raw = FROM + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + part * (parts.MAX_PARTS + 50) + b"--b--\r\n"
    mail = parse_message(raw)
    assert len(mail.attachments) == parts.MAX_PARTS - 1  # the multipart itself is the first part
    assert any("部分过多" in p for p in mail.problems)


def test_attachment_bytes_past_the_limit_are_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parts, "MAX_ATTACHMENT_BYTES", 100)
    part = b"--b\r\nContent-Type: application/pdf; name=%d.pdf\r\n\r\n%%PDF-1.4 " + b"x" * 40 + b"\r\n"
    raw = FROM + b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    raw += b"".join(part.replace(b"%d", str(i).encode()) for i in range(3)) + b"--b--\r\n"
    mail = parse_message(raw)
    assert [a.name for a in mail.attachments] == ["0.pdf", "1.pdf"]
    assert mail.problems == ("附件「2.pdf」未读取：邮件附件总大小超过 0 MB",)


def test_zip_takes_at_most_so_many_files() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for i in range(MAX_FILES + 5):
            archive.writestr(f"{i}.pdf", b"%PDF-1.4")
    unpacked = unpack_zip(out.getvalue(), "many.zip")
    assert len(unpacked.files) == MAX_FILES
    assert len(unpacked.problems) == 1


def test_zip_budget_is_respected() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.pdf", b"%PDF-1.4" + b"a" * 100)
        archive.writestr("b.pdf", b"%PDF-1.4" + b"b" * 100)
    unpacked = unpack_zip(out.getvalue(), "two.zip", budget=150)
    assert [name for name, _ in unpacked.files] == ["a.pdf"]
    assert "超出限制" in unpacked.problems[0]


def test_broken_zip_is_a_problem() -> None:
    unpacked = unpack_zip(b"PK\x03\x04 truncated", "broken.zip")
    assert unpacked.files == () and unpacked.problems == ("压缩包「broken.zip」已损坏，无法解压",)


def _tnef(*objects: bytes) -> bytes:
    return struct.pack("<IH", 0x223E9F78, 1) + b"".join(objects)


def _attribute(ident: int, data: bytes) -> bytes:
    return struct.pack("<BII", 1, (6 << 16) | ident, len(data)) + data + b"\x00\x00"


@pytest.mark.parametrize(
    "blob",
    [
        # four billion MAPI properties in twelve bytes
        _tnef(_attribute(0x9003, struct.pack("<I", 0xFFFFFFFF) + b"\x00" * 8)),
        # a multi-valued property claiming four billion values
        _tnef(_attribute(0x9003, struct.pack("<IHHI", 1, 0x1002, 0x3000, 0xFFFFFFF0) + b"\x00" * 8)),
        # a string property claiming four billion strings
        _tnef(_attribute(0x9003, struct.pack("<IHHI", 1, 0x001E, 0x3001, 0xFFFFFFF0) + b"\x00" * 8)),
        # tens of thousands of empty objects
        _tnef(*[_attribute(0x9999, b"")] * 30_000),
    ],
    ids=["properties", "values", "strings", "objects"],
)
def test_hostile_winmail_is_refused_quickly(blob: bytes) -> None:
    started = time.monotonic()
    with pytest.raises(UnreadableWinmail):
        unpack_winmail(blob)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("html", [b"<a " * 100_000, b"<!--" + b"<!" * 100_000, b"<![" * 100_000])
def test_hostile_html_is_read_quickly(html: bytes) -> None:
    started = time.monotonic()
    mail = parse_message(FROM + b"Content-Type: text/html\r\n\r\n" + html)
    assert mail.kind == "submission"
    assert time.monotonic() - started < 2


def test_not_bytes_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_message("From: a@b.c\r\n\r\nhi")  # type: ignore[arg-type]
