"""Activities as versions. Each plan form a branch sends is a version of its plan; each activity in it is a row,
one version of an activity that keeps its `identity` across versions (intake says which earlier activity a
new one continues). What a branch's plan is now comes from its versions, never from its last mail:
- its standing activities are those of its latest accepted plan mail (accepted, whatever came after);
- its latest activities are those of the latest plan mail that brought any, accepted or not.
Writes and queries only; intake says what an activity is."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.ledger.queries import utc
from bot.ledger.schema import ActivityRow, MessageRow
from bot.summary.records import Planned
from config.roster import name_key


def add_version(
    session: Session,
    message_pk: int,
    document_pk: int,
    branch_key: str,
    data: dict[str, Any],
    accepted: bool,
    continues: int | None,
) -> ActivityRow:
    """`data` is the activity as `subbot check --json` shows it; `continues` the identity of the earlier activity
    it is a new version of (None: a new activity). A summary that reported the earlier version reports this one."""
    before = _latest_of(session, continues) if continues is not None else None
    if before is not None:
        session.execute(update(ActivityRow).where(ActivityRow.identity == continues).values(current=False))
    row = ActivityRow(
        message_pk=message_pk,
        document_pk=document_pk,
        branch_key=branch_key,
        title_key=name_key(str(data["title"])) or f"untitled:{document_pk}",
        identity=continues if before is not None else None,
        version=before.version + 1 if before is not None else 1,
        current=True,
        accepted=accepted,
        title=str(data["title"]),
        stage=data["stage"],
        start=_date(data["start"]),
        end=_date(data["end"]),
        data=json.dumps(data, ensure_ascii=False),
        summary_pk=before.summary_pk if before is not None else None,
    )
    session.add(row)
    session.flush()
    if row.identity is None:
        row.identity = row.id
    return row


def _latest_of(session: Session, identity: int) -> ActivityRow | None:
    query = select(ActivityRow).where(ActivityRow.identity == identity).order_by(ActivityRow.version.desc()).limit(1)
    return session.execute(query).scalar_one_or_none()


def standing(session: Session, branch_key: str | None = None, before: dt.datetime | None = None) -> list[ActivityRow]:
    """Every branch's (or one branch's) standing activities: the rows of its latest accepted plan mail (of those
    that arrived before `before`, when given)."""
    return _rows_of(session, _latest_mails(session, branch_key, True, before))


def latest(session: Session, branch_key: str | None = None, before: dt.datetime | None = None) -> list[ActivityRow]:
    """Every branch's (or one branch's) latest activities: the rows of the latest plan mail that brought any."""
    return _rows_of(session, _latest_mails(session, branch_key, False, before))


def as_it_stands(session: Session) -> list[tuple[ActivityRow, bool]]:
    """Each branch's activities as its plan stands: those of its latest accepted plan (True), or, for a branch
    with none accepted yet, those of its latest plan (False). Each activity once, whatever its versions."""
    accepted = standing(session)
    done = {row.branch_key for row in accepted}
    return [(row, True) for row in accepted] + [(row, False) for row in latest(session) if row.branch_key not in done]


def planned(rows: Iterable[ActivityRow]) -> tuple[Planned, ...]:
    return tuple(
        Planned(
            row.id,
            row.title,
            row.start,
            row.end,
            row.identity or row.id,
            str(json.loads(row.data).get("venue") or ""),
            tuple(json.loads(row.data).get("modules") or ()),
        )
        for row in rows
    )


def _latest_mails(
    session: Session, branch_key: str | None, accepted_only: bool, before: dt.datetime | None
) -> list[int]:
    """The latest mail (by arrival, then id) that brought activities, per branch key."""
    query = select(ActivityRow.branch_key, ActivityRow.message_pk, MessageRow.arrived_at).join(
        MessageRow, MessageRow.id == ActivityRow.message_pk
    )
    if accepted_only:
        query = query.where(MessageRow.verdict == "accepted")
    if branch_key is not None:
        query = query.where(ActivityRow.branch_key == branch_key)
    if before is not None:
        query = query.where(MessageRow.arrived_at < utc(before))
    best: dict[str, tuple[dt.datetime, int]] = {}
    for key, message_pk, arrived in session.execute(query.distinct()):
        if key not in best or (arrived, message_pk) > best[key]:
            best[key] = (arrived, message_pk)
    return sorted(pk for _, pk in best.values())


def _rows_of(session: Session, message_pks: list[int]) -> list[ActivityRow]:
    if not message_pks:
        return []
    query = select(ActivityRow).where(ActivityRow.message_pk.in_(message_pks)).order_by(ActivityRow.id)
    return list(session.execute(query).scalars())


def _date(text: object) -> dt.date | None:
    return dt.date.fromisoformat(str(text)) if text else None
