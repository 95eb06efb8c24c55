"""Fuzzing the readers below parse_message (tests/test_mail_fuzz.py fuzzes that one): the form reader over
made-up tables, `read_plan` over real forms broken at random, and each field parser over any text. None
may raise but the documented exceptions: `read_plan` raises only NeedsConversion (for .doc/.wps/.odt/.rtf,
which the caller converts); the field parsers never raise."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import zipfile
from pathlib import Path

from hostile_results import record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bad_files import pdf_pages

from parsers.auth import check_sender
from parsers.blocks import Block, Paragraph, Row
from parsers.body import find_links, html_text
from parsers.charsets import decode_bytes, decode_raw_header
from parsers.form_reader import read_form
from parsers.headers import decode_value, parse_addresses, parse_date, split_params
from parsers.marks import read_choices
from parsers.media import exif_date, read_media
from parsers.names import safe_name, unique_name
from parsers.numbers import read_people
from parsers.plan import NeedsConversion, read_plan
from parsers.records import FormLayout, PlanRead
from parsers.text import clean, fold_symbols, join_lines, label_key
from parsers.timing import read_timing

FORMS = Path(__file__).resolve().parents[1] / "fixtures" / "forms"
SEEDS = [
    (FORMS / "official-standard.docx").read_bytes(),
    (FORMS / "checkboxes.docx").read_bytes(),
    pdf_pages(1, b"BT /F1 12 Tf 72 720 Td (organiser) Tj 0 -20 Td (title) Tj ET"),
]
FIELD_TEXT = st.text(
    st.one_of(st.characters(), st.sampled_from(list("0123456789年月日至—-~./：:第一二三四五阶段☑□■√✓×人约余"))),
    max_size=80,
)
EXAMPLES = {"form reader": 150, "read_plan": 200, "field parsers": 300}
_COUNTED: dict[str, int] = {}


def _count(name: str) -> None:
    _COUNTED[name] = _COUNTED.get(name, 0) + 1


def _blocks(layout: FormLayout) -> st.SearchStrategy[list[Block]]:
    labels = [label for names in layout.labels.values() for label in names]
    cell = st.one_of(st.sampled_from(labels), FIELD_TEXT, st.just(""))
    row = st.builds(Row, st.lists(cell, max_size=6).map(tuple), st.integers(0, 3))
    paragraph = st.builds(Paragraph, st.one_of(FIELD_TEXT, st.sampled_from(labels)))
    return st.lists(st.one_of(row, paragraph), max_size=60)


@settings(max_examples=EXAMPLES["form reader"], deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_form_reader_takes_any_tables(layout: FormLayout, data: st.DataObject) -> None:
    read = read_form(data.draw(_blocks(layout)), layout)
    assert read.blank_tables >= 0
    for activity in read.activities:
        assert activity.scale_people is None or activity.scale_people >= 0
    _count("form reader")


def _mutate(data: bytes, changes: list[tuple[float, int, int]]) -> bytes:
    for where, byte, span in changes:
        at = int(where * len(data))
        data = data[:at] + bytes([byte]) * span + data[at + span :]
    return data


@settings(max_examples=EXAMPLES["read_plan"], deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(range(len(SEEDS))),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255), st.integers(1, 64)), min_size=1, max_size=5),
    st.sampled_from(["方案.docx", "方案.pdf", "方案", "方案.doc"]),
)
def test_read_plan_raises_only_needs_conversion(
    layout: FormLayout, seed: int, changes: list[tuple[float, int, int]], name: str
) -> None:
    with contextlib.suppress(NeedsConversion):
        read = read_plan(_mutate(SEEDS[seed], changes), name, layout)
        assert isinstance(read, PlanRead)
        assert read.unreadable is None or (read.unreadable.code and read.unreadable.message)
    _count("read_plan")


@settings(max_examples=EXAMPLES["read_plan"] // 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["word/document.xml", "[Content_Types].xml", "word/_rels/x"]), st.binary()))
def test_read_plan_takes_any_package(layout: FormLayout, members: dict[str, bytes]) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for member, part in members.items():
            package.writestr(member, part)
    assert isinstance(read_plan(out.getvalue(), "方案.docx", layout), PlanRead)
    _count("read_plan")


@settings(max_examples=EXAMPLES["field parsers"], deadline=None)
@given(FIELD_TEXT, st.integers(1900, 2100))
def test_field_parsers_take_any_text(text: str, year: int) -> None:
    timing = read_timing(text, year)
    assert timing.start is None or isinstance(timing.start, dt.date)
    people = read_people(text)
    assert people is None or people >= 0
    options = ("团结引领", "为民服务", "科技工作者")
    assert set(read_choices(text, options).selected) <= set(options)
    for function in (clean, fold_symbols, join_lines, label_key, decode_value):
        assert isinstance(function(text), str)
    html, links = html_text(text)
    assert isinstance(html, str) and all(isinstance(link, str) for link in [*links, *find_links([text])])
    assert isinstance(parse_addresses(text), list) and isinstance(split_params(text)[1], dict)
    assert parse_date(text) is None or parse_date(text).tzinfo is not None  # type: ignore[union-attr]
    assert check_sender([text], text).result in ("pass", "fail", "unknown")
    _count("field parsers")


@settings(max_examples=EXAMPLES["field parsers"], deadline=None)
@given(st.text(max_size=300), st.sets(st.text(max_size=20), max_size=5))
def test_names_are_always_safe(name: str, taken: set[str]) -> None:
    safe = safe_name(name)
    assert not any(ch in safe for ch in '/\\\x00\r\n<>:"|?*') and safe not in (".", "..") and len(safe) <= 180
    assert unique_name(safe or "附件", taken) not in taken
    _count("field parsers")


@settings(max_examples=EXAMPLES["field parsers"], deadline=None)
@given(st.binary(max_size=400), st.sampled_from([None, "gbk", "gb2312", "utf-8", "big5", "x-unknown", "utf-7"]))
def test_decoders_take_any_bytes(data: bytes, label: str | None) -> None:
    assert isinstance(decode_bytes(data, label), str) and isinstance(decode_raw_header(data, label), str)
    assert exif_date(data) is None or isinstance(exif_date(data), dt.datetime)
    assert read_media(b"\xff\xd8\xff\xe1" + data, "照片.jpg").kind in ("photo", "video", "document", "other")
    _count("field parsers")


def test_zz_record_the_fuzzing() -> None:
    """Written last in this module: how many examples each reader took without an undocumented exception."""
    assert _COUNTED, "the fuzz tests above ran first"
    record(
        11,
        "Fuzzing the form readers and field parsers",
        "hypothesis: made-up tables through read_form, real .docx/.pdf forms with bytes overwritten and made-up "
        "packages through read_plan, any text/bytes through the timing, people, choice, name, header, "
        "charset, HTML, EXIF and Authentication-Results parsers",
        sum(_COUNTED.values()),
        "no exception but the documented NeedsConversion; names never carry a path, control or reserved "
        "character (parse_message and winmail.dat: tests/test_mail_fuzz.py)",
        examples=dict(_COUNTED),
    )
