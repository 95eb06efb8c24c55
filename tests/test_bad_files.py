"""Hostile and broken files, made at test time, each read by `subbot check` in a child process held to
1 GiB of address space and 20 seconds: the verdict is `unreadable`, with a Chinese finding that names
the problem, and no traceback. `subbot check` reads each file in its own sandbox (bot.forms.sandbox); the peak
measured is the larger of the command's and its sandbox's."""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import pytest
from hostile import hostile_results
from PIL import Image

from bot.forms.sandbox import Limits
from parsers import plan
from parsers.errors import UnreadableDocument
from parsers.package import MAX_MEMBERS, MAX_XML_PART
from parsers.pdf_blocks import MAX_PAGE_CHARS, read_pdf_blocks
from parsers.records import FormLayout

CORPUS = Path(__file__).resolve().parent / "corpus"
MEMORY_LIMIT = 1 << 30
TIME_LIMIT = 20.0
# What any of these may take at its peak; a real form takes about 60 MiB.
PEAK_LIMIT_MIB = 256

# Runs the real command in the child, then reports the peak memory of the child and of the sandbox it
# forks: VmHWM for itself, since getrusage's ru_maxrss carries over the forking test process's size
# through exec; ru_maxrss of its children for the sandbox, forked from it after the exec.
_CHILD = """
import re, resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from bot.cli import main
code = main(["check", "--json", sys.argv[2]])
with open("/proc/self/status") as status, open(sys.argv[3], "w") as out:
    own = int(re.search(r"VmHWM:\\s*(\\d+) kB", status.read()).group(1))
    out.write(str(max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)))
sys.exit(code)
"""


@dataclass(frozen=True)
class Checked:
    returncode: int
    result: dict[str, Any]
    stderr: str
    seconds: float
    peak_mib: float


def check_in_child(path: Path) -> Checked:
    peak = path.with_name(path.name + ".peak")
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(MEMORY_LIMIT), str(path), str(peak)],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        check=False,
    )
    seconds = time.monotonic() - start
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout[-3000:]
    return Checked(done.returncode, json.loads(lines[0]), done.stderr, seconds, int(peak.read_text()) / 1024)


# --- documents to spoil -------------------------------------------------------------------------


def small_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("你好")
    document.add_table(rows=2, cols=2)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def rebuilt_docx(change: Callable[[str, bytes], bytes | None], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The small .docx with each member passed through `change` (None drops it)."""
    source = zipfile.ZipFile(io.BytesIO(small_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as package:
        for info in source.infolist():
            part = change(info.filename, source.read(info))
            if part is not None:
                package.writestr(info.filename, part)
    return out.getvalue()


def with_body(body: bytes, doctype: bytes = b"") -> Callable[[str, bytes], bytes | None]:
    def change(name: str, part: bytes) -> bytes | None:
        if name != "word/document.xml":
            return part
        head, rest = part.split(b"<w:body>", 1)
        tail = rest[rest.index(b"</w:body>") :]
        head = head.replace(b"?>", b"?>" + doctype, 1)
        return head + b"<w:body>" + body + tail

    return change


def streamed_bomb(inflated: int) -> tuple[bytes, zipfile.ZipInfo]:
    """A .docx whose document.xml inflates to `inflated` bytes, written without holding them."""
    source = zipfile.ZipFile(io.BytesIO(small_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                package.writestr(info.filename, source.read(info))
        chunk = b"<w:p/>" * (1 << 20)
        with package.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(inflated // len(chunk)):
                member.write(chunk)
    data = out.getvalue()
    return data, zipfile.ZipFile(io.BytesIO(data)).getinfo("word/document.xml")


def zip_bomb() -> bytes:
    return streamed_bomb(256 << 20)[0]


def lying_zip_bomb() -> bytes:
    """640 MiB of XML whose headers claim 4 KB: `ZipFile.read` would inflate it all in one call."""
    data, info = streamed_bomb(640 << 20)
    patched = bytearray(data)
    name = info.filename.encode()
    central = patched.rfind(b"PK\x01\x02", 0, patched.rfind(name))
    assert patched[central + 46 : central + 46 + len(name)] == name
    struct.pack_into("<I", patched, central + 24, 4000)  # uncompressed size, central directory
    struct.pack_into("<I", patched, info.header_offset + 22, 4000)  # and in the local header
    assert zipfile.ZipFile(io.BytesIO(bytes(patched))).getinfo(info.filename).file_size == 4000
    return bytes(patched)


def billion_laughs() -> bytes:
    entities = b'<!ENTITY lol0 "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10)
    )
    body = b"<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>"
    return rebuilt_docx(with_body(body, b"<!DOCTYPE w:document [" + entities + b"]>"))


def deeply_nested_xml() -> bytes:
    return rebuilt_docx(with_body(b"<w:sdt><w:sdtContent>" * 5000 + b"</w:sdtContent></w:sdt>" * 5000))


def oversized_xml() -> bytes:
    # Random text compresses about 2:1, so no compression-ratio check stops this one: only the size.
    noise = random.Random(1).randbytes(MAX_XML_PART // 2 + 1024).hex().encode()
    return rebuilt_docx(with_body(b"<w:p><w:r><w:t>" + noise + b"</w:t></w:r></w:p>"))


def too_many_members() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        for number in range(MAX_MEMBERS + 1):
            package.writestr(f"word/media/image{number}.png", b"")
    return out.getvalue()


def xlsx() -> bytes:
    out = io.BytesIO()
    sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    with zipfile.ZipFile(out, "w") as package:
        package.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/xl/workbook.xml" ContentType="{sheet}"/></Types>',
        )
        package.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


def encrypted_docx() -> bytes:
    msoffcrypto = pytest.importorskip("msoffcrypto.format.ooxml", reason="msoffcrypto-tool encrypts the .docx")
    out = io.BytesIO()
    msoffcrypto.OOXMLFile(io.BytesIO(small_docx())).encrypt("密码", out)
    return out.getvalue()


def image(kind: str) -> Callable[[], bytes]:
    def make() -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (64, 48), "white").save(out, kind)
        return out.getvalue()

    return make


# --- PDFs, written by hand: the few objects a reader needs, with a correct cross-reference table ---


def pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


FONT = b"/Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >>"


def pdf_pages(count: int, content: bytes = b"BT /F1 12 Tf 72 720 Td (plan) Tj ET", page_extra: bytes = b"") -> bytes:
    kids = b" ".join(b"%d 0 R" % (4 + number) for number in range(count))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R /Resources << %s >> %s>>"
    return pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
            *[page % (FONT, page_extra)] * count,
        ]
    )


def pdf_deep_page_tree() -> bytes:
    depth = 5000
    tree = [b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (number + 3) for number in range(depth)]
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>", *tree, b"<< /Type /Page /MediaBox [0 0 595 842] >>"])


def pdf_encrypted() -> bytes:
    handler = b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 /O <%s> /U <%s> >>" % (b"00" * 32, b"11" * 32)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>", handler]
    return pdf(objects, b"/Encrypt 4 0 R /ID [<%s> <%s>] " % (b"ab" * 16, b"ab" * 16))


def flate_bomb_pdf() -> bytes:
    squeeze = zlib.compressobj(9)
    spaces = b" " * (1 << 20)
    stream = squeeze.compress(b"BT /F1 12 Tf 72 720 Td (plan) Tj ET\n")
    stream += b"".join(squeeze.compress(spaces) for _ in range(1200)) + squeeze.flush()
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << %s >> >>" % FONT
    contents = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream)
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, contents])


BAD_FILES: list[tuple[str, str, Callable[[], bytes], str]] = [
    ("empty", "方案.docx", lambda: b"", "empty"),
    ("whitespace only", "方案.pdf", lambda: b" \r\n\t\n", "empty"),
    ("random bytes", "方案.docx", lambda: random.Random(7).randbytes(100_000), "unknown_format"),
    ("PNG saved as .docx", "方案.docx", image("PNG"), "image"),
    ("JPEG saved as .pdf", "方案.pdf", image("JPEG"), "image"),
    ("corrupt zip", "方案.docx", lambda: b"PK\x03\x04" + random.Random(8).randbytes(5000), "corrupt"),
    ("truncated docx", "方案.docx", lambda: small_docx()[:18_000], "corrupt"),
    (
        "docx without word/document.xml",
        "方案.docx",
        lambda: rebuilt_docx(lambda n, p: None if n == "word/document.xml" else p),
        "corrupt",
    ),
    ("docx of bzip2 members", "方案.docx", lambda: rebuilt_docx(lambda n, p: p, zipfile.ZIP_BZIP2), "corrupt"),
    ("xlsx renamed .docx", "方案.docx", xlsx, "not_a_form"),
    ("zip bomb, 256 MiB of XML", "方案.docx", zip_bomb, "too_large"),
    ("zip bomb lying about its size", "方案.docx", lying_zip_bomb, "corrupt"),
    ("XML part over the size limit", "方案.docx", oversized_xml, "too_large"),
    (f"{MAX_MEMBERS + 1} zip members", "方案.docx", too_many_members, "too_large"),
    ("billion laughs", "方案.docx", billion_laughs, "corrupt"),
    ("XML nested 5,000 deep", "方案.docx", deeply_nested_xml, "corrupt"),
    ("password-protected docx", "方案.docx", encrypted_docx, "encrypted"),
    ("password-protected PDF", "方案.pdf", pdf_encrypted, "encrypted"),
    (
        "password-protected PDF (corpus)",
        "方案.pdf",
        lambda: (CORPUS / "docs" / "05-encrypted-password-test.pdf").read_bytes(),
        "encrypted",
    ),
    ("PDF of 3,000 pages", "方案.pdf", lambda: pdf_pages(3000), "too_large"),
    (
        "PDF page of 24,000 characters",
        "方案.pdf",
        lambda: pdf_pages(1, b"BT /F1 2 Tf 0 800 Td " + b"(abcdefgh) Tj " * 3000 + b"ET"),
        "too_large",
    ),
    (
        "PDF with garbage after the header",
        "方案.pdf",
        lambda: b"%PDF-1.7\n" + random.Random(9).randbytes(200_000),
        "corrupt",
    ),
    ("PDF page tree nested 5,000 deep", "方案.pdf", pdf_deep_page_tree, "corrupt"),
    (
        "PDF content nested 100,000 deep",
        "方案.pdf",
        lambda: pdf_pages(1, b"BT /F1 12 Tf 72 720 Td (plan) Tj ET " + b"[" * 100_000 + b"]" * 100_000 + b" Tj"),
        "corrupt",
    ),
    ("PDF without text", "方案.pdf", lambda: pdf_pages(2, b"0 0 100 100 re f"), "scanned"),
]


# The classes of hostile file, as rows of docs/RELIABILITY.md (tests/hostile/hostile_results.py).
ROWS = {
    "Zip bombs and oversized parts in a .docx": (
        1,
        [
            "zip bomb, 256 MiB of XML",
            "zip bomb lying about its size",
            "XML part over the size limit",
            "2001 zip members",
        ],
    ),
    "XML entity expansion and deep nesting in .docx parts": (2, ["billion laughs", "XML nested 5,000 deep"]),
    "PDFs with thousands of pages, deep nesting or crowded pages": (
        3,
        [
            "PDF of 3,000 pages",
            "PDF page tree nested 5,000 deep",
            "PDF content nested 100,000 deep",
            "PDF page of 24,000 characters",
        ],
    ),
    "Encrypted files": (4, ["password-protected docx", "password-protected PDF", "password-protected PDF (corpus)"]),
}


@pytest.fixture(scope="module")
def measured() -> Iterator[dict[str, Checked]]:
    found: dict[str, Checked] = {}
    yield found
    for fault, (order, ids) in ROWS.items():
        rows = [found[i] for i in ids if i in found]
        if len(rows) == len(ids):
            codes = sorted({r.result["findings"][0]["code"] for r in rows})
            hostile_results.record(
                order,
                fault,
                f"{len(ids)} files made at test time ({'; '.join(ids)}), each through `subbot check`",
                len(ids),
                f"all unreadable ({', '.join(codes)}) with a Chinese finding, no traceback; "
                + hostile_results.worst([r.seconds for r in rows], [r.peak_mib for r in rows]),
                seconds={i: round(found[i].seconds, 2) for i in ids},
                peak_mib={i: round(found[i].peak_mib) for i in ids},
            )


@pytest.mark.parametrize(
    ("name", "make", "code"), [(f, m, c) for _, f, m, c in BAD_FILES], ids=[i for i, *_ in BAD_FILES]
)
def test_bad_file_is_unreadable_in_bounded_time_and_memory(
    tmp_path: Path, name: str, make: Callable[[], bytes], code: str, measured: dict[str, Checked], request: Any
) -> None:
    path = tmp_path / name
    path.write_bytes(make())
    checked = check_in_child(path)
    measured[request.node.callspec.id] = checked
    assert checked.returncode == 2
    assert checked.result["verdict"] == "unreadable"
    [finding] = checked.result["findings"]
    assert finding["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in finding["message"]), finding["message"]
    assert checked.peak_mib < PEAK_LIMIT_MIB, f"{checked.peak_mib:.0f} MiB"


def test_the_page_count_is_told_and_found_fast(tmp_path: Path) -> None:
    path = tmp_path / "方案.pdf"
    path.write_bytes(pdf_pages(3000))
    checked = check_in_child(path)
    [finding] = checked.result["findings"]
    assert "3000页" in finding["message"]
    assert checked.peak_mib < 200, f"{checked.peak_mib:.0f} MiB"


def test_hostile_parts_that_do_not_hide_the_text_leave_it_readable(tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    path = tmp_path / "方案.pdf"
    path.write_bytes(pdf_pages(1, page_extra=b"/Annots " + deep + b" "))
    checked = check_in_child(path)
    assert checked.result["verdict"] == "needs_correction"
    assert [f["code"] for f in checked.result["findings"]] == ["form_not_found"]


def test_a_page_just_under_the_character_limit_is_read(tmp_path: Path) -> None:
    per_line = 50
    lines = b"".join(b"0 -3 Td (%s) Tj " % (b"x" * per_line) for _ in range(MAX_PAGE_CHARS // per_line - 1))
    path = tmp_path / "方案.pdf"
    path.write_bytes(pdf_pages(1, b"BT /F1 2 Tf 20 820 Td " + lines + b"ET"))
    checked = check_in_child(path)
    assert checked.result["verdict"] == "needs_correction"


def test_a_flate_bomb_pdf_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    # pdfminer inflates a content stream whole (1 MB of PDF, 2.1 GB): the sandbox's memory limit stops it.
    path = tmp_path / "方案.pdf"
    path.write_bytes(flate_bomb_pdf())
    checked = check_in_child(path)
    assert checked.result["verdict"] == "unreadable"
    assert [f["code"] for f in checked.result["findings"]] == ["too_large"]
    assert checked.peak_mib < PEAK_LIMIT_MIB + (Limits().memory >> 20), f"{checked.peak_mib:.0f} MiB"
    hostile_results.record(
        5,
        "PDF flate bomb (a content stream inflating to 1.2 GB)",
        "1 MB of PDF through `subbot check`; the read runs in the sandbox (bot/sandbox.py)",
        1,
        f"unreadable (too_large) in {checked.seconds:.1f} s; the sandbox peaked at {checked.peak_mib:.0f} MiB "
        f"under its limit of {Limits().memory >> 20} MiB above the process, the command itself stayed small",
        seconds=round(checked.seconds, 2),
        peak_mib=round(checked.peak_mib),
    )


def test_a_library_failure_nobody_foresaw_is_corrupt_with_its_type_kept(
    layout: FormLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(data: bytes) -> list[object]:
        raise IndexError("list index out of range")

    monkeypatch.setattr(plan, "read_docx_blocks", fail)
    read = plan.read_plan(small_docx(), "方案.docx", layout)
    assert read.unreadable is not None
    assert read.unreadable.code == "corrupt"
    assert read.unreadable.detail.startswith("builtins.IndexError: ")


def _pdf_with_media_box(box: bytes) -> bytes:
    """A one-page PDF whose page has `box` as its MediaBox, with a right cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox " + box + b" >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def test_a_pdf_page_box_that_is_not_numbers_is_a_corrupt_file() -> None:
    # What the hostile fuzz test found: pdfplumber raises MalformedPDFException on such a box.
    codes = []
    for box in (b"[0 0 595 842]", b"[0 0 5 /x 5 842]"):
        with pytest.raises(UnreadableDocument) as caught:
            read_pdf_blocks(_pdf_with_media_box(box))
        codes.append(caught.value.code)
    assert codes == ["scanned", "corrupt"]  # the same page with a right box is read, and has no text
