"""The rules of an activity summary, listed in one place: a summary document, at least one photo, video or
media link, photos taken on the activity's dates, and activities the ledger knows and that were held.

- A summary document is a readable Word/PDF file (or one kept for staff: a scan, a .doc without
  LibreOffice) that is not the blank plan form; one the branch sent in an earlier summary mail counts.
  A photo of the summary is not one. A cloud-drive link stands in for it, with a warning.
- Photos are attached (or in a zip, or pasted into the body or the document); a press, video or
  cloud-drive link stands in for them (a summary with only a link and the document is accepted).
- A photo without EXIF (a screenshot, a photo sent through WeChat) is not warned about: most are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.rules.base import finding
from bot.rules.findings import Finding, Severity
from bot.summary.records import Planned, Summary
from bot.wording import day, span
from config import Context

SummaryRule = Callable[[Summary, Context], list[Finding]]
_EXAMPLES = 5  # names listed in one message before "等"
UNOPENED = frozenset({"RAR", "7z"})  # archive formats the mail reader does not open


def check_summary_document(summary: Summary, ctx: Context) -> list[Finding]:
    if summary.usable_documents:
        return _unreadable_beside(summary, "warning")
    if summary.history.documents:
        return []  # photos sent after the summary, in a mail of their own
    if any(link.kind == "drive" for link in summary.links):
        message = (
            "活动总结未作为附件发送，已登记邮件中的网盘链接，工作人员将下载核对；"
            "网盘链接可能过期，建议将活动总结（Word 或 PDF 文件）作为附件发送"
        )
        return [finding("file", "summary_in_drive", message, "warning")]
    for document in summary.documents:
        if document.problem == "plan_form":
            message = f"附件「{document.name}」是空白的筹备方案表，不是活动总结；请发送活动总结（Word 或 PDF 文件）"
            return [finding("file", "plan_form_as_summary", message)]
    if unreadable := _unreadable_beside(summary, "error"):
        return unreadable
    words = ctx.campaign.deliverables.summary_words
    for photo in summary.files_of("photo"):
        if any(word in photo.attachment.name for word in words):
            message = (
                f"附件「{photo.attachment.name}」是图片，不是活动总结文件；"
                "请将活动总结的 Word（.docx）或 PDF 文件作为附件发送（照片可一并发送）"
            )
            return [finding("file", "photo_of_summary", message)]
    message = "邮件中没有找到活动总结文件；请将活动总结（Word 或 PDF 文件）作为附件发送"
    return [finding("file", "summary_missing", message)]


def _unreadable_beside(summary: Summary, severity: Severity) -> list[Finding]:
    ending = "，未作登记" if severity == "warning" else "；请重新发送活动总结（Word 或 PDF 文件）"
    return [
        finding(
            "file", "summary_unreadable", f"附件「{d.name}」无法读取（{d.message.rstrip('。；;')}）{ending}", severity
        )
        for d in summary.documents
        if d.problem == "unreadable"
    ]


def check_summary_media(summary: Summary, ctx: Context) -> list[Finding]:
    if summary.has_media or summary.history.media_sent:
        return []
    archives = "、".join(f"「{f.attachment.name}」" for f in summary.files_of("other") if f.info.format in UNOPENED)
    unopened = f"（压缩包{archives}无法自动解压，请直接发送照片或改用 zip 格式）" if archives else ""
    message = (
        f"邮件中没有找到活动照片、视频或媒体报道链接{unopened}；请将现场照片（或视频）作为附件发送，"
        "或在邮件正文中附上媒体报道、网盘链接"
    )
    return [finding("photos", "media_missing", message)]


def check_photo_dates(summary: Summary, ctx: Context) -> list[Finding]:
    dated = [a for a in summary.activities if a.start]
    if not dated:
        return []
    outside = [
        photo
        for photo in summary.files_of("photo")
        if photo.info.taken_at and not any(_within(photo.info.taken_at.date(), a) for a in dated)
    ]
    if not outside:
        return []
    names = "、".join(
        f"「{p.attachment.name}」（拍摄于{day(p.info.taken_at.date())}）"
        for p in outside[:_EXAMPLES]
        if p.info.taken_at
    )
    more = f"等{len(outside)}张" if len(outside) > _EXAMPLES else ""
    when = "、".join(span(a.start, a.end or a.start) for a in dated if a.start)
    message = f"照片{names}{more}的拍摄日期不在活动日期（{when}）内，请核对是否为本次活动的照片"
    return [finding("photos", "photo_date_outside", message, "warning")]


def _within(taken: dt.date, activity: Planned) -> bool:
    return activity.start is not None and activity.start <= taken <= (activity.end or activity.start)


def check_reported_activities(summary: Summary, ctx: Context) -> list[Finding]:
    if summary.matched_by == "":
        message = "没有找到贵单位已受理的活动筹备方案，无法核对总结对应的活动；工作人员将人工核对"
        return [finding("activities", "summary_without_plan", message, "warning")]
    if summary.matched_by == "all" and len(summary.activities) > 1:
        titles = "、".join(f"「{a.title}」" for a in summary.activities)
        message = (
            f"总结中没有写明活动名称，已记为贵单位全部{len(summary.activities)}项活动（{titles}）的总结；"
            "如不符，请在总结中写明活动名称后重新发送"
        )
        return [finding("activities", "activities_unnamed", message, "warning")]
    return []


def check_activities_held(summary: Summary, ctx: Context) -> list[Finding]:
    today = summary.arrived.astimezone(ctx.campaign.zone).date()
    return [
        finding(
            "activities",
            "activity_not_held",
            f"活动「{a.title}」计划于{day(a.start)}举办，收到总结时尚未到举办日期；如活动时间有变，请在总结中说明",
            "warning",
        )
        for a in summary.activities
        if a.start and a.start > today
    ]


SUMMARY_RULES: tuple[SummaryRule, ...] = (
    check_summary_document,
    check_summary_media,
    check_reported_activities,
    check_activities_held,
    check_photo_dates,
)


def check_summary(summary: Summary, ctx: Context) -> tuple[Finding, ...]:
    return tuple(item for rule in SUMMARY_RULES for item in rule(summary, ctx))
