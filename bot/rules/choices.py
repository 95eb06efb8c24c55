"""Modules and audiences: at least one ticked, and every mark readable."""

from __future__ import annotations

from bot.rules.base import finding
from bot.rules.findings import Finding
from config import Context
from parsers.records import Activity, Choices


def check_modules(activity: Activity, ctx: Context) -> list[Finding]:
    return _check("modules", activity.modules, ctx.campaign.form.modules, ctx)


def check_audiences(activity: Activity, ctx: Context) -> list[Finding]:
    return _check("audiences", activity.audiences, ctx.campaign.form.audiences, ctx)


def _check(key: str, choices: Choices, options: tuple[str, ...], ctx: Context) -> list[Finding]:
    found: list[Finding] = []
    for option in choices.unclear:
        found.append(
            finding(key, "unclear_mark", f"{ctx.label(key)}中「{option}」后的标记无法识别，请在括号内划√或留空")
        )
    if not choices.selected and not choices.unclear:
        shown = f"（填写内容：{choices.text}）" if choices.text else ""
        found.append(
            finding(
                key,
                "none_ticked",
                f"{ctx.label(key)}未勾选任何一项{shown}；请在{'、'.join(options)}中选择至少一项，在括号内划√",
            )
        )
    return found
