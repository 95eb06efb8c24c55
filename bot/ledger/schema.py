"""The ledger's tables. Every message the bot ever fetched is a row; what it found and answered hangs off it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


# APScheduler keeps its jobs in the same database, in a table it manages itself.
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """For Alembic's comparisons: every object but the tables other libraries own."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


class MessageRow(Base):
    """One distinct message (by SHA-256 of its raw bytes), however many times the mailbox showed it."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str] = mapped_column(String(998), index=True, default="")
    raw_path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    arrived_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # processed | failed | duplicate
    status: Mapped[str] = mapped_column(String(16), index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    sender: Mapped[str] = mapped_column(String(320), default="", index=True)
    sender_name: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    # submission | thanks | for_person | link | auto_reply | bounce | own | unauthenticated
    kind: Mapped[str] = mapped_column(String(16), default="")
    branch: Mapped[str | None] = mapped_column(Text, index=True)
    matched_by: Mapped[str] = mapped_column(String(16), default="")
    deliverable: Mapped[str | None] = mapped_column(String(16))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # accepted | needs_correction | unreadable | no_attachment, or None when nothing was judged
    verdict: Mapped[str | None] = mapped_column(String(24))
    # What the sender wrote (without the quoted mail), first lines: for a mail held for a person.
    excerpt: Mapped[str] = mapped_column(Text, default="")
    receipt: Mapped[str | None] = mapped_column(String(32), unique=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))

    refs: Mapped[list[RefRow]] = relationship(back_populates="message")
    documents: Mapped[list[DocumentRow]] = relationship(back_populates="message", order_by="DocumentRow.position")
    findings: Mapped[list[FindingRow]] = relationship(back_populates="message_row", order_by="FindingRow.id")


class RefRow(Base):
    """Where the mailbox showed a message: (mailbox, UIDVALIDITY, UID) is seen once, ever."""

    __tablename__ = "message_refs"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(255))
    uidvalidity: Mapped[int] = mapped_column(Integer)
    uid: Mapped[str] = mapped_column(String(255))
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime)

    message: Mapped[MessageRow] = relationship(back_populates="refs")


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(24))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    # the form verdict, or None for attachments that are not forms (photos, other files)
    verdict: Mapped[str | None] = mapped_column(String(24))

    message: Mapped[MessageRow] = relationship(back_populates="documents")


class ActivityRow(Base):
    """One activity as one version of one form. A later form's activity that continues this one (the same title,
    or a renamed one with its dates, venue and modules: bot.intake.versions) shares its `identity`, one version up."""

    __tablename__ = "activities"
    __table_args__ = (UniqueConstraint("identity", "version", name="uq_activities_identity_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    document_pk: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    branch_key: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str] = mapped_column(Text)
    # The id of the activity's first row; None only between its insert and the flush that gives it its id.
    identity: Mapped[int | None] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer)
    current: Mapped[bool] = mapped_column(Boolean, index=True)
    accepted: Mapped[bool] = mapped_column(Boolean)
    title: Mapped[str] = mapped_column(Text)
    stage: Mapped[int | None] = mapped_column(Integer)
    start: Mapped[dt.date | None] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date)
    data: Mapped[str] = mapped_column(Text)  # the activity as `subbot check --json` shows it
    # The summary mail that reported this activity as held (planned -> held -> summarised).
    summary_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))


class SummaryActivityRow(Base):
    """An activity a summary mail reported (by its title, or as the branch's only or all activities), whatever the
    summary's verdict: which activity a summary's photos belong to, even before it is accepted. An accepted summary
    also marks the activity summarised (`ActivityRow.summary_pk`). The activity is the version current then."""

    __tablename__ = "summary_activities"
    __table_args__ = (UniqueConstraint("message_pk", "activity_pk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    activity_pk: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    document_pk: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    activity: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(48))
    message: Mapped[str] = mapped_column(Text)

    message_row: Mapped[MessageRow] = relationship(back_populates="findings")


class MediaRow(Base):
    """A photo, video, other file or link of a summary mail: recorded, not held (the bytes are on disk)."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # photo | video | document | link | other
    name: Mapped[str] = mapped_column(Text)  # the file name, or the link's URL
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(Integer)
    stored_path: Mapped[str | None] = mapped_column(Text)  # relative to the data folder
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # EXIF time, the camera's local time
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("media.id"))


class ReplyRow(Base):
    """The outbox: a reply is written here in the same transaction as the decision, then sent.
    One reply per incoming message, so nothing the ledger says was sent is sent twice.
    Reminders and digests are rows without a message; their outgoing_id names (kind, recipient,
    deliverable, day), so the same one can never be queued twice."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # ack | correction | reminder | digest
    deliverable: Mapped[str | None] = mapped_column(String(16))  # reminders: plan | summary
    for_day: Mapped[dt.date | None] = mapped_column(Date, index=True)  # reminders and digests: the local day
    branch: Mapped[str | None] = mapped_column(Text, index=True)
    to_address: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(Text)
    outgoing_id: Mapped[str] = mapped_column(String(998), unique=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    # pending | sent | suppressed | failed
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # A letter about a mail beside its answer (staff's, or the answer once a held mail is released).
    about_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id", name="fk_replies_about_pk"), index=True)


class StateRow(Base):
    """Small facts about the bot itself, by name: e.g. `poll_ok:<mailbox>` is the last successful poll."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class StaffActionRow(Base):
    """What a person did, by `subbot` command or by mail: accept, ask, exempt, unexempt, assign, release, resend,
    note, done; or `handled` (staff answered a held mail themselves) and `refused_mail` (commands from a mail the
    bot would not take them from). A refused command is recorded too, with why."""

    __tablename__ = "staff_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    who: Mapped[str] = mapped_column(String(320))  # a staff address, or "命令行（user）"
    via: Mapped[str] = mapped_column(String(16))  # cli | mail | sent (their reply in Sent)
    verb: Mapped[str] = mapped_column(String(16))
    receipt: Mapped[str | None] = mapped_column(String(32))
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)  # the mail acted on
    branch: Mapped[str | None] = mapped_column(Text)
    deliverable: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")  # staff's words: a note, a correction, why
    before: Mapped[str] = mapped_column(Text, default="")  # what the action changed, as it was (for undo)
    refused: Mapped[str] = mapped_column(Text, default="")  # why it was not carried out; "" when it was
    source_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))  # the staff mail that said it


class KnownAddressRow(Base):
    """An address learned for a branch beyond the roster: the organiser cell of a form it sent, its summary's
    name, or staff (assign --add-address). Later mail from it is that branch's; forgotten when staff undo it."""

    __tablename__ = "known_addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(320), index=True)
    branch: Mapped[str] = mapped_column(Text)
    how: Mapped[str] = mapped_column(String(16))  # organiser | summary | staff
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))  # the mail it was learned from
    learned_at: Mapped[dt.datetime] = mapped_column(DateTime)
    forgotten_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
