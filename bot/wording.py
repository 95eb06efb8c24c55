"""The Chinese words the bot writes, each in one place: names of deliverables, standings, outcomes and replies,
and how dates, times and durations are written (in replies, rules' messages, the digest and the CLI).

It imports nothing of the bot: every floor may use it."""

from __future__ import annotations

import datetime as dt

# Deliverables as staff read them in tables and lists...
DELIVERABLE_NAMES = {"plan": "筹备方案", "summary": "活动总结"}
# ...and as a letter to a branch names what it was asked to send (as the notice calls it).
DELIVERABLES_IN_LETTERS = {"plan": "活动筹备方案", "summary": "活动总结"}
# Where a branch stands for a deliverable (bot.ledger.status).
STANDING_NAMES = {
    "accepted": "已受理",
    "needs_correction": "待修改",
    "unreadable": "待修改",
    "no_attachment": "待修改",
    "exempt": "豁免",
    "missing": "未报送",
}
# What became of one mail.
OUTCOME_NAMES = {
    "accepted": "已受理",
    "needs_correction": "待修改",
    "unreadable": "无法读取",
    "no_attachment": "无附件",
    "missing": "未报送",
    "failed": "处理失败",
    "duplicate": "重复来信",
    "auto_reply": "自动回复",
    "bounce": "退信",
    "unauthenticated": "发件人未通过验证",
    "unjudged": "未判定",
    "exempt": "豁免",
    "staff": "工作人员指令",
    "staff_refused": "未执行的工作人员指令",
    "thanks": "回复致谢（无需处理）",
    "for_person": "转工作人员",
    "link": "发来网盘链接（已请其以附件发送）",
}
# Why a mail was set aside for a person.
ASIDE_NAMES = {
    "for_person": "来信需人工回复（提问或其他事项）",
    "staff_refused": "未执行的工作人员指令（发件人不是工作人员地址，或收信服务器未验证）",
    "failed": "处理失败",
    "unknown_sender": "名单外来信",
    "bounce": "退信",
    "unauthenticated": "疑似冒名（发件人未通过验证）",
    "reply_refused": "回复被拒收",
    "reply_capped": "已达每日回复上限，未回复（疑似邮件循环）",
    "read_by_ocr": "扫描件或照片经文字识别受理，请对照原件核对",
}
REPLY_NAMES = {
    "ack": "回执",
    "correction": "修改通知",
    "reminder": "催报提醒",
    "digest": "每日摘要",
    "suppressed": "不回复（启用前的旧邮件）",
    "link": "网盘链接说明",
    "forwarded": "已转人工告知",
    "staff": "指令执行结果",
    "staff_accept": "人工受理通知",
    "staff_ask": "人工修改意见",
}
# How the bot came to know an address of a branch (bot.intake.senders).
LEARNED_HOW = {
    "organiser": "其报送表格的主办单位是该单位",
    "summary": "其活动总结的标题或文件名写明该单位",
    "staff": "工作人员登记",
}
VERB_NAMES = {
    "accept": "通过",
    "ask": "请修改",
    "exempt": "豁免",
    "unexempt": "取消豁免",
    "assign": "转给",
    "release": "放行",
    "resend": "重发",
    "note": "备注",
    "done": "已处理",
    "forget": "移除地址",
    "handled": "已在邮箱中回复",
    "refused_mail": "拒绝执行的指令邮件",
    "unread": "无法识别的指令",
}
REPLY_STATES = {"sent": "已发送", "pending": "待发送", "suppressed": "未发送", "failed": "发送失败"}
# Beside an accepted standing, when a newer version was not accepted.
NEWER_NAMES = {"needs_correction": "新版本待修改", "unreadable": "新版本无法读取"}
# A form's verdict, for staff at a terminal (`subbot check`).
VERDICT_NAMES = {"accepted": "通过", "needs_correction": "需要修改", "unreadable": "无法读取"}
# Where an activity stands (bot.ledger.status.Progress).
PROGRESS_NAMES = {"planned": "计划中", "held": "已举办待总结", "summarised": "已总结"}
# What a summary mail brought, file by file (bot.ledger.schema.MediaRow.kind).
MEDIA_NAMES = {"photo": "照片", "video": "视频", "document": "总结文件", "other": "其他文件", "link": "链接"}
LINK_NAMES = {"press": "媒体报道", "drive": "网盘", "video": "视频", "other": "链接"}
WEEKDAYS = "一二三四五六日"
NUMERALS = "〇一二三四五六七八九十"


def deliverable(code: str | None) -> str:
    return DELIVERABLE_NAMES.get(code or "", "材料")


def deliverable_in_letter(code: str | None) -> str:
    return DELIVERABLES_IN_LETTERS.get(code or "", "材料")


def standing(status: str, newer: str | None = None) -> str:
    """已受理, or 已受理（新版本待修改） when a newer version was not accepted."""
    name = STANDING_NAMES.get(status, status)
    return f"{name}（{NEWER_NAMES.get(newer, newer)}）" if newer else name


def outcome(code: str) -> str:
    return OUTCOME_NAMES.get(code, code)


def numeral(number: int) -> str:
    """一 to 十 for 1 to 10 (a stage's number as the notice writes it); other numbers in digits."""
    return NUMERALS[number] if 0 < number <= 10 else str(number)


def stage_name(number: int | None) -> str:
    if number is None:
        return "阶段未填或有误"
    return f"第{numeral(number)}阶段"


def day(date: dt.date) -> str:
    """5月28日"""
    return f"{date.month}月{date.day}日"


def span(start: dt.date, end: dt.date) -> str:
    """5月28日—5月30日, or one day"""
    return day(start) if start == end else f"{day(start)}—{day(end)}"


def long_day(date: dt.date) -> str:
    """2021年5月9日（星期日）"""
    return f"{date.year}年{date.month}月{date.day}日（星期{WEEKDAYS[date.weekday()]}）"


def moment(at: dt.datetime) -> str:
    """5月9日 09:00"""
    return f"{at.month}月{at.day}日 {at:%H:%M}"


def short_day(date: dt.date) -> str:
    """05-28, in a terminal's narrow columns"""
    return f"{date:%m-%d}"


def short_moment(at: dt.datetime) -> str:
    """05-09 09:00, in a terminal's narrow columns"""
    return f"{at:%m-%d %H:%M}"


def deadline(last_day: dt.date) -> str:
    """A deadline in a letter to a branch, as the notice writes it: 2021年05月06日24时"""
    return f"{last_day:%Y年%m月%d日}24时"


def arrival(local: dt.datetime, zone_name: str) -> str:
    """When a mail arrived, in a letter to a branch: 2021年05月04日 10:00（北京时间）"""
    if zone_name == "Asia/Shanghai":
        return f"{local:%Y年%m月%d日 %H:%M}（北京时间）"
    return f"{local:%Y-%m-%d %H:%M %Z}"


def duration(length: dt.timedelta) -> str:
    """Rough and readable: '3天5小时', '5小时20分钟', '20分钟'."""
    minutes = max(0, int(length.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{minutes}分钟" if minutes else f"{hours}小时"
    return f"{minutes}分钟"


def days_left(days: int, deadline_day: dt.date) -> str:
    due = f"{day(deadline_day)}24时"
    if days > 0:
        return f"距截止还有{days}天（{due}）"
    if days == 0:
        return f"今天截止（{due}）"
    return f"已截止{-days}天（{due}）"
