"""The digest of a 150-branch campaign with long Chinese names, rendered by a real headless Chromium at a
desktop width and a phone width: no table wider than the window, no text outside its cell or clipped,
nothing painted at the window's edge, and small enough that mail clients show it whole. The same campaign a
month on, with 45 summaries in a day, is checked for its layout too (its summary round lists are full)."""

from __future__ import annotations

import base64
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from digest_campaign import DIGEST_AT, SUMMARY_DIGEST_AT, shared, summarised
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from sqlalchemy.orm import Session

from bot.jobs.digest.mail import current_digest
from bot.jobs.digest.rollup import rollup_name
from bot.jobs.digest.view import LIST_LIMIT, render_digest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() or CHROMEDRIVER is None, reason="Chromium is not installed (`make test` installs it)"
)
# Gmail cuts an HTML body past 102 KB behind a "message clipped" link.
CLIP_BYTES = 102 * 1024
# The page's own background (#f4f6f8): what the window's edge must show when nothing overflows.
BACKGROUND = (0xF4, 0xF6, 0xF8)

# Every problem a person would see as "clipped or overflowing", measured from the rendered boxes.
LAYOUT_PROBLEMS = """
const view = document.documentElement.clientWidth;
const problems = [];
const where = (el) => (el.textContent || '').trim().slice(0, 30);
if (document.documentElement.scrollWidth > view) {
  problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${view}`);
}
const tables = [...document.querySelectorAll('table')];
for (const table of tables) {
  const box = table.getBoundingClientRect();
  if (box.left < -0.5 || box.right > view + 0.5) problems.push(`table outside the window: ${where(table)}`);
}
const cells = [...document.querySelectorAll('td, th')];
for (const cell of cells) {
  const box = cell.getBoundingClientRect();
  if (cell.scrollWidth > cell.clientWidth + 1) problems.push(`cell content wider than the cell: ${where(cell)}`);
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(walker.currentNode);
    for (const line of range.getClientRects()) {
      if (line.width === 0) continue;
      if (line.left < box.left - 1 || line.right > box.right + 1 || line.bottom > box.bottom + 1) {
        problems.push(`text outside its cell: ${walker.currentNode.textContent.trim().slice(0, 30)}`);
      }
    }
  }
}
for (const el of document.querySelectorAll('*')) {
  const style = getComputedStyle(el);
  const hides = style.overflowX !== 'visible' || style.overflowY !== 'visible' || style.textOverflow !== 'clip';
  if (hides && (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)) {
    if (el !== document.documentElement && el !== document.body) problems.push(`clipped: ${where(el)}`);
  }
}
return {tables: tables.length, cells: cells.length, height: document.documentElement.scrollHeight,
        problems: problems.slice(0, 20), count: problems.length};
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def digest_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    big = shared(tmp_path_factory.getbasetemp())
    with Session(big.app.engine) as session:
        digest = current_digest(session, big.app.ctx, DIGEST_AT)
    assert len(digest.arrivals) > LIST_LIMIT and len(digest.missing) >= 15 and digest.health.stuck
    assert max(len(b.branch) for b in digest.branches) > 40
    html = render_digest(digest, big.app.services.letterhead.renderer, rollup_name(digest)).html
    path = tmp_path_factory.mktemp("digest") / "digest.html"
    path.write_text(html, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def summary_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    big = summarised(tmp_path_factory.getbasetemp())
    with Session(big.app.engine) as session:
        digest = current_digest(session, big.app.ctx, SUMMARY_DIGEST_AT)
    rows = sum(1 for line in digest.summaries.lines if line.branch in digest.summaries.reporting)
    assert rows > LIST_LIMIT and len(digest.summaries.owed) > LIST_LIMIT and len(digest.arrivals) > LIST_LIMIT
    html = render_digest(digest, big.app.services.letterhead.renderer, rollup_name(digest)).html
    assert "活动总结进展" in html and "另有" in html
    path = tmp_path_factory.mktemp("summaries") / "digest.html"
    path.write_text(html, encoding="utf-8")
    return path


def test_the_150_branch_digest_stays_under_the_clipping_size(digest_html: Path) -> None:
    html = digest_html.read_text(encoding="utf-8")
    assert len(html.encode()) < CLIP_BYTES
    assert "另有" in html and "未列出" in html  # the long lists are cut and say so


@pytest.mark.parametrize("page", ["digest_html", "summary_html"])
@pytest.mark.parametrize(("name", "width"), [("desktop", 1000), ("phone", 390)])
def test_no_table_is_clipped_or_overflows(
    browser: webdriver.Chrome, request: pytest.FixtureRequest, page: str, tmp_path: Path, name: str, width: int
) -> None:
    html: Path = request.getfixturevalue(page)
    metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    browser.get(html.as_uri())
    report: dict[str, Any] = browser.execute_script(LAYOUT_PROBLEMS)
    assert report["tables"] >= 10 and report["cells"] > 300
    assert report["problems"] == [], f"{report['count']} layout problems at {width}px"
    shots = _screenshots(browser, width, int(report["height"]), tmp_path / name)
    for shot in shots:
        image = Image.open(shot).convert("RGB")
        assert image.width == width
        # Nothing painted in the outer 4 pixels on either side: no table runs to (or past) the window's edge.
        for x in (*range(4), *range(width - 4, width)):
            column = {image.getpixel((x, y)) for y in range(0, image.height, 3)}
            assert column == {BACKGROUND}, f"{shot.name}: something drawn at x={x}"
        # And the page is not blank: the text is drawn (dark pixels) with the CJK fonts installed.
        dark = sum(image.convert("L").histogram()[:80])
        assert dark > 1000, f"{shot.name} shows no text"


def _screenshots(browser: webdriver.Chrome, width: int, height: int, stem: Path) -> list[Path]:
    """The whole page in equal slices of at most 4000 pixels (one bitmap of 15000 would strain Chromium; equal, so
    that no last slice is a sliver of bottom margin with no text on it)."""
    paths = []
    count = max(1, -(-height // 4000))
    size = -(-height // count)
    for number, top in enumerate(range(0, height, size)):
        clip = {"x": 0, "y": top, "width": width, "height": min(size, height - top), "scale": 1}
        shot = browser.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
        )
        path = stem.with_name(f"{stem.name}-{number}.png")
        path.write_bytes(base64.b64decode(shot["data"]))
        assert Image.open(io.BytesIO(path.read_bytes())).height == clip["height"]
        paths.append(path)
    return paths


def test_the_check_sees_an_overflowing_table_and_clipped_text(
    browser: webdriver.Chrome, digest_html: Path, tmp_path: Path
) -> None:
    """The measure above is worth something only if it fails on what a person would call broken."""
    broken = digest_html.read_text(encoding="utf-8").replace(
        "</body>",
        '<table style="width:600px"><tr><td style="white-space:nowrap">中国石油学会石油地质专业委员会非常规油气</td></tr></table>'
        '<p style="width:80px;overflow:hidden;white-space:nowrap">kepu.office.branch001@example.org.cn</p>'
        '<table style="table-layout:fixed;width:200px"><tr><td style="width:100px;white-space:nowrap">'
        "新疆维吾尔自治区石油学会</td><td>2</td></tr></table></body>",
    )
    page = tmp_path / "broken.html"
    page.write_text(broken, encoding="utf-8")
    metrics = {"width": 390, "height": 900, "deviceScaleFactor": 1, "mobile": True}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    browser.get(page.as_uri())
    problems = browser.execute_script(LAYOUT_PROBLEMS)["problems"]
    assert any(p.startswith("page scrolls sideways") for p in problems)
    assert any(p.startswith("table outside the window") for p in problems)
    assert any(p.startswith("clipped: kepu.office") for p in problems)
    assert any(p.startswith("cell content wider than the cell: 新疆") for p in problems)
    assert any(p.startswith("text outside its cell: 新疆") for p in problems)
