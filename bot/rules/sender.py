"""Whether a mail may be taken as the branch it claims to come from: a From naming a roster address that
the receiving server's Authentication-Results reject (parsers.auth) is held for staff, never trusted."""

from __future__ import annotations

from bot.rules.findings import Finding
from config import Context
from parsers.message import Mail


def unauthenticated_sender(mail: Mail, ctx: Context, learned_for: str | None = None) -> Finding | None:
    """A finding when the From is a roster address (or one learned for `learned_for`) and the server says DMARC,
    DKIM or SPF failed for it."""
    if mail.sender_check.result != "fail":
        return None
    branch = ctx.roster.find_by_address(mail.sender.address)
    if branch is None and learned_for:
        branch = ctx.roster.find_by_name(learned_for)
    if branch is None:
        return None
    message = (
        f"发件地址属于「{branch.name}」，但收信服务器验证未通过（{mail.sender_check.reason}），可能是冒名邮件；"
        "未自动回复，请工作人员核实后处理"
    )
    return Finding(None, "file", "error", "sender_unauthenticated", message)
