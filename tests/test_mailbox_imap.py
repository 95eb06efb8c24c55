"""The IMAP adapter against a real Dovecot: what it reads, what it leaves alone, what it marks, and how
it fails and recovers."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any, Literal

import pytest
from servers.dovecot import Dovecot
from servers.tls import Certificate

from bot.mailbox.imap import CHUNK, ImapMailbox, connect_with_retry
from bot.mailbox.port import Mailbox, MailboxConfigError, MailboxUnavailable
from bot.mailbox.stop import Stop

BEIJING = dt.timezone(dt.timedelta(hours=8))
DONE = "$SubbotDone"


@pytest.fixture
def stop() -> Iterator[Stop]:
    with Stop() as flag:
        yield flag


def mail(subject: str, body: str = "附件是筹备方案，请查收。\n") -> bytes:
    message = EmailMessage(policy=SMTP)  # CRLF, as IMAP stores and returns it
    message["From"] = "胜利油田科协 <kx@example.com>"
    message["To"] = "kepu@example.org"
    message["Subject"] = subject
    message.set_content(body)
    return message.as_bytes()


def deliver(dovecot: Dovecot, user: str, count: int, **options: Any) -> list[bytes]:
    raws = [mail(f"方案 {n}") for n in range(count)]
    dovecot.append_many(user, raws, **options)
    return raws


def test_lists_and_fetches_exact_bytes_with_the_servers_arrival_time(dovecot: Dovecot, imap_user: str) -> None:
    arrived = [dt.datetime(2021, 6, 1, 9, 30, tzinfo=BEIJING), dt.datetime(2021, 6, 2, 23, 59, 59, tzinfo=BEIJING)]
    raws = [mail("第一份"), mail("第二份")]
    for raw, when in zip(raws, arrived, strict=True):
        dovecot.append(imap_user, raw, internal_date=when)

    with ImapMailbox(dovecot.settings(imap_user)) as box:
        refs = box.list_refs()
        fetched = list(box.fetch(refs))

    with dovecot.client(imap_user) as client:
        uidvalidity = client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"]
    assert [(ref.mailbox, ref.uidvalidity) for ref in refs] == [(box.name, uidvalidity)] * 2
    assert [f.ref for f in fetched] == refs
    assert [f.raw for f in fetched] == raws
    assert [f.arrived for f in fetched] == arrived
    assert all(f.arrived.utcoffset() is not None for f in fetched)


def test_fetch_never_sets_seen_even_when_marking_opens_the_folder_read_write(dovecot: Dovecot, imap_user: str) -> None:
    deliver(dovecot, imap_user, 1)
    deliver(dovecot, imap_user, 1, flags=[b"\\Seen", b"\\Flagged"])
    before = dovecot.flags(imap_user)

    for settings in (dovecot.settings(imap_user), dovecot.settings(imap_user, processed_keyword=DONE)):
        with ImapMailbox(settings) as box:
            assert len(list(box.fetch(box.list_refs()))) == 2

    after = dovecot.flags(imap_user)
    assert b"\\Seen" not in after[1]
    assert [set(f) - {b"\\Recent"} for f in after.values()] == [set(f) - {b"\\Recent"} for f in before.values()]


def test_fetches_in_chunks_and_skips_what_was_expunged_meanwhile(dovecot: Dovecot, imap_user: str) -> None:
    raws = deliver(dovecot, imap_user, CHUNK + 5)
    with ImapMailbox(dovecot.settings(imap_user)) as box:
        refs = box.list_refs()
        with dovecot.client(imap_user) as client:
            client.select_folder("INBOX")
            client.delete_messages([int(refs[3].uid)])
            client.expunge()
        fetched = list(box.fetch(refs))
    assert [f.raw for f in fetched] == raws[:3] + raws[4:]


def test_names_itself_with_id_when_the_server_offers_it(dovecot: Dovecot, imap_user: str) -> None:
    deliver(dovecot, imap_user, 1)
    with dovecot.client(imap_user) as client:
        assert client.has_capability("ID")
    with ImapMailbox(dovecot.settings(imap_user)) as box:
        assert len(box.list_refs()) == 1  # SELECT went through after ID
    assert f"imap({imap_user})" in dovecot.log()
    assert any(imap_user in line and "ID sent: name=subbot" in line for line in dovecot.log().splitlines())


def test_nothing_configured_marks_nothing(dovecot: Dovecot, imap_user: str) -> None:
    deliver(dovecot, imap_user, 1)
    before = dovecot.flags(imap_user)
    with ImapMailbox(dovecot.settings(imap_user)) as box:
        box.mark_processed(box.list_refs()[0])
    assert dovecot.flags(imap_user) == before
    assert set(dovecot.folders(imap_user)) == {"INBOX"}


def test_marks_processed_with_a_keyword_and_nothing_else(dovecot: Dovecot, imap_user: str) -> None:
    deliver(dovecot, imap_user, 2)
    with ImapMailbox(dovecot.settings(imap_user, processed_keyword=DONE)) as box:
        first, _ = box.list_refs()
        box.mark_processed(first)
    flags = dovecot.flags(imap_user)
    assert DONE.encode() in flags[int(first.uid)]
    assert b"\\Seen" not in flags[int(first.uid)]
    assert [DONE.encode() in f for f in flags.values()] == [True, False]


def test_moves_processed_mail_to_a_folder_it_creates(dovecot: Dovecot, imap_user: str) -> None:
    raws = deliver(dovecot, imap_user, 2)
    with ImapMailbox(dovecot.settings(imap_user, processed_keyword=DONE, processed_folder="已处理")) as box:
        first, second = box.list_refs()
        box.mark_processed(first)
        assert box.list_refs() == [second]

    assert "已处理" in dovecot.folders(imap_user)
    assert list(dovecot.messages(imap_user, "已处理").values()) == [raws[0]]
    assert list(dovecot.messages(imap_user).values()) == [raws[1]]
    moved = dovecot.flags(imap_user, "已处理")
    assert [DONE.encode() in f and b"\\Seen" not in f for f in moved.values()] == [True]
    with dovecot.client(imap_user) as client:
        assert "已处理" in [name for _, _, name in client.list_sub_folders()]


@pytest.mark.parametrize("keyword", ["\\Seen", "已处理", "Subbot Done", ""])
def test_a_keyword_that_is_not_an_imap_keyword_is_a_config_error(
    dovecot: Dovecot, imap_user: str, keyword: str
) -> None:
    with pytest.raises(MailboxConfigError, match="processed_keyword"):
        ImapMailbox(dovecot.settings(imap_user, processed_keyword=keyword))


def test_keeps_sent_copies_in_the_special_use_sent_folder(dovecot: Dovecot, imap_user: str) -> None:
    with dovecot.client(imap_user) as client:
        client.create_folder("Sent Messages")
    assert b"\\Sent" in dovecot.folders(imap_user)["Sent Messages"]
    reply = mail("回执：已收到")

    with ImapMailbox(dovecot.settings(imap_user)) as box:
        box.append_sent(reply)
        box.append_sent(reply)

    assert list(dovecot.messages(imap_user, "Sent Messages").values()) == [reply, reply]
    assert all(b"\\Seen" in f for f in dovecot.flags(imap_user, "Sent Messages").values())
    assert set(dovecot.folders(imap_user)) == {"INBOX", "Sent Messages"}


@pytest.mark.parametrize(("configured", "expected"), [(None, "Sent"), ("已发送", "已发送")])
def test_creates_the_sent_folder_when_missing(
    dovecot: Dovecot, imap_user: str, configured: str | None, expected: str
) -> None:
    reply = mail("回执：已收到")
    with ImapMailbox(dovecot.settings(imap_user, sent_folder=configured)) as box:
        box.append_sent(reply)
    assert list(dovecot.messages(imap_user, expected).values()) == [reply]


def test_a_rebuilt_mailbox_shows_a_new_uidvalidity(dovecot: Dovecot, imap_user: str) -> None:
    raws = deliver(dovecot, imap_user, 2)
    with ImapMailbox(dovecot.settings(imap_user)) as box:
        old = box.list_refs()

    dovecot.rebuild(imap_user)

    with ImapMailbox(dovecot.settings(imap_user)) as box:
        new = box.list_refs()
        assert [f.raw for f in box.fetch(new)] == raws
        with pytest.raises(ValueError, match="UIDVALIDITY"):
            list(box.fetch(old))
    assert {ref.uidvalidity for ref in new} != {ref.uidvalidity for ref in old}
    assert {(ref.uidvalidity, ref.uid) for ref in new}.isdisjoint({(ref.uidvalidity, ref.uid) for ref in old})


def test_a_missing_folder_is_a_config_error(dovecot: Dovecot, imap_user: str) -> None:
    with pytest.raises(MailboxConfigError, match="Nowhere") as caught:
        ImapMailbox(dovecot.settings(imap_user, folder="Nowhere"))
    assert caught.value.mailbox.endswith("/Nowhere")


def test_a_wrong_password_is_unavailable_and_never_shown(dovecot: Dovecot, imap_user: str) -> None:
    settings = dovecot.settings(imap_user, password="wrong-horse-battery")
    with pytest.raises(MailboxUnavailable) as caught:
        ImapMailbox(settings)
    assert "wrong-horse-battery" not in str(caught.value) + repr(settings)


def test_a_stopped_server_is_unavailable_and_retry_recovers_once_it_is_back(dovecot: Dovecot, imap_user: str) -> None:
    deliver(dovecot, imap_user, 1)
    settings = dovecot.settings(imap_user)
    dovecot.stop()
    with pytest.raises(MailboxUnavailable, match="connect"):
        ImapMailbox(settings)

    waits: list[float] = []
    with pytest.raises(MailboxUnavailable):
        connect_with_retry(settings, attempts=3, sleep=waits.append)
    assert waits == [2.0, 4.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 4:
            dovecot.start()

    waits.clear()
    with connect_with_retry(settings, attempts=5, sleep=sleep) as box:
        assert len(box.list_refs()) == 1
    assert waits == [2.0, 4.0, 8.0, 16.0]


def test_a_dropped_connection_is_unavailable(dovecot: Dovecot, imap_user: str) -> None:
    deliver(dovecot, imap_user, 1)
    box = ImapMailbox(dovecot.settings(imap_user))
    dovecot.stop()
    with pytest.raises(MailboxUnavailable):
        box.list_refs()
    box.close()  # closing a dead session is quiet


def test_config_errors_are_not_retried(dovecot: Dovecot, imap_user: str) -> None:
    def never(seconds: float) -> None:
        raise AssertionError("a config error must not be retried")

    with pytest.raises(MailboxConfigError):
        connect_with_retry(dovecot.settings(imap_user, folder="Nowhere"), attempts=3, sleep=never)


def test_a_server_that_hangs_times_out_as_unavailable(dovecot: Dovecot, silent_port: int) -> None:
    settings = dovecot.settings("anyone", port=silent_port, timeout=0.3)
    with pytest.raises(MailboxUnavailable):
        ImapMailbox(settings)


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_with_the_certificate_trusted_through_ca_file(
    dovecot: Dovecot, imap_user: str, security: Literal["ssl", "starttls"]
) -> None:
    raws = deliver(dovecot, imap_user, 1)
    with ImapMailbox(dovecot.settings(imap_user, security)) as box:
        assert [f.raw for f in box.fetch(box.list_refs())] == raws


@pytest.mark.parametrize("security", ["ssl", "starttls"])
@pytest.mark.parametrize("trust", ["system", "stranger"])
def test_tls_refuses_a_certificate_not_trusted(
    dovecot: Dovecot,
    imap_user: str,
    stranger_certificate: Certificate,
    security: Literal["ssl", "starttls"],
    trust: str,
) -> None:
    ca_file = None if trust == "system" else str(stranger_certificate.cert)
    with pytest.raises(MailboxConfigError, match="certificate"):
        ImapMailbox(dovecot.settings(imap_user, security, ca_file=ca_file))


def test_is_a_mailbox(dovecot: Dovecot, imap_user: str) -> None:
    box: Mailbox = ImapMailbox(dovecot.settings(imap_user))
    box.close()
    box.close()


class Waiter:
    """`wait_for_mail` in a thread of its own, as `subbot run` waits while a test acts on the server."""

    def __init__(self, box: ImapMailbox, timeout: float = 60.0) -> None:
        self.stop = Stop()
        self.result: bool | BaseException | None = None
        self._thread = threading.Thread(target=self._wait, args=(box, timeout))
        self._thread.start()

    def _wait(self, box: ImapMailbox, timeout: float) -> None:
        try:
            self.result = box.wait_for_mail(timeout, self.stop)
        except BaseException as exc:  # noqa: BLE001 - handed to the test to look at
            self.result = exc

    def join(self) -> bool | BaseException | None:
        self._thread.join(timeout=30)  # a guard against a hang, not a measurement
        assert not self._thread.is_alive(), "wait_for_mail did not return"
        self.stop.close()
        return self.result


def test_idle_wakes_when_mail_arrives_and_the_session_goes_on(dovecot: Dovecot, imap_user: str) -> None:
    with ImapMailbox(dovecot.settings(imap_user)) as box:
        assert box.list_refs() == []
        waiter = Waiter(box)
        time.sleep(0.5)  # most likely in IDLE by now; mail that came just before is found all the same
        deliver(dovecot, imap_user, 1)
        assert waiter.join() is True
        assert not waiter.stop.is_set()
        assert len(box.list_refs()) == 1


def test_mail_since_the_last_listing_is_reported_before_idling(dovecot: Dovecot, imap_user: str, stop: Stop) -> None:
    with ImapMailbox(dovecot.settings(imap_user)) as box:
        box.list_refs()
        deliver(dovecot, imap_user, 1)
        # Dovecot announces it (EXISTS) in the answer to the next command, where IDLE would never see it.
        assert box.wait_for_mail(60, stop) is True
        assert len(box.list_refs()) == 1
        assert box.wait_for_mail(0.5, stop) is False  # listed: no longer news


def test_stop_ends_idle_and_leaves_the_session_usable(dovecot: Dovecot, imap_user: str) -> None:
    deliver(dovecot, imap_user, 1)
    with ImapMailbox(dovecot.settings(imap_user)) as box:
        box.list_refs()
        waiter = Waiter(box)
        waiter.stop.set()
        assert waiter.join() is False
        assert len(list(box.fetch(box.list_refs()))) == 1  # DONE was sent: commands work again


def test_idle_is_renewed_and_nothing_new_times_out(dovecot: Dovecot, imap_user: str, stop: Stop) -> None:
    with ImapMailbox(dovecot.settings(imap_user, idle_renew=0.3)) as box:
        box.list_refs()
        assert box.wait_for_mail(1.5, stop) is False  # five IDLE commands, each ended with DONE
        deliver(dovecot, imap_user, 1)
        waiter = Waiter(box)
        assert waiter.join() is True


def test_a_server_going_down_during_idle_is_unavailable(dovecot: Dovecot, imap_user: str) -> None:
    box = ImapMailbox(dovecot.settings(imap_user))
    box.list_refs()
    waiter = Waiter(box)
    time.sleep(0.5)
    dovecot.stop()
    assert isinstance(waiter.join(), MailboxUnavailable)
    box.close()


def test_without_idle_it_waits_the_whole_timeout(dovecot: Dovecot, imap_user: str, stop: Stop) -> None:
    with ImapMailbox(dovecot.settings(imap_user, idle=False)) as box:
        box.list_refs()
        deliver(dovecot, imap_user, 1)
        assert box.wait_for_mail(1.0, stop) is False
        stop.set()
        assert box.wait_for_mail(60, stop) is False
        assert len(box.list_refs()) == 1
