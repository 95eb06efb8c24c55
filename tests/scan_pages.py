"""Scans and phone photos of filled-in plan forms, made from real forms for the OCR tests and bench.

Each page starts as a .docx form (the golden `official-standard.docx`, or one written by
parsers.form_writer), printed by LibreOffice to PDF and rasterised by pdftoppm at 200 dpi as a
scanner would; then a variant does to it what scanning and photographing do: skew, noise, JPEG, a red
seal over the organiser, values in a handwriting-style font (AR PL UKai), ticks drawn by hand, a photo
in perspective under uneven light, a page turned. The expected activity comes from what was filled
in (the golden answer beside the .docx, or the entry written), never from the reader. Nothing here is
committed: pages are made in a temporary folder at test or bench time.
"""

from __future__ import annotations

import io
import json
import math
import random
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import docx
import numpy as np
import pdfplumber
import pillow_heif
from docx.oxml.ns import qn
from PIL import Image, ImageDraw, ImageFont

from bot.forms.layout import form_layout
from config import load_campaign
from parsers.form_writer import FormEntry, write_form

FORMS = Path(__file__).parent / "fixtures" / "forms"
DPI = 200
HAND_FONT = "AR PL UKai CN"
_HAND_FONT_FILE = Path("/usr/share/fonts/truetype/arphic/ukai.ttc")

Pixels = np.ndarray[Any, Any]

# The fields a page is scored on: every field of the form but fax, which these forms leave empty.
FIELDS = (
    "organiser",
    "title",
    "modules",
    "co_organiser",
    "time",
    "venue",
    "audiences",
    "scale",
    "contact.name",
    "contact.office_phone",
    "contact.mobile",
    "contact.email",
    "address",
    "plan_text",
)
# A 工作方案 of a few hundred characters counts as read right when its letters, digits and characters
# (punctuation and spaces left out: OCR reads “” as "" and ， as ；) are this similar (rapidfuzz
# ratio) to what was typed: two misread characters in a hundred. Every other field must be exact.
PLAN_SIMILARITY = 98.0

_LONG_PLAN = (
    "一、工作思路：围绕“众心向党、自立自强”主题，组织科技工作者座谈交流，弘扬科学家精神。",
    "二、实施举措：邀请院士专家与青年科技工作者面对面交流，走访慰问一线科技工作者。",
    "三、预期成效：形成建议报告一份，覆盖12个单位，约150人参加。",
)
_RICH = FormEntry(
    cells={
        "organiser": "四川省石油学会",
        "title": "油气科普进校园",
        "co_organiser": "西南石油大学",
        "time": "第三阶段；6月8日—6月10日",
        "venue": "成都市新都区新都大道8号",
        "scale": "约150人",
        "contact.name": "王刚",
        "contact.office_phone": "028-83032345",
        "contact.mobile": "13812345678",
        "contact.email": "wanggang@example.com",
        "address": "成都市新都区新都大道8号",
    },
    modules=("建家办事", "开放合作"),
    audiences=("科协系统干部", "科技工作者"),
    plan_text="\n".join(_LONG_PLAN),
)
_SECOND = FormEntry(
    cells={
        "organiser": "大庆油田科技馆",
        "title": "“科学家精神”报告会",
        "co_organiser": "大庆油田青年科技协会",
        "time": "第一阶段；5月12日—5月14日",
        "venue": "大庆市让胡路区中央大街1号",
        "scale": "约80人",
        "contact.name": "赵丽",
        "contact.office_phone": "0459-5901234",
        "contact.mobile": "13704591234",
        "contact.email": "zhaoli@example.com",
        "address": "大庆市让胡路区中央大街1号",
    },
    modules=("团结引领", "为民服务", "表彰发布"),
    audiences=("海外同行",),
    plan_text="一、工作思路：请院士讲述科学家故事。\n二、预期成效：约80人参加。",
)


@dataclass(frozen=True)
class Page:
    """One scanned or photographed form: its bytes, the name it is sent under, the activities it must
    read as (`expected` the first), and how many pages it has."""

    variant: str
    name: str
    data: bytes
    activities: tuple[dict[str, Any], ...]
    pages: int = 1

    @property
    def expected(self) -> dict[str, Any]:
        return self.activities[0]


@dataclass(frozen=True)
class _Base:
    """A printed form: the .docx, its 200-dpi pages (RGB), its PDF (for where things are), the answers."""

    docx: bytes
    pages: tuple[Pixels, ...]
    pdf: bytes
    activities: tuple[dict[str, Any], ...]

    @property
    def page(self) -> Pixels:
        return self.pages[0]

    @property
    def expected(self) -> dict[str, Any]:
        return self.activities[0]


def tools_missing() -> list[str]:
    """What this machine lacks to make the pages (`make system-deps` installs them)."""
    missing = [tool for tool in ("soffice", "pdftoppm") if not shutil.which(tool)]
    return missing + ([] if _HAND_FONT_FILE.is_file() else ["fonts-arphic-ukai"])


def make_pages(folder: Path, variants: tuple[str, ...] | None = None) -> list[Page]:
    """The variants named (all when None), made in `folder`."""
    wanted = [v for v in VARIANTS if variants is None or v in variants]
    bases: dict[str, _Base] = {}
    pages = []
    for variant in wanted:
        base_name, make = VARIANTS[variant]
        if base_name not in bases:
            bases[base_name] = _BASES[base_name](folder)
        base = bases[base_name]
        name, data = make(base, random.Random(variant))
        count = len(base.pages) if name.endswith(".pdf") else 1
        pages.append(Page(variant, name, data, base.activities if count > 1 else base.activities[:1], count))
    return pages


def fields_right(activity: dict[str, Any], expected: dict[str, Any]) -> dict[str, bool]:
    """Which of FIELDS an activity (as `result_json` gives it) has right."""
    from rapidfuzz import fuzz

    def squash(text: str) -> str:
        return "".join(ch for ch in text if ch.isalnum())

    def right(key: str) -> bool:
        if key == "time":
            return all(activity[k] == expected[k] for k in ("stage", "start", "end"))
        if key.startswith("contact."):
            return bool(activity["contact"][key[8:]] == expected["contact"][key[8:]])
        if key == "plan_text":
            return fuzz.ratio(squash(activity[key]), squash(expected[key])) >= PLAN_SIMILARITY
        return bool(activity[key] == expected[key])

    return {key: right(key) for key in FIELDS}


# --- the printed forms -------------------------------------------------------------------------


def _golden(folder: Path) -> _Base:
    answer = json.loads((FORMS / "official-standard.expected.json").read_text(encoding="utf-8"))
    return _printed(folder, "standard", (FORMS / "official-standard.docx").read_bytes(), answer["activities"][:1])


def _rich(folder: Path, *, hand: bool = False, ticks: bool = True) -> _Base:
    layout = form_layout(load_campaign())
    entry = _RICH if ticks else FormEntry(_RICH.cells, _RICH.modules, _RICH.audiences, _RICH.plan_text, tick=" ")
    data = write_form(layout, [entry])
    if hand:
        data = _handwritten(data)
    name = "rich" + ("-hand" if hand else "") + ("" if ticks else "-unticked")
    return _printed(folder, name, data, (_expected(_RICH, 3, "2021-06-08", "2021-06-10", 150),))


def _two(folder: Path) -> _Base:
    """Two activities, one table each, over two pages."""
    data = write_form(form_layout(load_campaign()), [_RICH, _SECOND])
    answers = (_expected(_RICH, 3, "2021-06-08", "2021-06-10", 150), _expected(_SECOND, 1, "2021-05-12", "2021-05-14", 80))
    return _printed(folder, "two", data, answers)


def _expected(entry: FormEntry, stage: int, start: str, end: str, people: int) -> dict[str, Any]:
    cells = entry.cells
    return {
        "organiser": cells["organiser"],
        "title": cells["title"],
        "modules": list(entry.modules),
        "co_organiser": cells["co_organiser"],
        "stage": stage,
        "start": start,
        "end": end,
        "venue": cells["venue"],
        "audiences": list(entry.audiences),
        "scale": cells["scale"],
        "scale_people": people,
        "contact": {
            "name": cells["contact.name"],
            "office_phone": cells["contact.office_phone"],
            "mobile": cells["contact.mobile"],
            "fax": "",
            "email": cells["contact.email"],
        },
        "address": cells["address"],
        "plan_text": entry.plan_text,
    }


def _handwritten(data: bytes) -> bytes:
    """The values (not the printed labels) in a handwriting-style font, a size larger, as if written."""
    document = docx.Document(io.BytesIO(data))
    labels = {c.text for row in document.tables[0].rows for c in row.cells[:1]} | {"姓名", "办公电话", "手机", "传真", "电子邮箱"}
    runs = [r for row in document.tables[0].rows for cell in row.cells[1:] if cell.text not in labels for p in cell.paragraphs for r in p.runs]
    plan_start = next(i for i, p in enumerate(document.paragraphs) if p.text.startswith("（应突出重点")) + 1
    runs += [r for p in document.paragraphs[plan_start:] for r in p.runs]
    for run in runs:
        run.font.name = HAND_FONT
        run.font.size = docx.shared.Pt(13)
        run._element.rPr.rFonts.set(qn("w:eastAsia"), HAND_FONT)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _printed(folder: Path, name: str, data: bytes, activities: tuple[dict[str, Any], ...]) -> _Base:
    source = folder / f"{name}.docx"
    source.write_bytes(data)
    profile = (folder / "lo-profile").as_uri()
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--norestore", "--convert-to", "pdf", "--outdir", str(folder), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pdf = (folder / f"{name}.pdf").read_bytes()
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", str(folder / f"{name}.pdf"), str(folder / name)], check=True, timeout=120)
    numbered = [(path, path.stem[len(name) + 1 :]) for path in folder.glob(f"{name}-*.png")]
    files = [path for path, number in sorted(numbered, key=lambda item: item[1].zfill(4)) if number.isdigit()]
    pages = tuple(np.asarray(Image.open(path).convert("RGB")).copy() for path in files)
    return _Base(data, pages, pdf, activities)


_BASES: dict[str, Callable[[Path], _Base]] = {
    "standard": _golden,
    "rich": _rich,
    "rich-hand": lambda folder: _rich(folder, hand=True),
    "rich-unticked": lambda folder: _rich(folder, ticks=False),
    "two": _two,
}


# --- what scanning and photographing do ----------------------------------------------------------


def _png(image: Pixels) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, "PNG")
    return out.getvalue()


def _jpeg(image: Pixels, quality: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, "JPEG", quality=quality)
    return out.getvalue()


def _image_pdf(*images: Pixels) -> bytes:
    out = io.BytesIO()
    first, *rest = (Image.fromarray(image) for image in images)
    first.save(out, "PDF", resolution=DPI, save_all=True, append_images=rest)
    return out.getvalue()


def _heic(image: Pixels) -> bytes:
    out = io.BytesIO()
    pillow_heif.from_pillow(Image.fromarray(image)).save(out, quality=80)
    return out.getvalue()


def _rotate(image: Pixels, degrees: float) -> Pixels:
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), borderValue=(255, 255, 255), flags=cv2.INTER_LINEAR)


def _noisy(image: Pixels, rng: random.Random) -> Pixels:
    """A dusty scanner glass: grain, specks, and a little blur."""
    generator = np.random.default_rng(rng.randrange(1 << 30))
    grain = generator.normal(0, 18, image.shape[:2])[..., None]
    out = np.clip(cv2.GaussianBlur(image, (3, 3), 0).astype(np.float32) + grain, 0, 255).astype(np.uint8)
    specks = generator.random(image.shape[:2]) < 0.002
    out[specks] = 0
    return out


def _where(base: _Base, text: str, *after: str) -> tuple[float, float, float, float]:
    """The box (pixels) of `text` on the printed page, the first time it follows each of `after` in turn."""
    with pdfplumber.open(io.BytesIO(base.pdf)) as pdf:
        chars = pdf.pages[0].chars
    line = "".join(c["text"] for c in chars)
    start = 0
    for anchor in after:
        start = line.index(anchor, start)
    start = line.index(text, start)
    run = chars[start : start + len(text)]
    scale = DPI / 72
    return (
        min(c["x0"] for c in run) * scale,
        min(c["top"] for c in run) * scale,
        max(c["x1"] for c in run) * scale,
        max(c["bottom"] for c in run) * scale,
    )


def _seal(base: _Base, image: Pixels, rng: random.Random) -> Pixels:
    """A round red 公章 (ring, star, the organiser's name round the top) stamped over the organiser."""
    x0, y0, x1, y1 = _where(base, base.expected["organiser"])
    radius = 150
    cx, cy = (x0 + x1) / 2 + rng.uniform(-20, 20), (y0 + y1) / 2 + rng.uniform(-10, 30)
    stamp = Image.new("L", (2 * radius + 20, 2 * radius + 20), 0)
    draw = ImageDraw.Draw(stamp)
    c = radius + 10
    draw.ellipse((c - radius, c - radius, c + radius, c + radius), outline=255, width=9)
    star = [(c + 45 * math.cos(math.pi / 2 + k * 4 * math.pi / 5), c - 45 * math.sin(math.pi / 2 + k * 4 * math.pi / 5)) for k in range(5)]
    draw.polygon(star, fill=255)
    font = ImageFont.truetype(str(_HAND_FONT_FILE), 42)
    name = base.expected["organiser"] + "专用章"
    for k, ch in enumerate(name):
        angle = math.radians(200 - k * (220 / max(len(name) - 1, 1)))
        glyph = Image.new("L", (60, 60), 0)
        ImageDraw.Draw(glyph).text((30, 30), ch, fill=255, font=font, anchor="mm")
        glyph = glyph.rotate(math.degrees(angle) - 90, resample=Image.BILINEAR)
        gx, gy = c + (radius - 42) * math.cos(angle), c - (radius - 42) * math.sin(angle)
        stamp.paste(glyph, (round(gx - 30), round(gy - 30)), glyph)
    ink = np.asarray(stamp, dtype=np.float32) / 255 * rng.uniform(0.75, 0.9)
    out = image.astype(np.float32)
    top, left = round(cy - c), round(cx - c)
    region = out[top : top + ink.shape[0], left : left + ink.shape[1]]
    colour = np.array([214, 32, 38], np.float32) / 255
    # Ink multiplies what is under it: black print stays black under the red.
    region *= 1 - ink[..., None] * (1 - colour)
    return np.clip(out, 0, 255).astype(np.uint8)


def _hand_ticks(base: _Base, image: Pixels, rng: random.Random) -> Pixels:
    """A pen's √ drawn into the bracket after each chosen module and audience."""
    out = image.copy()
    chosen = [("可多选", m) for m in base.expected["modules"]] + [("面向群体", a) for a in base.expected["audiences"]]
    for row, option in chosen:
        x0, y0, x1, y1 = _where(base, "（", row, option)
        width, height = (x1 - x0) * 2, y1 - y0
        left, mid = x0 + width * 0.15, y0 + height * 0.5
        points = [
            (left + rng.uniform(-4, 4), mid + rng.uniform(-4, 4)),
            (left + width * 0.35 + rng.uniform(-3, 3), y1 + rng.uniform(0, 6)),
            (left + width * 1.1 + rng.uniform(-4, 8), y0 - height * 0.15 + rng.uniform(-6, 4)),
        ]
        curve = np.array([[round(x), round(y)] for x, y in points], np.int32)
        cv2.polylines(out, [curve], False, (35, 45, 120), thickness=rng.choice((4, 5)), lineType=cv2.LINE_AA)
    return out


def _photo(image: Pixels, rng: random.Random) -> Pixels:
    """The page photographed on a desk: in perspective, lit from one side, a little soft."""
    height, width = image.shape[:2]
    canvas = (int(width * 1.3), int(height * 1.25))
    border = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    spread = [(rng.uniform(0.06, 0.12), rng.uniform(0.04, 0.08)) for _ in range(4)]
    cw, ch = canvas
    target = np.array(
        [
            [cw * spread[0][0], ch * spread[0][1]],
            [cw * (1 - spread[1][0] * 0.6), ch * spread[1][1] * 1.5],
            [cw * (1 - spread[2][0]), ch * (1 - spread[2][1])],
            [cw * spread[3][0] * 0.7, ch * (1 - spread[3][1] * 0.8)],
        ],
        np.float32,
    )
    matrix = cv2.getPerspectiveTransform(border, target)
    desk = (112, 96, 80)
    shot = cv2.warpPerspective(image, matrix, canvas, borderValue=desk, flags=cv2.INTER_AREA)
    ys, xs = np.mgrid[0:ch, 0:cw].astype(np.float32)
    light = 0.62 + 0.38 * (xs / cw) * 0.7 + 0.38 * (1 - ys / ch) * 0.3
    light *= 1 - 0.25 * (((xs - cw * 0.7) / cw) ** 2 + ((ys - ch * 0.3) / ch) ** 2)
    shot = np.clip(shot.astype(np.float32) * light[..., None] * np.array([1.0, 0.97, 0.9], np.float32), 0, 255)
    return cv2.GaussianBlur(shot.astype(np.uint8), (3, 3), 0.8)


def _shadow(image: Pixels, rng: random.Random) -> Pixels:
    """A hand's or phone's shadow across a corner of the page: a soft-edged band at half the light."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    edge = (xs / width) * 0.8 + (ys / height) * 0.6 - rng.uniform(0.9, 1.0)
    dark = 1 - 0.5 / (1 + np.exp(-edge * 40))
    return np.clip(image.astype(np.float32) * dark[..., None], 0, 255).astype(np.uint8)


def _smaller(image: Pixels, width: int) -> Pixels:
    height = round(image.shape[0] * width / image.shape[1])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


VARIANTS: dict[str, tuple[str, Callable[[_Base, random.Random], tuple[str, bytes]]]] = {
    "clean": ("standard", lambda b, r: ("方案.png", _png(b.page))),
    "pdf": ("standard", lambda b, r: ("方案扫描件.pdf", _image_pdf(b.page))),
    "skewed": ("standard", lambda b, r: ("方案.png", _png(_rotate(b.page, 2.5)))),
    "noisy": ("standard", lambda b, r: ("方案.png", _png(_noisy(b.page, r)))),
    "jpeg": ("standard", lambda b, r: ("方案.jpg", _jpeg(b.page, 30))),
    "seal": ("standard", lambda b, r: ("方案.jpg", _jpeg(_seal(b, b.page, r), 85))),
    "skewed-seal": ("standard", lambda b, r: ("方案.jpg", _jpeg(_rotate(_seal(b, b.page, r), -1.8), 85))),
    "handwriting": ("rich-hand", lambda b, r: ("方案.jpg", _jpeg(b.page, 85))),
    "hand-ticks": ("rich-unticked", lambda b, r: ("方案.jpg", _jpeg(_hand_ticks(b, b.page, r), 85))),
    "photo": ("standard", lambda b, r: ("IMG_2041.jpg", _jpeg(_photo(b.page, r), 88))),
    "photo-heic": ("rich", lambda b, r: ("IMG_2042.heic", _heic(_photo(b.page, r)))),
    "photo-shadow": ("standard", lambda b, r: ("IMG_2043.jpg", _jpeg(_shadow(_photo(b.page, r), r), 85))),
    "photo-small": ("rich", lambda b, r: ("微信图片.jpg", _jpeg(_smaller(_photo(b.page, r), 1280), 80))),
    "rotated-90": ("standard", lambda b, r: ("方案.png", _png(np.rot90(b.page).copy()))),
    "upside-down": ("rich", lambda b, r: ("方案.jpg", _jpeg(np.rot90(b.page, 2).copy(), 85))),
    "long-plan": ("rich", lambda b, r: ("方案.png", _png(b.page))),
    "two-activities": ("two", lambda b, r: ("两项活动扫描件.pdf", _image_pdf(*(_noisy(p, r) for p in b.pages)))),
}


def main() -> None:
    """Write every variant to a folder, to look at: `python tests/scan_pages.py OUT`."""
    import sys

    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for page in make_pages(Path(tmp)):
            (out / f"{page.variant}-{page.name}").write_bytes(page.data)


if __name__ == "__main__":
    main()
