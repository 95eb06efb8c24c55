"""A decided message written to the ledger: who wrote and about what, its documents, its activities as new
versions, its findings, and a summary's media (stored on disk) and the activities it reports."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from bot.forms.check import activity_json
from bot.intake.decide import Decision
from bot.ledger import activities, history
from bot.ledger.queries import utc
from bot.ledger.schema import ActivityRow, DocumentRow, FindingRow, MediaRow, MessageRow, SummaryActivityRow
from bot.mailbox.port import Fetched
from bot.store.content import ContentStore, media_suffix
from bot.summary.records import MediaFile
from parsers.message import Mail


def describe(message: MessageRow, mail: Mail, fetched: Fetched) -> None:
    """What the ledger shows of a message whatever became of it: who wrote, when, about what."""
    message.message_id = mail.message_id
    message.arrived_at = utc(fetched.arrived)
    message.sender = mail.sender.address
    message.sender_name = mail.sender.name
    message.subject = mail.subject
    message.kind = mail.kind
    message.error = ""


def record_decision(session: Session, message: MessageRow, decision: Decision) -> None:
    """Documents, activities (as new versions) and findings of a decided message."""
    message.kind = decision.kind
    message.branch = decision.branch.name if decision.branch else None
    message.matched_by = decision.matched_by
    message.deliverable = decision.deliverable
    message.late = decision.late
    message.verdict = decision.verdict
    message.excerpt = decision.excerpt
    branch_key = history.branch_key(message.branch, message.sender)
    documents: dict[str, DocumentRow] = {}
    for position, check in enumerate(decision.documents):
        attachment = check.attachment
        row = DocumentRow(
            message=message,
            position=position,
            name=attachment.name,
            kind=attachment.kind,
            sha256=attachment.sha256,
            size=attachment.size,
            verdict=check.result.verdict,
        )
        session.add(row)
        documents[attachment.name] = row
    session.flush()
    continues = iter(decision.continuation.continues if decision.continuation else ())
    for check in decision.documents:
        document = documents[check.attachment.name]
        accepted = check.result.verdict == "accepted"
        for activity in check.result.read.activities:
            earlier = next(continues, None)
            identity = earlier.identity if earlier is not None else None
            activities.add_version(
                session, message.id, document.id, branch_key, activity_json(activity), accepted, identity
            )
    for item in decision.findings:
        finding = item.finding
        session.add(
            FindingRow(
                message_row=message,
                document_pk=documents[item.document].id if item.document in documents else None,
                activity=finding.activity,
                field=finding.field,
                severity=finding.severity,
                code=finding.code,
                message=finding.message,
            )
        )


def record_summary(session: Session, message: MessageRow, decision: Decision, store: ContentStore | None) -> None:
    """A summary's files (stored on disk when a store is given) and media links as media rows, and the activities
    it reports (whatever its verdict: staff find its photos under them); an accepted summary marks them
    summarised. Nothing for any other decision."""
    summary = decision.summary
    if summary is None:
        return
    usable = {d.name for d in summary.usable_documents}
    hashes = frozenset(f.info.sha256 for f in summary.files)
    first = history.first_media(session, message.branch, message.sender, message.id, hashes)
    for position, media in enumerate(summary.files):
        info = media.info
        kind = "other" if media.kind == "document" and media.attachment.name not in usable else media.kind
        row = MediaRow(
            message_pk=message.id,
            position=position,
            kind=kind,
            name=media.attachment.name,
            sha256=info.sha256,
            size=info.size,
            stored_path=_stored(store, media) if store else None,
            taken_at=info.taken_at,
            duplicate_of=first.get(info.sha256),
        )
        session.add(row)
        session.flush()
        first.setdefault(info.sha256, row.id)
    for number, link in enumerate(summary.media_links, start=len(summary.files)):
        session.add(MediaRow(message_pk=message.id, position=number, kind="link", name=link.url))
    for planned in summary.activities:
        activity = session.get(ActivityRow, planned.key)
        if activity is None:
            continue
        session.add(SummaryActivityRow(message_pk=message.id, activity_pk=activity.id))
        if decision.verdict == "accepted":
            activity.summary_pk = message.id


def _stored(store: ContentStore, media: MediaFile) -> str:
    attachment, info = media.attachment, media.info
    if attachment.spill is not None:  # decoded to a file as the mail was read: linked, never read back
        return store.put_file(Path(attachment.spill.path), info.sha256, media_suffix(info.format))
    return store.put(attachment.data, info.sha256, media_suffix(info.format))
