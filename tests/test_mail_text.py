"""The small decoders under parse_message: header words, charset labels, file names."""

from __future__ import annotations

import base64

import pytest

from parsers.body import find_links, html_text
from parsers.charsets import decode_bytes
from parsers.headers import decode_value, split_params
from parsers.names import fallback_name, safe_name, unique_name


def _b(text: str, codec: str) -> str:
    return base64.b64encode(text.encode(codec)).decode()


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        (f"=?gb2312?B?{_b('张喆', 'gbk')}?=", "张喆"),  # GBK-only character under a GB2312 label
        (f"=?GBK?B?{_b('王堃', 'gbk')[:4]}?= =?GBK?B?{_b('王堃', 'gbk')[4:]}?=", "王堃"),
        ("=?utf-8?Q?a_b?= =?utf-8?Q?c?= d", "a bc d"),  # space between words is not text, after is
        ("=?x-unknown?B?bXlHb3Y=?=", "myGov"),
        ("=?utf-8?B?a?=", "=?utf-8?B?a?="),  # not base64: kept as it came
        (f"=?utf-8?B?{_b('a' + chr(13) + chr(10) + 'Bcc: x', 'utf-8')}?=", "a Bcc: x"),
        ("\udcd5\udcc5", "张"),  # raw 8-bit GBK as the parser hands it over
        ("plain", "plain"),
    ],
)
def test_decode_value(raw: str, decoded: str) -> None:
    assert decode_value(raw) == decoded


def test_split_params_joins_rfc2231_continuations() -> None:
    value, params = split_params("attachment;\tfilename*0*=gbk''%D5%C5;\tfilename*1*=%86%B4.docx; size=10")
    assert (value, params["filename"], params["size"]) == ("attachment", "张喆.docx", "10")


def test_split_params_keeps_quoted_semicolons() -> None:
    assert split_params('text/plain; name="a;b.txt"; charset=GBK')[1] == {"name": "a;b.txt", "charset": "GBK"}


@pytest.mark.parametrize(
    ("data", "label", "text"),
    [
        ("张喆".encode("gbk"), "gb2312", "张喆"),
        ("你好".encode(), "gb2312", "你好"),  # labelled GB2312, really UTF-8
        ("大補".encode("big5"), "big5", "大補"),
        (b"\x1b$B%F%9%H\x1b(B", "iso-2022-jp", "テスト"),
        (b"abc", "rot13", "abc"),  # not a text encoding: ignored
        (b"+2D0-", "utf-7", "+2D0-"),  # would be a lone surrogate, which nothing can store
        (b"\xff\xfe\xfd", None, "\ufffd\ufffd\ufffd"),
    ],
)
def test_decode_bytes(data: bytes, label: str | None, text: str) -> None:
    assert decode_bytes(data, label) == text


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\方案.docx", "方案.docx"),
        ("方案..docx", "方案.docx"),
        ("a\x00b\r\n.docx", "a b .docx"),
        ('what?"<>|*:.pdf', "what_______.pdf"),
        (".docx", ""),
        ("..", ""),
        ("   ", ""),
        ("x" * 300 + ".docx", "x" * 175 + ".docx"),
    ],
)
def test_safe_name(raw: str, safe: str) -> None:
    assert safe_name(raw) == safe


def test_fallback_and_unique_names() -> None:
    assert fallback_name(1, "docx", "application/octet-stream") == "附件1.docx"
    assert fallback_name(2, "image", "image/png") == "附件2.png"
    assert fallback_name(3, "unknown", "application/x-foo") == "附件3"
    assert unique_name("方案.docx", {"方案.docx", "方案 (2).docx"}) == "方案 (3).docx"


def test_html_text_skips_hidden_parts_and_keeps_links() -> None:
    html = '<html><head><style>p{}</style></head><body><p>方案\x01见<a href="https://pan.baidu.com/s/1a">网盘</a></p>'
    html += "<script>var x = 1;</script><div>第二行</div></body></html>"
    assert html_text(html) == ("方案\x01见网盘\n\n第二行", ["https://pan.baidu.com/s/1a"])


def test_links_stop_at_chinese_text_and_punctuation() -> None:
    text = "链接：https://pan.baidu.com/s/1AbC-x，提取码：8k2q（见https://example.org/a_(b)）。"
    assert find_links([text]) == ("https://pan.baidu.com/s/1AbC-x", "https://example.org/a_(b)")
