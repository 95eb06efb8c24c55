"""`subbot ledger`: one row per roster branch and deliverable, for staff at a terminal or a script."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from bot import wording
from bot.app import App
from bot.ledger.status import FailedMessage, branch_statuses, failed_messages

# `decide` leaves a submission unanswered only when the sender's replies for the day reached the cap.
NO_REPLY = "未回复（已达当日上限）"


def show_ledger(app: App, as_json: bool) -> int:
    with Session(app.engine) as session:
        rows = branch_statuses(session, app.roster)
        failed = failed_messages(session)
    zone = app.campaign.zone
    if as_json:
        for row in rows:
            print(
                json.dumps(
                    {
                        "branch": row.branch,
                        "in_roster": row.known,
                        "deliverable": row.deliverable,
                        "status": row.status,
                        "newer": row.newer,
                        "versions": row.versions,
                        "late": row.late,
                        "last_arrived": row.last_arrived.astimezone(zone).isoformat() if row.last_arrived else None,
                        "last_reply": row.last_reply,
                    },
                    ensure_ascii=False,
                )
            )
        return 0
    table = Table(title=f"{app.campaign.name} 报送登记")
    for column in ("单位", "材料", "状态", "版本", "最近来信", "最近回复"):
        table.add_column(column)
    for row in rows:
        status = wording.standing(row.status, row.newer) + ("（逾期）" if row.late else "")
        arrived = wording.short_moment(row.last_arrived.astimezone(zone)) if row.last_arrived else ""
        table.add_row(
            row.branch,
            wording.deliverable(row.deliverable),
            status,
            str(row.versions or ""),
            arrived,
            _reply(row.last_reply),
        )
    console = Console(width=140)
    console.print(table)
    if failed:
        console.print(_failed_table(failed, app))
    return 0


def _failed_table(failed: list[FailedMessage], app: App) -> Table:
    table = Table(title="处理失败、待人工处理的邮件（排除原因后可用 subbot retry 编号 重新处理）")
    for column in ("编号", "来信时间", "尝试次数", "主题", "错误"):
        table.add_column(column)
    for message in failed:
        arrived = wording.short_moment(message.arrived.astimezone(app.campaign.zone))
        table.add_row(str(message.id), arrived, str(message.attempts), message.subject, message.error)
    return table


def _reply(text: str) -> str:
    if not text:
        return ""
    if text == "none":
        return NO_REPLY
    kind, _, state = text.partition(" ")
    return f"{wording.REPLY_NAMES.get(kind, kind)}{wording.REPLY_STATES.get(state, state)}"
