"""Scans and photos of the plan form read by OCR (parsers/scan), over pages made from real forms.

A few representative pages only (OCR takes seconds a page): a clean 200-dpi scan, a skewed scan with a
red seal over the organiser, a phone photo in perspective under uneven light, a page turned 90°, ticks
drawn by hand, and a noisy image-only PDF of two pages holding two activities. Every variant, with
timings and memory, is in `python -m bench.bench_ocr`."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from scan_pages import FORMS, Page, fields_right, make_pages, tools_missing

import parsers.plan
from bot.cli import main
from bot.forms.check import activity_json
from bot.rules.scan import OCR_CODES
from parsers.blocks import Paragraph, Row
from parsers.form_reader import read_form
from parsers.plan import read_plan
from parsers.records import FormLayout
from parsers.scan import OcrFailed, ocr_available, read_scan
from parsers.scan.doubts import UNCERTAIN_BELOW, uncertain_fields
from parsers.scan.labels import Labels
from parsers.scan.sheet import Placed

pytestmark = pytest.mark.skipif(not ocr_available(), reason="the ocr extra is not installed (pip install -e '.[dev]')")

VARIANTS = ("clean", "skewed-seal", "photo", "rotated-90", "hand-ticks", "two-activities")
# What each variant is there to show, beside reading 13 fields of 14.
SHOWN = {
    "clean": ("organiser", "modules", "audiences", "contact.mobile", "plan_text"),
    "two-activities": ("organiser", "title", "modules", "time", "contact.mobile"),
    "skewed-seal": ("organiser", "title", "modules", "venue", "contact.office_phone"),
    "photo": ("time", "venue", "contact.mobile", "address"),
    "rotated-90": ("title", "modules", "scale", "contact.name"),
    "hand-ticks": ("modules", "audiences"),
}


@pytest.fixture(scope="session")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Page]:
    missing = tools_missing()
    assert not missing, f"{', '.join(missing)} needed to make the scans; run `make system-deps`"
    return {page.variant: page for page in make_pages(tmp_path_factory.mktemp("scans"), VARIANTS)}


@pytest.fixture(scope="session")
def reads(pages: dict[str, Page], layout: FormLayout) -> dict[str, Any]:
    return {variant: read_plan(page.data, page.name, layout) for variant, page in pages.items()}


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_scanned_or_photographed_form_reads_as_it_was_filled_in(variant: str, pages: dict[str, Page], reads: dict[str, Any]) -> None:
    read = reads[variant]
    assert read.unreadable is None and read.read_by == "ocr"
    expected = pages[variant].activities
    assert len(read.activities) == len(expected)
    for index, (activity, answer) in enumerate(zip(read.activities, expected, strict=True)):
        right = fields_right(activity_json(activity), answer)
        wrong = [field for field, ok in right.items() if not ok]
        assert len(wrong) <= 1, f"activity {index} read wrong: {wrong}: {activity_json(activity)}"
        assert all(right[field] for field in SHOWN[variant]), f"activity {index} read wrong: {wrong}"
        # A field read wrong is one a person is asked to check (the 工作方案 is judged by similarity).
        listed = {field for at, field in read.uncertain if at == index}
        assert set(wrong) - {"plan_text"} <= listed


def test_check_json_of_a_photo_gives_what_the_docx_gives(tmp_path: Path, pages: dict[str, Page], capsys: pytest.CaptureFixture[str]) -> None:
    page = pages["clean"]
    photo = tmp_path / page.name
    photo.write_bytes(page.data)
    answers = []
    for path in (FORMS / "official-standard.docx", photo):
        main(["check", "--json", str(path)])
        answer = json.loads(capsys.readouterr().out.splitlines()[-1])
        answers.append({key: answer[key] for key in ("verdict", "activities", "findings")})
    # The same, but for the warnings that say the form was read by OCR (bot/rules/scan.py): never silently.
    said = [f for f in answers[1]["findings"] if f["code"] in OCR_CODES]
    assert [f["code"] for f in said][:1] == ["read_by_ocr"] and all(f["severity"] == "warning" for f in said)
    answers[1]["findings"] = [f for f in answers[1]["findings"] if f["code"] not in OCR_CODES]
    assert answers[1] == answers[0]


def test_without_the_ocr_extra_a_scan_is_answered_as_before(
    pages: dict[str, Page], layout: FormLayout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsers.plan, "ocr_available", lambda: False)
    photo, pdf = pages["clean"], pages["two-activities"]
    for page, code in ((photo, "image"), (pdf, "scanned")):
        read = read_plan(page.data, page.name, layout)
        assert read.read_by == "text" and not read.activities
        assert read.unreadable is not None and read.unreadable.code == code
        assert "OCR" not in read.unreadable.detail


def test_ocr_that_cannot_run_here_answers_as_before(pages: dict[str, Page], layout: FormLayout, monkeypatch: pytest.MonkeyPatch) -> None:
    """onnxruntime out of address space in the sandbox's worker: the sender is answered as without OCR."""

    def fail(data: bytes, name: str, layout: FormLayout) -> None:
        raise OcrFailed("onnxruntime: RuntimeException: std::bad_alloc")

    monkeypatch.setattr(parsers.plan, "read_scan", fail)
    page = pages["clean"]
    read = read_plan(page.data, page.name, layout)
    assert read.unreadable is not None and read.unreadable.code == "image"
    assert "bad_alloc" in read.unreadable.detail


def _noise(width: int, height: int) -> bytes:
    rng = random.Random(5)
    image = Image.frombytes("L", (width, height), bytes(rng.randrange(256) for _ in range(width * height)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _holiday_photo() -> bytes:
    image = Image.new("RGB", (1600, 1200), (90, 140, 200))
    image.paste((40, 120, 40), (0, 800, 1600, 1200))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("噪点.png", _noise(900, 1200), "image"),
        ("活动照片.jpg", _holiday_photo(), "image"),
        ("截断.jpg", _holiday_photo()[:5000], "image"),
        ("小图.png", _noise(64, 48), "image"),
    ],
    ids=["noise", "a photo of something else", "truncated JPEG", "tiny"],
)
def test_a_picture_without_a_form_is_answered_as_before_saying_ocr_was_tried(
    name: str, data: bytes, code: str, layout: FormLayout
) -> None:
    read = read_plan(data, name, layout)
    assert read.unreadable is not None and read.unreadable.code == code
    assert "OCR" in read.unreadable.detail
    direct = read_scan(data, name, layout)
    assert direct.unreadable is not None and any("\u4e00" <= ch <= "\u9fff" for ch in direct.unreadable.message)


def test_a_picture_bomb_is_refused_before_it_is_decoded(layout: FormLayout) -> None:
    out = io.BytesIO()
    Image.new("1", (15_000, 15_000), 1).save(out, "PNG")  # 225 megapixels in a few hundred kB
    read = read_plan(out.getvalue(), "方案.png", layout)
    assert read.unreadable is not None and read.unreadable.code == "too_large"


def test_fields_below_the_threshold_are_listed_by_activity_and_key(layout: FormLayout) -> None:
    """Pure: the OCR'd blocks of two activities, each cell with its lowest confidence."""
    low = UNCERTAIN_BELOW - 0.1

    def row(table: int, *cells: tuple[str, float]) -> Placed:
        return Placed(Row(tuple(c for c, _ in cells), table), tuple(s for _, s in cells), 0)

    placed = [
        row(0, ("主办单位名称", 1.0), ("北京石油学会", 0.99)),
        row(0, ("主题活动名称", 1.0), ("座谈会", 0.99)),
        row(0, ("拟举办地点", 1.0), ("北京市海淀区", low)),
        row(0, ("主办单位联系人", 1.0), ("手机", 1.0), ("1391234567", low)),
        Placed(Paragraph("工作思路"), (low,), 0),
        row(1, ("主办单位名称", 1.0), ("四川省石油学会", low)),
        row(1, ("主题活动名称", 1.0), ("报告会", 0.99)),
        row(1, ("拟举办时间", 1.0), ("第二阶段", 0.99)),
    ]
    form = read_form([p.block for p in placed], layout)
    assert len(form.activities) == 2
    doubts = uncertain_fields(placed, Labels(layout), form)
    assert doubts == ((0, "venue"), (0, "contact.mobile"), (0, "plan_text"), (1, "organiser"))


def test_a_label_with_a_character_misread_still_names_its_field(layout: FormLayout) -> None:
    labels = Labels(layout)
    assert labels.canonical("面向群休", [1.0, 1.0, 1.0, 0.6]) == "面向群体"
    assert labels.canonical("传眞", [0.99, 0.8]) == "传真"
    # A name of two characters read with confidence is a value, not a label.
    assert labels.canonical("张名", [0.99, 0.99]) is None
    assert labels.canonical("北京石油学会", [1.0] * 6) is None
