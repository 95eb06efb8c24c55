"""`subbot ledger`: one row per roster branch and deliverable, for staff at a terminal or a script."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from bot.app import App
from bot.status import STATUS_NAMES, branch_statuses

DELIVERABLE_NAMES = {"plan": "筹备方案", "summary": "活动总结"}
REPLY_NAMES = {"ack": "回执", "correction": "修改通知", "reminder": "提醒"}
REPLY_STATES = {"sent": "已发送", "pending": "待发送", "suppressed": "未发送", "failed": "发送失败"}


def show_ledger(app: App, as_json: bool) -> int:
    with Session(app.engine) as session:
        rows = branch_statuses(session, app.roster)
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
        status = STATUS_NAMES.get(row.status, row.status) + ("（逾期）" if row.late else "")
        arrived = f"{row.last_arrived.astimezone(zone):%m-%d %H:%M}" if row.last_arrived else ""
        table.add_row(
            row.branch,
            DELIVERABLE_NAMES[row.deliverable],
            status,
            str(row.versions or ""),
            arrived,
            _reply(row.last_reply),
        )
    Console(width=140).print(table)
    return 0


def _reply(text: str) -> str:
    if not text:
        return ""
    kind, _, state = text.partition(" ")
    return f"{REPLY_NAMES.get(kind, kind)}{REPLY_STATES.get(state, state)}"
