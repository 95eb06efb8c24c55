"""`subbot retry` and `subbot inspect`: one message again, on the path a poll takes (inspect without writing)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot import wording
from bot.app import App
from bot.intake.decide import Routing
from bot.intake.examine import HistoryOf, examine, no_history
from bot.intake.read import read_file
from bot.intake.services import Services
from bot.intake.take import take_one
from bot.ledger.database import open_engine
from bot.ledger.history import branch_history
from bot.ledger.schema import MessageRow
from bot.mailbox.port import Fetched, MessageRef
from bot.store.spills import SpillFolder
from bot.summary.records import History
from config.settings import Settings
from parsers.message import Mail

STATES = {"processed": "已处理", "duplicate": "是重复邮件"}


def retry(app: App, message: str, now: Callable[[], dt.datetime]) -> int:
    # Under the poll lock, waiting for a poll in progress: its outbox flush and this one would otherwise both
    # find the same replies pending and send each twice.
    with app.poll_lock.hold(wait=True):
        return _retry(app, message, now)


def _retry(app: App, message: str, now: Callable[[], dt.datetime]) -> int:
    with Session(app.engine) as session:
        row = _find(session, message)
        if row is None:
            print(f"账本中没有邮件 {message}", file=sys.stderr)
            return 1
        if row.status != "failed":
            print(f"邮件 {message} {STATES.get(row.status, row.status)}，无需重试", file=sys.stderr)
            return 1
        ref = row.refs[0] if row.refs else None
        fetched = Fetched(  # read from the stored copy as a file: a big one is never held whole
            MessageRef(ref.mailbox, ref.uidvalidity, ref.uid) if ref else MessageRef("retry", 0, row.sha256),
            b"",
            row.arrived_at.replace(tzinfo=dt.UTC),
            spooled=app.store.path(row.raw_path),
        )
        stored, pk = (row.sha256, row.raw_path), row.id
    # Set aside unmarked when it failed: a message still in the mailbox is marked processed by the next poll.
    intake = take_one(app.engine, fetched, stored, app.services, now(), owe_mark=ref is not None, existing=pk)
    if intake is None or intake.status == "failed":
        print(f"邮件 {message} 重试仍失败，原因已记入账本", file=sys.stderr)
        return 1
    app.flush_outbox(now)
    print(f"邮件 {message} 已重新处理：{intake.status}，回复：{wording.REPLY_NAMES.get(intake.reply, '无')}")
    return 0


def _find(session: Session, key: str) -> MessageRow | None:
    if key.isdigit():
        return session.get(MessageRow, int(key))
    return (
        session.execute(select(MessageRow).where((MessageRow.receipt == key) | (MessageRow.sha256.startswith(key))))
        .scalars()
        .first()
    )


def inspect(settings: Settings, services: Services, files: list[Path], as_json: bool, now: dt.datetime) -> int:
    """What the bot reads in raw messages and would do, on the path a poll takes, writing nothing: the branch's
    history comes from the ledger when there is one (a summary is judged against it as a poll would)."""
    with _history(settings) as history_of:
        for path in files:
            with SpillFolder() as spills:  # as a big mail is polled, its parts to files, here in the temp folder
                mail = read_file(path, services.own_addresses, services.authserv_ids, spills)
                decision = examine(mail, services, mail.date or now, history_of, 0)
            # By the attachment itself, not its name: two attachments may share one name.
            verdicts = {id(check.attachment): check.result.verdict for check in decision.documents}
            report = {
                "file": str(path),
                "from": {"name": mail.sender.name, "address": mail.sender.address},
                "subject": mail.subject,
                "kind": mail.kind,
                "kind_reason": mail.kind_reason,
                "branch": decision.branch.name if decision.branch else None,
                "deliverable": decision.deliverable,
                "attachments": [
                    {"name": a.name, "type": a.kind, "size": a.size, "origin": a.origin, "verdict": verdicts.get(id(a))}
                    for a in mail.attachments
                ],
                "reply": decision.reply,
                "findings": [
                    {
                        "document": f.document,
                        "severity": f.finding.severity,
                        "code": f.finding.code,
                        "message": f.finding.message,
                    }
                    for f in decision.findings
                ],
            }
            print(json.dumps(report, ensure_ascii=False) if as_json else _describe(report))
    return 0


@contextmanager
def _history(settings: Settings) -> Iterator[HistoryOf]:
    """The ledger's history of a branch, read in one read-only session; none where there is no ledger yet
    (inspect creates nothing). Only what arrived before the mail counts: an inspected mail the bot already
    took in is judged as it was then, not against its own photos."""
    url = make_url(settings.database())
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
        yield no_history
        return
    engine = open_engine(settings.database())
    try:
        with Session(engine) as session:

            def history_of(mail: Mail, routing: Routing) -> History:
                branch = routing.branch.name if routing.branch else None
                return branch_history(session, branch, mail.sender.address, before=mail.date)

            yield history_of
            session.rollback()
    finally:
        engine.dispose()


def _describe(report: dict[str, Any]) -> str:
    lines = [
        f"{report['file']}",
        f"  发件人：{report['from']['name']} <{report['from']['address']}>（{report['branch'] or '名单外'}）",
        f"  主题：{report['subject']}",
        f"  类型：{report['kind']}（{report['kind_reason'] or '正常来信'}）",
    ]
    for a in report["attachments"]:
        lines.append(f"  附件：{a['name']}（{a['type']}，{a['size']}字节）{a['verdict'] or ''}")
    lines.append(f"  将回复：{report['reply']}")
    lines += [f"  {'✗' if f['severity'] == 'error' else '!'} {f['message']}" for f in report["findings"]]
    return "\n".join(lines)
