"""Crash anywhere: `subbot poll` over a mailbox of ~50 submissions on Dovecot, killed with SIGKILL at a random
moment, restarted, killed again... until a poll runs to its end; then the next round, on a fresh mailbox, with
the next seed, until at least SUBBOT_FAULT_KILLS (default 100) kills have landed.

After every round: the ledger holds what an uninterrupted run over the same mail holds (every message once,
the same decisions, receipts and replies), every reply that was due reached the SMTP server, and a reply
reached it twice only when a kill fell inside the SMTP hand-off (the server had taken the message, the ledger
did not yet say so). The SMTP server waits HANDOFF_PAUSE before its 250, as one writing its queue to disk
does, so such kills happen and are counted."""

from __future__ import annotations

import os
import random
import signal
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from fault_results import Result, record, seconds
from faults_world import (
    HANDOFF_PAUSE,
    Delivery,
    ForkServer,
    Ledger,
    Reference,
    Stopwatch,
    imap_section,
    keyworded,
    leftover_temporaries,
    log_text,
    new_mailbox,
    repeats,
    reply_ids,
    reply_threads,
    sent_copies,
    subbot,
    write_settings,
)
from servers.dovecot import Dovecot
from servers.smtp import SmtpServer

KILLS = int(os.environ.get("SUBBOT_FAULT_KILLS", "100"))
SEED = int(os.environ.get("SUBBOT_FAULT_SEED", "20210509"))
# A round that has been killed this often gets a last poll left alone (progress is certain, but bounded).
KILLS_PER_ROUND = 40


@dataclass
class Tally:
    kills: int = 0
    handoff_kills: int = 0
    duplicates_by_id: int = 0
    duplicates_by_thread: int = 0
    phases: Counter[str] = field(default_factory=Counter)
    caught_up: list[float] = field(default_factory=list)
    sent_copies_extra: int = 0
    rounds: list[int] = field(default_factory=list)


def test_killed_anywhere_every_mail_is_recorded_once_and_answered_once(
    tmp_path: Path,
    forks: ForkServer,
    dovecot: Dovecot,
    slow_smtp_server: SmtpServer,
    mails: list[Delivery],
    reference: Reference,
) -> None:
    smtp = slow_smtp_server
    assert len(reference.outcome) == len(mails) and len(reference.replies) >= 30
    tally = Tally()
    round_number = 0
    while tally.kills < KILLS:
        seed = SEED + round_number
        tally.rounds.append(seed)
        smtp.reset()
        crash_round(tmp_path, forks, dovecot, smtp, mails, reference, random.Random(seed), tally)
        round_number += 1

    record(
        Result(
            suite="faults",
            order=1,
            fault="Crash anywhere (SIGKILL)",
            tried=(
                f"`subbot poll` over {len(mails)} mails on Dovecot killed with SIGKILL at a random moment and "
                f"restarted, {len(tally.rounds)} rounds (seeds {tally.rounds[0]}–{tally.rounds[-1]}); SMTP answers "
                f"250 {HANDOFF_PAUSE * 1000:g} ms after taking a message"
            ),
            times=tally.kills,
            lost=0,
            duplicated=tally.duplicates_by_id,
            recovery=f"restart to caught up: {seconds(tally.caught_up)}",
            outcome=(
                f"every message recorded once with the decisions of an uninterrupted run; every due reply sent; "
                f"{tally.duplicates_by_id} replies sent twice, each after one of the {tally.handoff_kills} kills that "
                "fell inside the SMTP hand-off, none otherwise"
            ),
            details={
                "kills by phase": dict(tally.phases),
                "kills inside the SMTP hand-off": tally.handoff_kills,
                "duplicates by Message-ID": tally.duplicates_by_id,
                "duplicates by (recipient, In-Reply-To)": tally.duplicates_by_thread,
                "messages left without the processed keyword": 0,
                "replies without their copy in Sent": 0,
                "replies with two copies in Sent": tally.sent_copies_extra,
                "half-written raw files left": 0,
                "uninterrupted poll of the mailbox": f"{reference.seconds:.2f} s",
            },
        )
    )


def crash_round(
    tmp: Path,
    forks: ForkServer,
    dovecot: Dovecot,
    smtp: SmtpServer,
    mails: list[Delivery],
    reference: Reference,
    rng: random.Random,
    tally: Tally,
) -> None:
    settings, user = new_mailbox(tmp, dovecot, smtp, mails)
    data, log = settings.parent / "data", settings.parent / "subbot.log"
    argv = subbot(settings, "poll", "--reply-backlog")
    handoffs: list[str] = []
    kills = 0
    while True:
        taken, before = len(smtp.received), Ledger.read(data)
        clock = Stopwatch()
        pid = forks.start(argv, log)
        # Within a third of an uninterrupted poll: each restart resumes where the last one stopped, so the
        # kills of a round walk through start-up, intake, the outbox and its hand-offs.
        delay = rng.uniform(0.0, reference.seconds / 3) if kills < KILLS_PER_ROUND else None
        code = forks.wait(pid, delay, signal.SIGKILL) if delay is not None else forks.wait(pid)
        if code != -signal.SIGKILL:
            assert code == 0, log_text(log)[-4000:]
            tally.caught_up.append(clock.seconds())
            break
        kills += 1
        ledger = Ledger.read(data)
        in_handoff = [i for i in reply_ids(smtp)[taken:] if i not in ledger.sent_ids()]
        assert len(in_handoff) <= 1, in_handoff  # replies go one at a time
        handoffs += in_handoff
        tally.phases[phase(before, ledger, len(mails), bool(in_handoff))] += 1
    tally.kills += kills
    tally.handoff_kills += len(handoffs)

    # One more poll finds nothing to do and sends nothing.
    taken = len(smtp.received)
    assert forks.run(argv, log) == 0, log_text(log)[-4000:]
    assert len(smtp.received) == taken

    ledger = Ledger.read(data)
    assert ledger.outcome() == reference.outcome
    assert Counter(r["message_pk"] for r in ledger.refs) == Counter(m["id"] for m in ledger.messages)
    sent = reply_ids(smtp)
    assert set(sent) == reference.replies  # every reply due, and nothing else
    extra = Counter(sent) - Counter(reference.replies)
    # Twice only what a kill caught inside the hand-off, and then once more for each such kill.
    assert extra == Counter(handoffs), (extra, handoffs)
    tally.duplicates_by_id += repeats(sent)
    tally.duplicates_by_thread += repeats(reply_threads(smtp))
    assert "Traceback" not in log_text(log)

    # The mailbox chores owed after a commit were done by the next start: every message marked, every
    # reply copied to Sent (twice, when a kill fell between the copy and striking it off), no half-written file.
    assert keyworded(dovecot, user) == (len(mails), len(mails))
    copies = Counter(sent_copies(dovecot, user))
    assert set(copies) == reference.replies
    tally.sent_copies_extra += repeats(list(copies.elements()))
    assert leftover_temporaries(data) == 0


def phase(before: Ledger, after: Ledger, total: int, in_handoff: bool) -> str:
    """Where a kill fell, as the ledger and the SMTP server tell it afterwards."""
    if len(after.messages) < total:
        return "intake" if len(after.messages) > len(before.messages) else "start-up, or the first message"
    if in_handoff:
        return "SMTP hand-off"
    if after.pending():
        return "outbox"
    return "after the outbox (Sent copies, end of poll)"


def test_killed_during_its_first_start_the_bot_starts_next_time(
    tmp_path: Path, forks: ForkServer, smtp_server: SmtpServer
) -> None:
    """The ledger's migrations, interrupted: the next start finds the schema either whole or not there."""
    rng = random.Random(SEED)
    wanted, killed, tries, took, lengths = 15, 0, 0, [], []
    while killed < wanted:
        tries += 1
        assert tries < 10 * wanted, f"only {killed} of {tries} starts were killed before they ended"
        folder = tmp_path / f"start{tries}"
        settings = write_settings(folder, imap_section("127.0.0.1", 1, "nobody@example.org"), smtp_server)
        log = folder / "subbot.log"
        clock = Stopwatch()
        if len(lengths) < 3:  # the first few, left alone, say how long a first start takes
            assert forks.run(subbot(settings, "ledger"), log) == 0, log_text(log)
            lengths.append(clock.seconds())
            continue
        code = forks.wait(forks.start(subbot(settings, "ledger"), log), rng.uniform(0, min(lengths)), signal.SIGKILL)
        killed += code == -signal.SIGKILL
        clock = Stopwatch()
        assert forks.run(subbot(settings, "ledger"), log) == 0, log_text(log)[-4000:]
        took.append(clock.seconds())
    record(
        Result(
            suite="faults",
            order=2,
            fault="Crash during the first start (ledger migration)",
            tried=f"`subbot ledger` on a new data folder killed with SIGKILL within its first start ({min(lengths):.2f} s)",
            times=killed,
            lost=0,
            duplicated=0,
            recovery=f"next start: {seconds(took)}",
            outcome="the next start always went through: the schema is made in one transaction, or not at all",
        )
    )
