"""A check result in words for staff at a terminal."""

from __future__ import annotations

from bot import wording
from bot.forms.check import CheckResult
from parsers.records import Activity


def describe_result(result: CheckResult) -> str:
    errors = sum(1 for f in result.findings if f.severity == "error")
    warnings = len(result.findings) - errors
    counts = f"（{errors}处需修改，{warnings}条提醒）" if result.findings else ""
    lines = [f"{result.file}：{wording.VERDICT_NAMES[result.verdict]}{counts}"]
    for number, activity in enumerate(result.read.activities, start=1):
        lines.append(f"  活动{number}：{_summary(activity)}")
    for item in result.findings:
        mark = "✗" if item.severity == "error" else "!"
        lines.append(f"  {mark} {item.message}")
    return "\n".join(lines)


def _summary(activity: Activity) -> str:
    timing = activity.timing
    when = f"第{timing.stage}阶段" if timing.stage else "阶段未填"
    if timing.start and timing.end:
        when += f" {wording.short_day(timing.start)}至{wording.short_day(timing.end)}"
    modules = "、".join(activity.modules.selected) or "未勾选"
    return f"「{activity.title or '（无名称）'}」 {activity.organiser or '（主办单位未填）'}｜{modules}｜{when}"
