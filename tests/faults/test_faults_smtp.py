"""SMTP down or refusing, under `subbot poll` over Dovecot: replies wait in the outbox (the ledger) while the
server is stopped or answers 4xx, and go out once, when it is back; a permanent 5xx is recorded, not tried
again, and shown in the digest (`subbot digest --preview`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_results import Result, record
from faults_world import (
    NOW,
    Delivery,
    ForkServer,
    Ledger,
    PickyCollector,
    digest_rows,
    log_text,
    new_mailbox,
    reply_ids,
    subbot,
)
from servers.dovecot import Dovecot
from servers.smtp import SmtpServer

SOME = 20  # of the mails: enough to have replies to many branches, fewer to take in


def later(minutes: float) -> str:
    return (dt.datetime.fromisoformat(NOW) + dt.timedelta(minutes=minutes)).isoformat(timespec="minutes")


def poll(forks: ForkServer, settings: Path, minutes: float = 0) -> Ledger:
    log = settings.parent / "subbot.log"
    assert forks.run(subbot(settings, "poll", "--reply-backlog", now=later(minutes)), log) == 0, log_text(log)
    return Ledger.read(settings.parent / "data")


def statuses(ledger: Ledger) -> Counter[str]:
    return Counter(r["status"] for r in ledger.replies)


def attempts(ledger: Ledger) -> list[int]:
    return [r["attempts"] for r in ledger.replies]


def test_replies_wait_while_smtp_is_stopped_and_go_once_when_it_is_back(
    tmp_path: Path, forks: ForkServer, dovecot: Dovecot, smtp_server: SmtpServer, mails: list[Delivery]
) -> None:
    smtp_server.stop()
    settings, _ = new_mailbox(tmp_path, dovecot, smtp_server, mails[:SOME])
    first = poll(forks, settings)
    due = len(first.replies)
    assert statuses(first) == Counter(pending=due) and due >= 10
    # A server that does not answer is tried once a round (each try may cost a whole timeout), not once a reply.
    assert attempts(first) == [1] + [0] * (due - 1)
    assert attempts(poll(forks, settings, 2)) == [2] + [0] * (due - 1)

    smtp_server.start()
    back = poll(forks, settings, 10)  # past the second wait (1 min, then 5)
    again = poll(forks, settings, 60)
    assert statuses(back) == statuses(again) == Counter(sent=due)
    assert Counter(reply_ids(smtp_server)) == Counter(r["outgoing_id"] for r in back.replies)
    record(
        Result(
            suite="faults",
            order=6,
            fault="SMTP server stopped",
            tried=f"aiosmtpd stopped through two polls of {SOME} mails, then started",
            times=2,
            lost=0,
            duplicated=0,
            recovery="the first poll after it is back (a reply tried before waits 1, 5, 30 min, 2 h, then 6 h)",
            outcome=f"{due} replies kept pending in the ledger, one connection tried a round; all sent once when it returned",
        )
    )


def test_replies_refused_with_4xx_wait_their_turn_and_go_once(
    tmp_path: Path, forks: ForkServer, dovecot: Dovecot, smtp_server: SmtpServer, mails: list[Delivery]
) -> None:
    smtp_server.refuse("DATA", "451 4.3.0 Requested action aborted: local error in processing")
    settings, _ = new_mailbox(tmp_path, dovecot, smtp_server, mails[:SOME])
    first = poll(forks, settings)
    due = len(first.replies)
    assert statuses(first) == Counter(pending=due)
    assert attempts(first) == [1] * due  # the server answers: each reply is tried, and waits its own backoff
    assert all("451" in r["last_error"] for r in first.replies)
    assert attempts(poll(forks, settings, 0.5)) == [1] * due  # not due again before the first wait is over

    smtp_server.reset()  # accepting again
    back = poll(forks, settings, 2)
    assert statuses(back) == Counter(sent=due)
    assert statuses(poll(forks, settings, 60)) == Counter(sent=due)
    assert Counter(reply_ids(smtp_server)) == Counter(r["outgoing_id"] for r in back.replies)
    record(
        Result(
            suite="faults",
            order=7,
            fault="SMTP answers 4xx",
            tried=f"aiosmtpd answers 451 at DATA to every reply of {SOME} mails for one poll, then accepts",
            times=due,
            lost=0,
            duplicated=0,
            recovery="the first poll after each reply's wait (1 min after the first refusal)",
            outcome="each reply deferred with its own backoff, not tried again before it; all sent once afterwards",
        )
    )


REFUSED_BRANCHES = ("石油炼制分会", "黑龙江省石油学会")


@pytest.fixture
def picky_smtp() -> Iterator[SmtpServer]:
    """An SMTP server that knows two branches' addresses no longer exist."""
    server = SmtpServer("plain")
    server.handler = PickyCollector(
        frozenset({"lianzhi@example.com", "hljsyxh@example.net"}), "550 5.1.1 <recipient>: user unknown"
    )
    server.start()
    yield server
    server.stop()


def test_a_permanent_5xx_is_recorded_not_retried_and_shown_in_the_digest(
    tmp_path: Path, forks: ForkServer, dovecot: Dovecot, picky_smtp: SmtpServer, mails: list[Delivery]
) -> None:
    collector = picky_smtp.handler
    assert isinstance(collector, PickyCollector)
    settings, _ = new_mailbox(tmp_path, dovecot, picky_smtp, mails)
    first = poll(forks, settings)
    refused = [r for r in first.replies if r["to_address"] in collector.refused]
    assert {r["status"] for r in refused} == {"failed"} and len(refused) >= 2
    assert all("550" in r["last_error"] and "user unknown" in r["last_error"] for r in refused)
    assert statuses(first) == Counter(sent=len(first.replies) - len(refused), failed=len(refused))

    asked = Counter(collector.asked)
    for minutes in (60, 24 * 60):  # an hour on, a day on: never tried again
        assert statuses(poll(forks, settings, minutes)) == statuses(first)
    assert collector.asked == asked
    assert all(asked[address] == sum(r["to_address"] == address for r in refused) for address in collector.refused)

    page = tmp_path / "digest.html"
    log = settings.parent / "subbot.log"
    assert forks.run(subbot(settings, "digest", "--preview", str(page)), log) == 0, log_text(log)
    rows = digest_rows(page, "回复被拒收")
    assert sorted(next(b for b in REFUSED_BRANCHES if b in row) for row in rows) == sorted(r["branch"] for r in refused)
    assert all("550 5.1.1" in row and "user unknown" in row for row in rows)
    record(
        Result(
            suite="faults",
            order=8,
            fault="SMTP answers 5xx",
            tried="aiosmtpd answers 550 user unknown at RCPT for two branches' addresses, through three polls",
            times=len(refused),
            lost=0,
            duplicated=0,
            recovery="n/a: a person must act",
            outcome=(
                "each refused reply recorded as failed with the server's answer, never tried again, and listed "
                "in the digest under 回复被拒收 with the branch and the 550 text"
            ),
        )
    )
