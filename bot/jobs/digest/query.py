"""`read_snapshot`: the ledger reads the digest needs, turned into frozen facts inside one session."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.jobs.digest.facts import LearnedFact, MailFact, PlannedActivity, ReplyFact, Snapshot, StaffFact
from bot.ledger import activities, addresses, queries
from bot.ledger.overrides import handled
from bot.ledger.schema import FindingRow, MessageRow, ReplyRow, StaffActionRow, StateRow
from bot.ledger.status import branch_statuses
from bot.ledger.summaries import read_summary_records
from bot.rules.scan import OCR_CODES, READ_BY_OCR
from config import Roster
from parsers.records import Contact

POLL_KEY = "poll_ok:"


def read_snapshot(session: Session, roster: Roster, now: dt.datetime) -> Snapshot:
    return Snapshot(
        statuses=tuple(branch_statuses(session, roster)),
        mails=read_mails(session),
        activities=read_activities(session),
        replies=read_replies(session),
        polls=read_polls(session),
        last_digest=last_digest(session, now),
        summaries=read_summary_records(session),
        actions=read_actions(session),
        handled=frozenset(handled(session)),
        learned=read_learned(session),
    )


def read_learned(session: Session) -> tuple[LearnedFact, ...]:
    receipts = {pk: receipt for pk, receipt in session.execute(select(MessageRow.id, MessageRow.receipt))}
    return tuple(
        LearnedFact(queries.aware(row.learned_at), row.address, row.branch, row.how, receipts.get(row.message_pk or 0))
        for row in addresses.learned(session).values()
    )


def read_actions(session: Session) -> tuple[StaffFact, ...]:
    rows = session.execute(select(StaffActionRow).order_by(StaffActionRow.id)).scalars()
    return tuple(
        StaffFact(
            at=queries.aware(row.at),
            who=row.who,
            via=row.via,
            verb=row.verb,
            receipt=row.receipt,
            branch=row.branch,
            deliverable=row.deliverable,
            text=row.text,
            refused=row.refused,
        )
        for row in rows
    )


def read_mails(session: Session) -> tuple[MailFact, ...]:
    problems: dict[int, list[str]] = {}
    errors = select(FindingRow.message_pk, FindingRow.message).where(FindingRow.severity == "error")
    for pk, message in session.execute(errors.order_by(FindingRow.id)):
        problems.setdefault(pk, []).append(message)
    notes: dict[int, list[str]] = {}
    ocr = select(FindingRow.message_pk, FindingRow.code, FindingRow.message).where(FindingRow.code.in_(OCR_CODES))
    for pk, code, message in session.execute(ocr.order_by(FindingRow.id)):
        notes.setdefault(pk, []).append("扫描件" if code == READ_BY_OCR else message)
    replied = set(session.execute(select(ReplyRow.message_pk).where(ReplyRow.message_pk.is_not(None))).scalars())
    m = MessageRow
    columns = (m.id, m.arrived_at, m.recorded_at, m.status, m.kind, m.sender, m.sender_name, m.subject, m.branch)
    rows = session.execute(
        select(*columns, m.deliverable, m.verdict, m.late, m.receipt, m.error, m.attempts, m.excerpt).order_by(m.id)
    )
    return tuple(
        MailFact(
            pk=row.id,
            arrived=queries.aware(row.arrived_at),
            recorded=queries.aware(row.recorded_at),
            status=row.status,
            kind=row.kind or "",
            sender=row.sender or "",
            sender_name=row.sender_name or "",
            subject=row.subject or "",
            branch=row.branch,
            deliverable=row.deliverable,
            verdict=row.verdict,
            late=bool(row.late),
            receipt=row.receipt,
            error=_last_line(row.error or ""),
            attempts=row.attempts,
            problems=tuple(problems.get(row.id, ())),
            replied=row.id in replied,
            excerpt=row.excerpt or "",
            ocr_notes=tuple(notes.get(row.id, ())),
        )
        for row in rows
    )


def _last_line(trace: str) -> str:
    lines = [line for line in trace.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def read_activities(session: Session) -> tuple[PlannedActivity, ...]:
    """Every branch's activities as its plan stands (bot.ledger.activities.as_it_stands), each with the message
    that brought it: an activity sent in several versions is there once."""
    rows = activities.as_it_stands(session)
    mails = {
        m.id: m
        for m in session.execute(
            select(MessageRow).where(MessageRow.id.in_({row.message_pk for row, _ in rows}))
        ).scalars()
    }
    return tuple(
        planned(
            json.loads(row.data),
            mails[row.message_pk].branch or "",
            mails[row.message_pk].receipt or "",
            queries.aware(mails[row.message_pk].arrived_at),
            row.version,
            accepted,
        )
        for row, accepted in sorted(rows, key=lambda item: item[0].id)
    )


def planned(
    data: dict[str, Any], branch: str, receipt: str, arrived: dt.datetime, version: int, accepted: bool
) -> PlannedActivity:
    """An activity from its stored JSON (the shape of `subbot check --json`)."""
    contact = data.get("contact") or {}
    return PlannedActivity(
        branch=branch,
        receipt=receipt,
        arrived=arrived,
        version=version,
        accepted=accepted,
        organiser=str(data.get("organiser") or ""),
        title=str(data.get("title") or ""),
        modules=tuple(data.get("modules") or ()),
        co_organiser=str(data.get("co_organiser") or ""),
        stage=data.get("stage"),
        start=_date(data.get("start")),
        end=_date(data.get("end")),
        venue=str(data.get("venue") or ""),
        audiences=tuple(data.get("audiences") or ()),
        scale=str(data.get("scale") or ""),
        contact=Contact(**{k: str(contact.get(k) or "") for k in ("name", "office_phone", "mobile", "fax", "email")}),
        address=str(data.get("address") or ""),
        plan_text=str(data.get("plan_text") or ""),
    )


def _date(text: object) -> dt.date | None:
    return dt.date.fromisoformat(text) if isinstance(text, str) and text else None


def read_replies(session: Session) -> tuple[ReplyFact, ...]:
    r = ReplyRow
    columns = (r.kind, r.status, r.to_address, r.branch, r.deliverable, r.for_day, r.created_at, r.attempts)
    rows = session.execute(select(*columns, r.last_error).order_by(r.id))
    return tuple(
        ReplyFact(
            kind=row.kind,
            status=row.status,
            to_address=row.to_address,
            branch=row.branch,
            deliverable=row.deliverable,
            for_day=row.for_day,
            created=queries.aware(row.created_at),
            attempts=row.attempts,
            last_error=row.last_error or "",
        )
        for row in rows
    )


def read_polls(session: Session) -> tuple[tuple[str, dt.datetime], ...]:
    rows = session.execute(select(StateRow.key, StateRow.value).where(StateRow.key.startswith(POLL_KEY)))
    polls = []
    for key, value in rows:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            continue  # not a time: shown as never polled rather than stopping the digest
        polls.append((key.removeprefix(POLL_KEY), moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)))
    return tuple(sorted(polls))


def last_digest(session: Session, now: dt.datetime) -> dt.datetime | None:
    query = select(func.max(ReplyRow.created_at)).where(
        ReplyRow.kind == "digest", ReplyRow.created_at <= queries.utc(now)
    )
    latest = session.execute(query).scalar_one_or_none()
    return queries.aware(latest) if latest else None
