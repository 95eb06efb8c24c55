"""The 汇总表's 「活动总结」 sheet: one row per accepted activity — its progress planned → held → summarised, its
summary's receipt, how many photos, videos, press and cloud-drive links its summaries brought, the links and the
files' names — then, per branch, the summaries that reported no accepted activity."""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl.styles import PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from bot import wording as w
from bot.jobs.digest.model import Digest
from bot.jobs.digest.progress import ActivityLine
from bot.jobs.digest.sheets import DAY_FORMAT, HEADER_ROWS, TIME_FORMAT, Cell, Header, body_row, finish, heading, stamp
from config import Campaign

SHEET_SUMMARIES = "活动总结"
UNMATCHED = "（未对应已受理活动的总结）"
# Excel refuses a cell longer than this: a list of 3,000 photos' names is cut, and says so.
CELL_CHARS = 32_767
PROGRESS_FILLS = {
    "held": PatternFill("solid", fgColor="FCE4CC"),
    "summarised": PatternFill("solid", fgColor="E2F0D9"),
}
PROGRESS_COLUMN = 6


def summary_headers(campaign: Campaign) -> list[Header]:
    title = campaign.form.labels["title"][0]
    return [
        ("序号", "", 6.0),
        ("报送单位", "", 22.0),
        (title, "", 28.0),
        ("开始日期", "活动时间", 14.0),
        ("结束日期", "活动时间", 14.0),
        ("进展", "", 12.0),
        ("回执号", "活动总结", 13.0),
        ("状态", "活动总结", 9.0),
        ("收到时间", "活动总结", 19.0),
        ("全部来信回执号", "活动总结", 14.0),
        ("照片", "数量", 7.0),
        ("视频", "数量", 7.0),
        ("报道链接", "数量", 8.0),
        ("网盘链接", "数量", 8.0),
        ("报道链接地址", "明细", 36.0),
        ("网盘链接地址", "明细", 36.0),
        ("照片、视频与文件", "明细", 36.0),
    ]


def summary_sheet(sheet: Worksheet, digest: Digest, campaign: Campaign) -> None:
    summaries = digest.summaries
    headers = summary_headers(campaign)
    progress = "，".join(f"{w.PROGRESS_NAMES[p]}{n}项" for p, n in summaries.progress)
    subtitle = (
        f"截至{stamp(digest.now)}　已受理活动{sum(n for _, n in summaries.progress)}项：{progress}。"
        "照片、视频按内容计，重复发送的只计一次；一封总结对应多项活动时，其照片等计入每一项。"
    )
    heading(sheet, f"{digest.campaign}活动总结情况", subtitle, headers)
    widths = [h[2] for h in headers]
    formats = [
        "0",
        "@",
        "@",
        DAY_FORMAT,
        DAY_FORMAT,
        "@",
        "@",
        "@",
        TIME_FORMAT,
        "@",
        "0",
        "0",
        "0",
        "0",
        "@",
        "@",
        "@",
    ]
    for number, line in enumerate(summaries.lines, start=1):
        row = HEADER_ROWS + number
        body_row(sheet, row, line_values(number, line), formats, widths)
        fill = PROGRESS_FILLS.get(line.progress or "")
        if fill:
            sheet.cell(row, PROGRESS_COLUMN).fill = fill
    finish(sheet, len(headers), len(summaries.lines), freeze="D5")


def line_values(number: int, line: ActivityLine) -> list[Cell]:
    media = line.media
    return [
        number,
        line.branch,
        line.title or UNMATCHED,
        line.start,
        line.end,
        w.PROGRESS_NAMES[line.progress] if line.progress else "已收到总结",
        line.receipt,
        w.outcome(line.summary) if line.summary else "",
        line.summary_at.replace(tzinfo=None) if line.summary_at else None,
        "\n".join(line.receipts),
        media.photos,
        media.videos,
        len(media.press),
        len(media.drive),
        capped(media.press),
        capped(media.drive),
        capped(media.files),
    ]


def capped(items: Sequence[str]) -> str:
    """One item a line, within what a cell holds."""
    text = "\n".join(items)
    if len(text) <= CELL_CHARS:
        return text
    kept: list[str] = []
    size = 0
    for item in items:
        if size + len(item) + 1 > CELL_CHARS - 40:
            break
        kept.append(item)
        size += len(item) + 1
    return "\n".join([*kept, f"……另有{len(items) - len(kept)}项未列出"])
