"""Contact details: a mainland mobile, phone-like office and fax numbers, a well-formed email."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from email_validator import EmailNotValidError, validate_email

from bot.rules.base import finding
from bot.rules.findings import Finding
from config import Context
from parsers.records import Activity

_SEPARATORS = re.compile(r"[、,，;；/／]|\s{2,}|或")
_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
# Area code (optional) and 7–8 digits; or a 400/800 service number. Extensions are split off first.
_PHONE = re.compile(r"^(?:(?:\+?86)?0\d{2,3})?[2-9]\d{6,7}$|^[48]00\d{7}$")
_EXTENSION = re.compile(r"(?:转|分机|ext\.?|x|-)(\d{1,5})$", re.I)


def check_mobile(activity: Activity, ctx: Context) -> list[Finding]:
    return _numbers("contact.mobile", activity.contact.mobile, _is_mobile, "11位中国大陆手机号码，如13912345678", ctx)


def check_office_phone(activity: Activity, ctx: Context) -> list[Finding]:
    expected = "带区号的固定电话，如010-62067126"
    return _numbers("contact.office_phone", activity.contact.office_phone, _is_phone, expected, ctx)


def check_fax(activity: Activity, ctx: Context) -> list[Finding]:
    return _numbers("contact.fax", activity.contact.fax, _is_phone, "带区号的传真号码，如010-62067126", ctx)


def _numbers(key: str, written: str, valid: Callable[[str], bool], expected: str, ctx: Context) -> list[Finding]:
    if written.strip() in ("", "无", "/", "-", "—"):
        return []
    bad = [n.strip() for n in _SEPARATORS.split(written) if n.strip() and not valid(_bare(n))]
    if not bad:
        return []
    return [finding(key, "bad_number", f"{ctx.label(key)}填写的「{'、'.join(bad)}」不是有效号码，应为{expected}")]


def _bare(number: str) -> str:
    return re.sub(r"[\s()（）－—–.]", "-", unicodedata.normalize("NFKC", number)).strip("-")


def _is_mobile(number: str) -> bool:
    return bool(_MOBILE.match(number.replace("-", "")))


def _is_phone(number: str) -> bool:
    if _is_mobile(number) or _PHONE.match(number.replace("-", "")):
        return True
    extension = _EXTENSION.search(number)
    return extension is not None and bool(_PHONE.match(number[: extension.start()].replace("-", "")))


def check_email(activity: Activity, ctx: Context) -> list[Finding]:
    written = activity.contact.email
    if not written:
        return []
    try:
        validate_email(written, check_deliverability=False)
    except EmailNotValidError:
        return [
            finding(
                "contact.email",
                "bad_email",
                f"{ctx.label('contact.email')}填写的「{written}」不是有效的邮箱地址，应如 name@example.com",
            )
        ]
    return []
