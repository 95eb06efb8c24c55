"""Mail loops, played out against `subbot poll` on Dovecot and aiosmtpd: after each poll, everything the bot
sent comes back as the world would send it: a copy of the bot's own reply (its address in Cc), an answer
from a branch's autoresponder that marks nothing as automatic, an auto-reply that does say Auto-Submitted,
and a bounce from a server that refuses every reply. The loops end: the bot never answers itself, a bounce
or an auto-reply, and answers the careless autoresponder no more than reply_cap_per_day times a day; the
digest lists the bounces and the mail left unanswered at the cap."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections import Counter
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from fault_results import Result, record
from faults_world import FROM, ZONE, Delivery, ForkServer, Ledger, deliver, digest_rows, log_text, new_mailbox, subbot
from servers.dovecot import Dovecot
from servers.smtp import Received, SmtpServer

from bot.demo import samples, write_message

DAY = dt.datetime(2021, 5, 5, 9, 0, tzinfo=ZONE)
EVENING = "2021-05-05T20:00"
CAP = 5  # reply_cap_per_day's default
CARELESS = "qingnian@example.com"  # 青年工作委员会: an autoresponder that answers everything, unmarked
BOUNCING = "shihua.zwh@example.org"  # 石油化工专业委员会: its server refuses every reply, with a bounce
POLITE = "dqkjg@example.com"  # 大庆油田科技馆: an autoresponder that says Auto-Submitted
MAX_ROUNDS = 15


def first_mails() -> list[Delivery]:
    """Each of the three writes in with a form (the demo's, under its own name): every one gets an answer."""
    form = samples()[0]
    mails = []
    for number, (name, address) in enumerate(
        (("青年工作委员会", CARELESS), ("石油化工专业委员会", BOUNCING), ("大庆油田科技馆", POLITE))
    ):
        sample = type(form)(name, address, f"{name}活动筹备方案", DAY, "方案见附件。", form.files)
        mails.append(Delivery(write_message(sample), DAY + dt.timedelta(minutes=number)))
    return mails


def answers(reply: Received, at: dt.datetime) -> list[Delivery]:
    """What comes back into the bot's mailbox for one reply it sent."""
    sent = email.message_from_bytes(reply.raw, policy=email.policy.default)
    to = reply.rcpt_tos[0]
    back = [Delivery(reply.raw, at)]  # the bot's own copy, as a Cc to itself brings it
    if to == CARELESS:
        back.append(Delivery(_answer(to, sent, "收到，谢谢！此邮件为自动回复。", {}), at))
    elif to == POLITE:
        back.append(Delivery(_answer(to, sent, "您好，我正在休假。", {"Auto-Submitted": "auto-replied"}), at))
    elif to == BOUNCING:
        back.append(Delivery(_bounce(to, reply.raw), at))
    return back


def _answer(sender: str, sent: email.message.Message, body: str, headers: dict[str, str]) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = FROM
    message["Subject"] = f"Re: {sent['Subject']}"
    message["Date"] = format_datetime(DAY)
    message["Message-ID"] = make_msgid(domain=sender.partition("@")[2])
    message["In-Reply-To"] = sent["Message-ID"]
    for name, value in headers.items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


def _bounce(recipient: str, sent: bytes) -> bytes:
    """A DSN as Postfix writes one (RFC 3464): multipart/report, the delivery status, the reply's headers."""
    boundary = make_msgid(domain="bounce").strip("<>")
    original = sent.replace(b"\n", b"\r\n").replace(b"\r\r", b"\r").split(b"\r\n\r\n", 1)[0].decode("ascii")
    text = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        f"To: {FROM}\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: {format_datetime(DAY)}\r\n"
        f"Message-ID: {make_msgid(domain='mx.example.org')}\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"<{recipient}>: host mx.example.org said: 550 5.1.1 User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n{original}\r\n--{boundary}--\r\n"
    )
    return text.encode()


def test_mail_loops_end_and_the_digest_says_so(
    tmp_path: Path, forks: ForkServer, dovecot: Dovecot, smtp_server: SmtpServer
) -> None:
    settings, user = new_mailbox(tmp_path, dovecot, smtp_server, first_mails())
    data, log = settings.parent / "data", settings.parent / "subbot.log"
    rounds, taken = 0, 0
    while rounds < MAX_ROUNDS:
        assert forks.run(subbot(settings, "poll", "--reply-backlog", now=EVENING), log) == 0, log_text(log)
        rounds += 1
        new = smtp_server.received[taken:]
        taken = len(smtp_server.received)
        if not new:
            break
        at = DAY + dt.timedelta(hours=rounds)
        deliver(dovecot, user, [d for reply in new for d in answers(reply, at)])
    assert rounds < MAX_ROUNDS  # it ended

    sent_to = Counter(r.rcpt_tos[0] for r in smtp_server.received)
    assert sent_to == Counter({CARELESS: CAP, BOUNCING: 1, POLITE: 1})
    ledger = Ledger.read(data)
    kinds = Counter(m["kind"] for m in ledger.messages)
    assert kinds["own"] == sum(sent_to.values())  # every copy of its own reply recorded, none answered
    assert kinds["bounce"] == 1 and kinds["auto_reply"] == 1
    unanswered = [m for m in ledger.messages if m["sender"] == CARELESS and m["id"] not in replied(ledger)]
    assert len(unanswered) == 1  # the autoresponder's answer to the fifth reply: the loop's end

    page = tmp_path / "digest.html"
    assert forks.run(subbot(settings, "digest", "--preview", str(page), now=EVENING), log) == 0, log_text(log)
    capped = digest_rows(page, "已达每日回复上限，未回复（疑似邮件循环）")
    bounced = digest_rows(page, "退信")
    assert len(capped) == 1 and CARELESS in capped[0]
    assert len(bounced) == 1 and "mailer-daemon@mx.example.org" in bounced[0].lower()
    record(
        Result(
            suite="faults",
            order=15,
            fault="Mail loops",
            tried=(
                "every reply comes back: a copy to the bot itself, an unmarked autoresponder's answer, an "
                "Auto-Submitted auto-reply, a bounce from a server refusing every reply; polled until quiet"
            ),
            times=rounds,
            lost=0,
            duplicated=0,
            recovery=f"quiet after {rounds} polls",
            outcome=(
                f"own copies ({kinds['own']}), the bounce and the auto-reply were recorded and not answered; the "
                f"careless autoresponder got {CAP} replies (the daily cap) and its next mail none; the digest "
                "lists the bounce under 退信 and that mail under 已达每日回复上限（疑似邮件循环）"
            ),
        )
    )


def replied(ledger: Ledger) -> set[int]:
    return {r["message_pk"] for r in ledger.replies}
