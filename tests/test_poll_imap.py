"""The whole bot against a real Dovecot and a real aiosmtpd, built from a settings file: every mail recorded
once and answered right, threaded and marked automatic, with a copy in Sent; nothing twice across a
restart, a new UIDVALIDITY, duplicate deliveries or an SMTP server that was down; old mail not answered on
the first run; staff's \\Seen never touched."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import docx
import pytest
from annotated_files import anchors, by_message
from imap_bot import DELIVERED, NOW, Bot, flags_without_recent, golden, sent, write_settings
from servers.dovecot import Dovecot
from servers.smtp import SmtpServer

from bot.demo import samples, write_message
from bot.forms.check import check_form
from bot.forms.layout import form_layout
from config import Context
from parsers.annotate import ERROR_FILL
from parsers.message import parse_message

SENT_FOLDER = "Sent Messages"  # the test Dovecot's \Sent (SPECIAL-USE)
# Golden mails as branches' clients wrote them, and the reply each deserves. Their attachments are stand-ins
# for forms (or no form at all), so every submission among them is asked for a correction.
GOLDEN_REPLIES = {
    "qq-gb18030-encoded-words.eml": "correction",
    "netease-163-gbk-only-names.eml": "correction",
    "foxmail-rfc2231-continuation.eml": "correction",  # answered at its Reply-To
    "outlook-winmail-dat.eml": "correction",
    "outlook-auto-response-suppress.eml": "correction",  # a reply in a thread: References carried on
    "iphone-related-inline-image.eml": "correction",
    "forwarded-message-rfc822.eml": "correction",
    "zip-gbk-member-names.eml": "correction",
    "see-attachment-without-attachment.eml": "correction",
    "auto-reply-auto-submitted.eml": "none",
    "auto-reply-outlook-subject.eml": "none",
    "bounce-multipart-report.eml": "none",
    "own-address.eml": "none",
}
# The demo's mails (bot/demo.py), by subject and sender: real forms, right, wrong, blank or missing.
DEMO_REPLIES = {
    ("bjsyxh@example.com", "报送全国科技工作者日活动筹备方案"): "ack",
    ("dizhi.zwh@example.com", "石油地质专委会活动方案（两项）"): "ack",
    ("gongcheng@example.com", "筹备方案"): "correction",  # a landline where the mobile goes
    ("scsyxh@example.org", "活动方案"): "correction",  # no attachment
    ("hljsyxh@example.net", "筹备方案（照片）"): "correction",  # a photo of the form
    ("gongcheng@example.com", "回复：筹备方案（已修改）"): "ack",
    ("office@kexie.example.net", "我们也想报一个活动"): "ack",  # not in the roster, still answered
    ("qingnian@example.com", "自动回复：休假中"): "none",
    ("lianzhi@example.com", "筹备方案"): "correction",  # the blank form sent back
    ("xjsyxh@example.com", "新疆石油学会活动筹备方案（迟交）"): "ack",
    ("MAILER-DAEMON@example.org", "Undelivered Mail Returned to Sender"): "none",
    ("slzlg@example.com", "活动总结及照片"): "ack",
}


@dataclass(frozen=True)
class Deserves:
    """What a delivered mail should get: a reply of `kind` (or "none") at `to`, threaded under its subject."""

    kind: str
    to: str
    subject: str
    references: tuple[str, ...]


def deliver(dovecot: Dovecot, user: str, raw: bytes, kind: str, to: str, **options: Any) -> dict[str, Deserves]:
    dovecot.append(user, raw, **options)
    mail = parse_message(raw)
    return {mail.message_id: Deserves(kind, to, mail.subject, mail.references)}


def deliver_everything(dovecot: Dovecot, user: str) -> dict[str, Deserves]:
    """Every golden and demo mail into INBOX, every other one already read by staff (\\Seen)."""
    expected: dict[str, Deserves] = {}
    for number, (name, kind) in enumerate(GOLDEN_REPLIES.items()):
        raw, parse = golden(name)
        to = (parse.get("reply_to") or parse["sender"])["address"]
        flags = [b"\\Seen"] if number % 2 else []
        expected |= deliver(dovecot, user, raw, kind, to, flags=flags, internal_date=DELIVERED)
    for number, sample in enumerate(samples()):
        kind, flags = DEMO_REPLIES[sample.address, sample.subject], [b"\\Seen", b"\\Flagged"] if number % 2 else []
        raw = write_message(sample)
        expected |= deliver(dovecot, user, raw, kind, sample.address.lower(), flags=flags, internal_date=sample.arrived)
    return expected


def deliver_new(dovecot: Dovecot, user: str, subject: str) -> dict[str, Deserves]:
    """A branch writing in after the bot started; no attachment, so a correction is due."""
    sample = replace(samples()[0], subject=subject, files=())
    return deliver(dovecot, user, write_message(sample), "correction", sample.address, internal_date=DELIVERED)


def assert_answered(smtp: SmtpServer, expected: dict[str, Deserves]) -> None:
    """aiosmtpd got exactly one reply for each mail that deserves one: to the right address, threaded
    under the original (In-Reply-To, References), subject 回复：<original>, marked automatic."""
    replies = sent(smtp)
    assert Counter(r.in_reply_to for r in replies) == Counter(m for m, e in expected.items() if e.kind != "none")
    for reply in replies:
        original = expected[reply.in_reply_to]
        assert reply.rcpt == (original.to,)
        assert reply.mail.references == (*original.references[-10:], reply.in_reply_to)
        prefix = "" if original.subject.startswith("回复") else "回复："
        assert reply.mail.subject.startswith(f"{prefix}{original.subject}（")
        assert reply.header("Auto-Submitted") == "auto-replied"


def reply_kinds(bot: Bot) -> dict[str, str]:
    """Each recorded message's reply kind ("none" without one), by Message-ID."""
    kinds = {r.message_pk: r.kind for r in bot.replies()}
    return {m.message_id: kinds.get(m.id, "none") for m in bot.messages() if m.status != "duplicate"}


def refs_per_message(bot: Bot) -> list[int]:
    counts = Counter(ref.message_pk for ref in bot.refs())
    return [counts[m.id] for m in bot.messages()]


def statuses(bot: Bot) -> Counter[str]:
    return Counter(r.status for r in bot.replies())


@pytest.fixture
def start_bot(
    tmp_path: Path, ctx: Context, dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer
) -> Iterator[Callable[..., Bot]]:
    """Starts the bot on this test's mailbox and SMTP server, with staff's templates if given;
    `mailbox` adds [mailbox] settings."""
    bots: list[Bot] = []

    def start(templates_dir: Path | None = None, **mailbox: str) -> Bot:
        bots.append(Bot(write_settings(tmp_path, dovecot, imap_user, smtp_server, templates_dir, **mailbox), ctx))
        return bots[-1]

    yield start
    for bot in bots:
        bot.close()


def test_every_mail_is_recorded_once_and_answered_right_with_a_copy_in_sent(
    dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start_bot: Callable[..., Bot]
) -> None:
    expected = deliver_everything(dovecot, imap_user)
    with dovecot.client(imap_user) as client:
        client.create_folder(SENT_FOLDER)
    flags = list(flags_without_recent(dovecot.flags(imap_user)))

    bot = start_bot()
    report, flushed = bot.poll()

    assert (report.new, report.processed, report.duplicates, report.failed) == (len(expected), len(expected), 0, 0)
    assert sorted(m.message_id for m in bot.messages()) == sorted(expected)
    assert refs_per_message(bot) == [1] * len(expected)
    assert reply_kinds(bot) == {message_id: e.kind for message_id, e in expected.items()}
    assert statuses(bot) == Counter(sent=flushed.sent)
    assert_answered(smtp_server, expected)
    kept = [parse_message(raw).message_id for raw in dovecot.messages(imap_user, SENT_FOLDER).values()]
    assert sorted(kept) == sorted(r.mail.message_id for r in sent(smtp_server))
    assert list(flags_without_recent(dovecot.flags(imap_user))) == flags


def test_a_restarted_bot_records_nothing_new_and_sends_nothing_again(
    dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start_bot: Callable[..., Bot]
) -> None:
    expected = deliver_everything(dovecot, imap_user)
    bot = start_bot()
    bot.poll()
    ledger = (bot.messages(), bot.refs(), bot.replies())
    received = len(smtp_server.received)

    bot.restart()
    report, flushed = bot.poll(NOW + dt.timedelta(hours=1))

    assert (report.seen, report.new, flushed.sent) == (len(expected), 0, 0)
    assert len(smtp_server.received) == received
    assert [len(rows) for rows in (bot.messages(), bot.refs(), bot.replies())] == [len(rows) for rows in ledger]


def test_a_new_uidvalidity_is_recorded_against_the_same_messages_and_nothing_is_sent_twice(
    dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start_bot: Callable[..., Bot]
) -> None:
    expected = deliver_everything(dovecot, imap_user)
    bot = start_bot()
    bot.poll()
    old = {ref.message_pk: (ref.uidvalidity, ref.uid) for ref in bot.refs()}
    bot.close()

    dovecot.rebuild(imap_user)
    expected |= deliver_new(dovecot, imap_user, "补充：北京石油学会活动方案")
    bot = start_bot()
    report, _ = bot.poll(NOW + dt.timedelta(hours=1))

    assert (report.new, report.processed) == (len(expected), 1)
    refs = bot.refs()
    assert len({ref.uidvalidity for ref in refs}) == 2
    new = {ref.message_pk: (ref.uidvalidity, ref.uid) for ref in refs if (ref.uidvalidity, ref.uid) not in old.values()}
    assert set(new) == {m.id for m in bot.messages()}  # every message, old and new, under its new ref
    assert refs_per_message(bot) == [2] * (len(expected) - 1) + [1]
    assert_answered(smtp_server, expected)


def test_a_mail_delivered_twice_is_one_submission_with_one_reply(
    dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start_bot: Callable[..., Bot]
) -> None:
    raw, parse = golden("netease-163-gbk-only-names.eml")
    expected = deliver(dovecot, imap_user, raw, "correction", parse["sender"]["address"], internal_date=DELIVERED)
    dovecot.append(imap_user, raw, internal_date=DELIVERED)  # the same bytes again
    bot = start_bot()
    first, _ = bot.poll()
    # Re-delivered by the branch's server: the same mail with one more Received: line on top.
    relayed = b"Received: from mx.163.com by mx.society.org.cn; Tue, 21 May 2024 10:09:00 +0800\r\n" + raw
    dovecot.append(imap_user, relayed, internal_date=DELIVERED + dt.timedelta(minutes=7))
    second, _ = bot.poll()

    assert (first.new, first.processed, second.new, second.duplicates) == (2, 1, 1, 1)
    original, copy = bot.messages()
    assert (original.status, copy.status, copy.duplicate_of) == ("processed", "duplicate", original.id)
    assert refs_per_message(bot) == [2, 1]
    assert [r.message_pk for r in bot.replies()] == [original.id]
    assert_answered(smtp_server, expected)


def test_mail_already_there_on_the_first_run_is_recorded_but_not_answered(
    dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start_bot: Callable[..., Bot]
) -> None:
    backlog = deliver_everything(dovecot, imap_user)
    bot = start_bot()
    report, flushed = bot.poll(reply_backlog=False)
    assert report.backlog and (report.processed, flushed.sent) == (len(backlog), 0)
    assert statuses(bot) == Counter(suppressed=sum(e.kind != "none" for e in backlog.values()))
    assert smtp_server.received == []

    expected = deliver_new(dovecot, imap_user, "北京石油学会活动方案（补）")
    report, flushed = bot.poll(reply_backlog=False)

    assert not report.backlog and (report.new, flushed.sent) == (1, 1)
    assert_answered(smtp_server, expected)


def test_mail_arriving_after_a_first_run_on_an_empty_mailbox_is_answered(
    dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start_bot: Callable[..., Bot]
) -> None:
    bot = start_bot()
    assert bot.poll(reply_backlog=False)[0].seen == 0
    bot.restart()
    expected = deliver_new(dovecot, imap_user, "北京石油学会活动方案")

    report, flushed = bot.poll(reply_backlog=False)

    assert not report.backlog and flushed.sent == 1
    assert_answered(smtp_server, expected)


@pytest.mark.parametrize("outage", ["stopped", "451 at DATA"])
def test_replies_wait_while_smtp_is_down_and_go_once_when_it_is_back(
    dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start_bot: Callable[..., Bot], outage: str
) -> None:
    expected = deliver_everything(dovecot, imap_user)
    due = sum(e.kind != "none" for e in expected.values())
    if outage == "stopped":
        smtp_server.stop()
    else:
        smtp_server.refuse("DATA", "451 4.3.0 try again later")
    bot = start_bot()

    report, flushed = bot.poll()
    assert (report.processed, flushed.deferred, flushed.sent) == (len(expected), due, 0)
    assert statuses(bot) == Counter(pending=due) and smtp_server.received == []
    # A server that does not answer is tried once a round, not once a reply; one that refuses a message, each.
    tried = 1 if outage == "stopped" else due
    assert [r.attempts for r in bot.replies()] == [1] * tried + [0] * (due - tried)

    smtp_server.reset()  # back up, accepting everything
    later = NOW + dt.timedelta(minutes=2)  # past the first wait
    _, flushed = bot.poll(later)
    _, again = bot.poll(later + dt.timedelta(hours=3))

    assert (flushed.sent, again.sent) == (due, 0)
    assert statuses(bot) == Counter(sent=due)
    assert_answered(smtp_server, expected)
    assert len(dovecot.messages(imap_user, "Sent")) == due


def test_a_processed_keyword_marks_every_mail_and_leaves_seen_alone(
    dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start_bot: Callable[..., Bot]
) -> None:
    expected = deliver_everything(dovecot, imap_user)
    flags = list(flags_without_recent(dovecot.flags(imap_user)))

    start_bot(processed_keyword="$SubbotDone").poll()

    after = list(flags_without_recent(dovecot.flags(imap_user)))
    assert after == [f | {b"$SubbotDone"} for f in flags]
    assert len(after) == len(expected)
    assert_answered(smtp_server, expected)


def test_a_mail_that_fails_is_recorded_with_why_left_unmarked_and_the_poll_goes_on(
    tmp_path: Path, dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start_bot: Callable[..., Bot]
) -> None:
    # Staff's own correction subject names a value the bot does not have: every correction fails to render.
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "correction.subject.txt").write_text("{{ secretary }}：请修改筹备方案\n", encoding="utf-8")
    expected = deliver_everything(dovecot, imap_user)
    failing = {message_id for message_id, e in expected.items() if e.kind == "correction"}

    report, flushed = start_bot(templates, processed_keyword="$SubbotDone").poll()

    assert (report.failed, report.processed) == (len(failing), len(expected) - len(failing))
    assert flushed.sent == sum(e.kind == "ack" for e in expected.values())
    failed = [m for m in start_bot().messages() if m.status == "failed"]
    assert {m.message_id for m in failed} == failing
    assert all("UndefinedError" in m.error and "secretary" in m.error for m in failed)
    raws, flags = dovecot.messages(imap_user), dovecot.flags(imap_user)
    marked = {parse_message(raws[uid]).message_id: b"$SubbotDone" in flags[uid] for uid in raws}
    assert marked == {message_id: message_id not in failing for message_id in expected}
    assert_answered(smtp_server, {m: replace(e, kind="none") if m in failing else e for m, e in expected.items()})


def test_a_dry_run_records_marks_and_sends_nothing_and_is_no_first_run(
    dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start_bot: Callable[..., Bot]
) -> None:
    backlog = deliver_everything(dovecot, imap_user)
    flags = list(flags_without_recent(dovecot.flags(imap_user)))
    bot = start_bot(processed_keyword="$SubbotDone")

    tried, _ = bot.poll(reply_backlog=False, dry_run=True)
    due = sum(e.kind != "none" for e in backlog.values())
    assert (tried.backlog, tried.processed, tried.replies) == (True, len(backlog), {"suppressed": due})
    assert (bot.messages(), bot.refs(), bot.replies()) == ([], [], [])
    assert list(flags_without_recent(dovecot.flags(imap_user))) == flags

    report, flushed = bot.poll(reply_backlog=False)  # the real first run: still the backlog
    assert (report.backlog, report.processed, flushed.sent) == (True, len(backlog), 0)
    assert smtp_server.received == []


def test_a_correction_over_smtp_brings_the_branch_s_form_annotated(
    dovecot: Dovecot, imap_user: str, smtp_server: SmtpServer, start_bot: Callable[..., Bot], ctx: Context
) -> None:
    """The demo's form with a landline where the mobile goes, through Dovecot and aiosmtpd: the correction
    carries that form back, the finding a comment on its shaded cell (tests/test_correction_annotated.py has
    the rest of the cases, on a Maildir)."""
    (sample,) = [s for s in samples() if (s.address, s.subject) == ("gongcheng@example.com", "筹备方案")]
    ((name, form, _),) = sample.files
    expected = deliver(dovecot, imap_user, write_message(sample), "correction", sample.address)

    start_bot().poll()

    assert_answered(smtp_server, expected)
    (reply,) = sent(smtp_server)
    (attachment,) = [a for a in reply.mail.attachments if a.origin != "inline"]
    assert attachment.name == "筹备方案（请按批注修改）.docx"
    findings = check_form(form, name, ctx, None).findings
    assert [f.field for f in findings] == ["start", "contact.mobile"]
    comments = docx.Document(io.BytesIO(attachment.data)).comments
    assert [c.text for c in comments] == [f.message for f in findings]
    placed = by_message(anchors(attachment.data, form_layout(ctx.campaign)))
    assert [(placed[f.message].table, placed[f.message].fill) for f in findings] == [(0, ERROR_FILL)] * 2
