"""拟举办时间: a stage that exists, dates that parse, run forwards and fall inside the stage."""

from __future__ import annotations

from bot.rules.base import finding
from bot.rules.findings import Finding
from bot.wording import numeral, span
from config import Context
from parsers.records import Activity


def check_stage(activity: Activity, ctx: Context) -> list[Finding]:
    timing = activity.timing
    stages = "、".join(f"第{numeral(s.number)}阶段（{span(s.start, s.end)}）" for s in ctx.campaign.stages)
    if timing.stage is None:
        hint = _fitting_stage(activity, ctx)
        return [finding("stage", "stage_missing", f"{ctx.label('time')}未填写阶段{hint}；可选：{stages}")]
    if ctx.campaign.stage(timing.stage) is None:
        return [
            finding(
                "stage", "stage_unknown", f"{ctx.label('time')}填写的「{timing.stage_text}」不存在；可选：{stages}"
            )
        ]
    return []


def check_dates(activity: Activity, ctx: Context) -> list[Finding]:
    timing = activity.timing
    label = ctx.label("time")
    if timing.dates_problem == "missing":
        return [finding("start", "dates_missing", f"{label}未填写起止日期，请按「5月28日—5月30日」的格式填写")]
    if timing.dates_problem == "invalid":
        return [finding("start", "dates_invalid", f"{label}中的日期「{timing.dates_text}」不存在，请核对月份和日期")]
    if timing.start is None or timing.end is None:
        return [
            finding(
                "start",
                "dates_unparsed",
                f"{label}中的日期「{timing.dates_text}」无法识别，请按「5月28日—5月30日」的格式填写",
            )
        ]
    if timing.start > timing.end:
        return [
            finding(
                "end",
                "dates_reversed",
                f"{label}的结束日期{span(timing.end, timing.end)}早于开始日期{span(timing.start, timing.start)}",
            )
        ]
    return []


def check_dates_in_stage(activity: Activity, ctx: Context) -> list[Finding]:
    timing = activity.timing
    stage = ctx.campaign.stage(timing.stage) if timing.stage else None
    if stage is None or timing.start is None or timing.end is None or timing.start > timing.end:
        return []
    start, end = timing.start, timing.end
    if stage.start <= start and end <= stage.end:
        return []
    field = "start" if not stage.start <= start <= stage.end else "end"
    written = span(start, end)
    return [
        finding(
            field,
            "dates_outside_stage",
            f"{ctx.label('time')}第{numeral(stage.number)}阶段为{span(stage.start, stage.end)}，填写的{written}不在该阶段内"
            + _fitting_stage(activity, ctx),
        )
    ]


def _fitting_stage(activity: Activity, ctx: Context) -> str:
    start, end = activity.timing.start, activity.timing.end
    if start is None or end is None:
        return ""
    fits = [s for s in ctx.campaign.stages if s.start <= start and end <= s.end]
    return f"（所填日期属于第{numeral(fits[0].number)}阶段）" if fits else ""

