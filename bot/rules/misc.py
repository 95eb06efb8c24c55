"""The soft checks: a head count in the scale, the 工作方案 length, an organiser the roster knows."""

from __future__ import annotations

from bot.rules.base import finding
from bot.rules.findings import Finding
from config import Context
from parsers.records import Activity


def check_scale(activity: Activity, ctx: Context) -> list[Finding]:
    if not activity.scale or activity.scale_people is not None:
        return []
    return [
        finding(
            "scale",
            "scale_without_number",
            f"{ctx.label('scale')}填写的「{activity.scale}」中没有人数，建议写明预计人数，如「约200人」",
            "warning",
        )
    ]


def check_plan_length(activity: Activity, ctx: Context) -> list[Finding]:
    limit = ctx.campaign.form.plan_text_max_chars
    length = plan_length(activity.plan_text)
    if length <= limit:
        return []
    return [
        finding(
            "plan_text",
            "plan_text_long",
            f"{ctx.label('plan_text')}共{length}字，超过原则上{limit}字以内的要求，建议精简",
            "warning",
        )
    ]


def plan_length(text: str) -> int:
    """Characters as a person counts them for a 字数 limit: everything but white space."""
    return sum(1 for ch in text if not ch.isspace())


def check_organiser_known(activity: Activity, ctx: Context) -> list[Finding]:
    if not activity.organiser or ctx.roster.find_by_name(activity.organiser):
        return []
    return [
        finding(
            "organiser",
            "organiser_unknown",
            f"{ctx.label('organiser')}「{activity.organiser}」不在本次通知的单位名单中，请核对单位全称",
            "warning",
        )
    ]
