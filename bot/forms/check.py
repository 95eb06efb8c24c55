"""`check_form`: one file's bytes to its activities, findings and verdict, ready to print or store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.forms.convert import ConversionFailed, Converter
from bot.forms.layout import form_layout
from bot.rules.findings import Finding, Verdict, verdict_of
from bot.rules.plan import check_plan
from bot.rules.scan import check_scan
from config import Context
from parsers.plan import CONVERTIBLE, NeedsConversion, read_plan
from parsers.records import Activity, PlanRead, Unreadable


@dataclass(frozen=True)
class CheckResult:
    file: str
    read: PlanRead
    findings: tuple[Finding, ...]

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.findings, self.read.unreadable is not None)


def check_form(data: bytes, name: str, ctx: Context, convert: Converter | None, ocr: bool = True) -> CheckResult:
    """`ocr`: read a scan or a photo by OCR when the extra is installed (bot.forms.sandbox asks for it only
    once a first look found a picture of a page, and gives that reading limits of its own)."""
    layout = form_layout(ctx.campaign)
    try:
        read = read_plan(data, name, layout, ocr=ocr)
    except NeedsConversion as legacy:
        read = _read_converted(data, name, legacy.kind, layout, convert)
    if read.unreadable:
        problem = read.unreadable
        return CheckResult(name, read, (Finding(None, "file", "error", problem.code, problem.message),))
    return CheckResult(name, read, _file_findings(read, ctx) + check_plan(read.activities, ctx) + check_scan(read, ctx))


def _read_converted(data: bytes, name: str, kind: str, layout: Any, convert: Converter | None) -> PlanRead:
    described = CONVERTIBLE[kind]
    if convert is None:
        message = f"暂不能直接读取{described}格式；请在 Word 或 WPS 中“另存为” Word 文档（.docx）后重新发送"
        return PlanRead(name, kind, unreadable=Unreadable("needs_docx", message))
    try:
        converted = convert(data, kind)
    except ConversionFailed:
        message = f"无法读取此{described}文件；请另存为 Word 文档（.docx）后重新发送"
        return PlanRead(name, kind, unreadable=Unreadable("conversion_failed", message))
    again = read_plan(converted, name, layout)
    return PlanRead(name, kind, again.activities, again.unreadable, again.blank_tables)


def _file_findings(read: PlanRead, ctx: Context) -> tuple[Finding, ...]:
    if read.activities:
        return ()
    if read.blank_tables:
        message = "文件中的筹备方案表格尚未填写；请填写后重新发送"
        return (Finding(None, "file", "error", "form_blank", message),)
    message = f"文件中没有找到《{ctx.campaign.form.title}》表格；请使用通知附件中的表格填写（一项一表）"
    return (Finding(None, "file", "error", "form_not_found", message),)


def result_json(result: CheckResult) -> dict[str, Any]:
    return {
        "file": result.file,
        "verdict": result.verdict,
        "activities": [activity_json(a) for a in result.read.activities],
        "findings": [
            {"activity": f.activity, "field": f.field, "severity": f.severity, "code": f.code, "message": f.message}
            for f in result.findings
        ],
    }


def activity_json(activity: Activity) -> dict[str, Any]:
    timing = activity.timing
    contact = activity.contact
    return {
        "organiser": activity.organiser,
        "title": activity.title,
        "modules": list(activity.modules.selected),
        "co_organiser": activity.co_organiser,
        "stage": timing.stage,
        "start": timing.start.isoformat() if timing.start else None,
        "end": timing.end.isoformat() if timing.end else None,
        "venue": activity.venue,
        "audiences": list(activity.audiences.selected),
        "scale": activity.scale,
        "scale_people": activity.scale_people,
        "contact": {
            "name": contact.name,
            "office_phone": contact.office_phone,
            "mobile": contact.mobile,
            "fax": contact.fax,
            "email": contact.email,
        },
        "address": activity.address,
        "plan_text": activity.plan_text,
    }
