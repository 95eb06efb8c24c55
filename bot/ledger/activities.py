"""Activities as versions: each activity a form brings is a new version of the branch's activity of that title,
and the current one from then on. Writes and queries only; intake says what an activity is."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.ledger.schema import ActivityRow
from config.roster import name_key


def add_version(
    session: Session, message_pk: int, document_pk: int, branch_key: str, data: dict[str, Any], accepted: bool
) -> ActivityRow:
    """`data` is the activity as `subbot check --json` shows it."""
    title_key = name_key(str(data["title"])) or f"untitled:{document_pk}"
    same = (ActivityRow.branch_key == branch_key, ActivityRow.title_key == title_key)
    latest = session.execute(select(func.max(ActivityRow.version)).where(*same)).scalar_one()
    session.execute(update(ActivityRow).where(*same).values(current=False))
    row = ActivityRow(
        message_pk=message_pk,
        document_pk=document_pk,
        branch_key=branch_key,
        title_key=title_key,
        version=(latest or 0) + 1,
        current=True,
        accepted=accepted,
        title=str(data["title"]),
        stage=data["stage"],
        start=_date(data["start"]),
        end=_date(data["end"]),
        data=json.dumps(data, ensure_ascii=False),
    )
    session.add(row)
    return row


def _date(text: object) -> dt.date | None:
    return dt.date.fromisoformat(str(text)) if text else None
