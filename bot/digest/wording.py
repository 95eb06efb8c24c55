"""The Chinese words staff read in the digest and the roll-up: names of states, times, durations."""

from __future__ import annotations

import datetime as dt

DELIVERABLE_NAMES = {"plan": "筹备方案", "summary": "活动总结"}
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
}
ASIDE_NAMES = {
    "failed": "处理失败",
    "unknown_sender": "名单外来信",
    "bounce": "退信",
    "unauthenticated": "疑似冒名（发件人未通过验证）",
    "reply_refused": "回复被拒收",
    "reply_capped": "已达每日回复上限，未回复（疑似邮件循环）",
}
REPLY_NAMES = {"ack": "回执", "correction": "修改通知", "reminder": "催报提醒", "digest": "每日摘要"}
REPLY_STATES = {"sent": "已发送", "pending": "待发送", "suppressed": "未发送", "failed": "发送失败"}
WEEKDAYS = "一二三四五六日"
NUMERALS = "〇一二三四五六七八九十"


def day_name(day: dt.date) -> str:
    return f"{day.month}月{day.day}日"


def long_day(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


def moment(at: dt.datetime) -> str:
    return f"{at.month}月{at.day}日 {at:%H:%M}"


def duration(span: dt.timedelta) -> str:
    """Rough and readable: '3天5小时', '5小时20分钟', '20分钟'."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{minutes}分钟" if minutes else f"{hours}小时"
    return f"{minutes}分钟"


def stage_name(number: int | None) -> str:
    if number is None:
        return "阶段未填或有误"
    return f"第{NUMERALS[number]}阶段" if 0 < number <= 10 else f"第{number}阶段"


def days_left(days: int, deadline_day: dt.date) -> str:
    deadline = f"{day_name(deadline_day)}24时"
    if days > 0:
        return f"距截止还有{days}天（{deadline}）"
    if days == 0:
        return f"今天截止（{deadline}）"
    return f"已截止{-days}天（{deadline}）"


def outcome(code: str) -> str:
    return OUTCOME_NAMES.get(code, code)


def deliverable(code: str | None) -> str:
    return DELIVERABLE_NAMES.get(code or "", "材料")
