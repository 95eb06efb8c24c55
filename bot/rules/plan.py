"""The rules of a plan form, listed in one place, and the runner that applies them in order."""

from __future__ import annotations

from dataclasses import replace

from bot.rules.base import Rule
from bot.rules.choices import check_audiences, check_modules
from bot.rules.contact import check_email, check_fax, check_mobile, check_office_phone
from bot.rules.dates import check_dates, check_dates_in_stage, check_stage
from bot.rules.findings import Finding
from bot.rules.misc import check_organiser_known, check_plan_length, check_scale
from bot.rules.required import check_required
from config import Context
from parsers.records import Activity

PLAN_RULES: tuple[Rule, ...] = (
    check_required,
    check_modules,
    check_stage,
    check_dates,
    check_dates_in_stage,
    check_audiences,
    check_scale,
    check_office_phone,
    check_mobile,
    check_fax,
    check_email,
    check_plan_length,
    check_organiser_known,
)


def check_plan(activities: tuple[Activity, ...], ctx: Context) -> tuple[Finding, ...]:
    """Every rule over every activity; each finding names its activity (0-based) and says it in words."""
    found: list[Finding] = []
    for index, activity in enumerate(activities):
        title = f"「{activity.title}」" if activity.title else ""
        for rule in PLAN_RULES:
            for item in rule(activity, ctx):
                found.append(replace(item, activity=index, message=f"第{index + 1}项活动{title}：{item.message}"))
    return tuple(found)
