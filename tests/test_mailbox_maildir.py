"""The Maildir adapter: reads leave every file where staff's client expects it; marking and sent copies
follow the Maildir and Maildir++ layouts."""

from __future__ import annotations

import datetime as dt
import mailbox
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers.dovecot import Dovecot

from bot.mailbox.maildir import UIDVALIDITY, MaildirMailbox
from bot.mailbox.port import Mailbox, MailboxConfigError, MailboxUnavailable, MessageRef
from bot.mailbox.stop import Stop

NEW_KEY = "1622511000.M1P100.mail"
CUR_KEY = "1622400000.M2P200.mail"
NEW_RAW = "Subject: 筹备方案\n\n附件是筹备方案。\n".encode()
CUR_RAW = b"Subject: old\n\nread by staff\n"
NEW_TIME = dt.datetime(2021, 6, 1, 1, 30, tzinfo=dt.UTC)
CUR_TIME = dt.datetime(2021, 5, 30, 18, 40, tzinfo=dt.UTC)


@pytest.fixture
def stop() -> Iterator[Stop]:
    with Stop() as flag:
        yield flag


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    root = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    put(root / "new" / NEW_KEY, NEW_RAW, NEW_TIME)
    put(root / "cur" / f"{CUR_KEY}:2,S", CUR_RAW, CUR_TIME)
    return root


def put(path: Path, raw: bytes, when: dt.datetime) -> None:
    path.write_bytes(raw)
    os.utime(path, (when.timestamp(), when.timestamp()))


def files(root: Path) -> set[str]:
    return {f"{path.parent.name}/{path.name}" for path in root.glob("*/*")}


def test_lists_new_and_cur_oldest_first_with_the_stdlib_keys(maildir: Path) -> None:
    box = MaildirMailbox(maildir)
    refs = box.list_refs()
    assert refs == [MessageRef(box.name, UIDVALIDITY, CUR_KEY), MessageRef(box.name, UIDVALIDITY, NEW_KEY)]
    assert {ref.uid for ref in refs} == set(mailbox.Maildir(maildir, create=False).keys())


def test_fetches_exact_bytes_and_delivery_time_and_moves_nothing(maildir: Path) -> None:
    before = files(maildir)
    with MaildirMailbox(maildir) as box:
        fetched = list(box.fetch(box.list_refs()))
    assert [(f.raw, f.arrived) for f in fetched] == [(CUR_RAW, CUR_TIME), (NEW_RAW, NEW_TIME)]
    assert all(f.arrived.tzinfo is dt.UTC for f in fetched)
    assert files(maildir) == before  # new/ stays new: staff still see it as new


def test_follows_a_message_staff_read_meanwhile_and_skips_one_deleted(maildir: Path) -> None:
    box = MaildirMailbox(maildir)
    refs = box.list_refs()
    os.rename(maildir / "new" / NEW_KEY, maildir / "cur" / f"{NEW_KEY}:2,S")
    (maildir / "cur" / f"{CUR_KEY}:2,S").unlink()
    assert [f.raw for f in box.fetch(refs)] == [NEW_RAW]


def test_nothing_configured_marks_nothing(maildir: Path) -> None:
    before = files(maildir)
    box = MaildirMailbox(maildir)
    for ref in box.list_refs():
        box.mark_processed(ref)
    assert files(maildir) == before


def test_marks_with_a_flag_letter_keeping_keys_and_other_flags(maildir: Path) -> None:
    box = MaildirMailbox(maildir, processed_flag="a")
    refs = box.list_refs()
    for ref in refs:
        box.mark_processed(ref)
    assert files(maildir) == {f"cur/{CUR_KEY}:2,Sa", f"cur/{NEW_KEY}:2,a"}
    assert box.list_refs() == refs
    assert [f.raw for f in box.fetch(refs)] == [CUR_RAW, NEW_RAW]
    assert "S" not in mailbox.Maildir(maildir, create=False).get_message(NEW_KEY).get_flags()


@pytest.mark.parametrize("flag", ["S", "T", "ab", "1", ""])
def test_a_flag_that_would_say_read_or_trashed_is_refused(maildir: Path, flag: str) -> None:
    with pytest.raises(MailboxConfigError, match="processed_flag"):
        MaildirMailbox(maildir, processed_flag=flag)


def test_not_a_maildir_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "new").mkdir()
    with pytest.raises(MailboxConfigError, match="cur/, tmp/"):
        MaildirMailbox(tmp_path)


def test_a_maildir_that_vanished_is_unavailable(maildir: Path) -> None:
    box = MaildirMailbox(maildir)
    os.rename(maildir, maildir.with_name("gone"))
    with pytest.raises(MailboxUnavailable):
        box.list_refs()


def test_keeps_sent_copies_read_in_a_maildir_plus_plus_folder(maildir: Path) -> None:
    reply = "Subject: 回执\n\n已收到。\n".encode()
    box = MaildirMailbox(maildir)
    box.append_sent(reply)
    box.append_sent(reply)

    sent = maildir / ".Sent"
    assert box.sent_path == sent
    assert (sent / "maildirfolder").exists()
    copies = mailbox.Maildir(sent, create=False)
    assert [copies.get_bytes(key) for key in copies.iterkeys()] == [reply, reply]
    assert [copies.get_message(key).get_flags() for key in copies.iterkeys()] == ["S", "S"]
    assert [ref.uid for ref in box.list_refs()] == [CUR_KEY, NEW_KEY]  # the inbox did not change


def test_a_folder_keeps_its_sent_copies_in_its_sibling(maildir: Path) -> None:
    folder = maildir / ".Forms"
    for sub in ("new", "cur", "tmp"):
        (folder / sub).mkdir(parents=True)
    box = MaildirMailbox(folder)
    box.append_sent(b"Subject: x\n\nx\n")
    assert box.sent_path == maildir / ".Sent"
    assert len(mailbox.Maildir(maildir / ".Sent", create=False)) == 1


def test_a_configured_sent_path_is_used(maildir: Path, tmp_path: Path) -> None:
    box = MaildirMailbox(maildir, sent_path=tmp_path / "sent")
    box.append_sent(b"Subject: x\n\nx\n")
    assert len(mailbox.Maildir(tmp_path / "sent", create=False)) == 1
    assert not (tmp_path / "sent" / "maildirfolder").exists()


def test_refs_of_another_mailbox_are_refused(maildir: Path, tmp_path: Path) -> None:
    box: Mailbox = MaildirMailbox(maildir)
    with pytest.raises(ValueError, match="not a message"):
        list(box.fetch([MessageRef("imap://elsewhere/INBOX", 7, NEW_KEY)]))


def deliver(root: Path, key: str, raw: bytes) -> None:
    """As an MDA delivers: written in tmp/, then renamed into new/."""
    (root / "tmp" / key).write_bytes(raw)
    os.rename(root / "tmp" / key, root / "new" / key)


def test_wait_wakes_for_mail_delivered_since_the_listing(maildir: Path, stop: Stop) -> None:
    box = MaildirMailbox(maildir)
    box.list_refs()
    deliver(maildir, "1622600000.M3P300.mail", NEW_RAW)
    assert box.wait_for_mail(60, stop) is True
    assert len(box.list_refs()) == 3
    assert box.wait_for_mail(1.5, stop) is False


def test_wait_wakes_for_mail_delivered_while_waiting(maildir: Path, stop: Stop) -> None:
    box = MaildirMailbox(maildir)
    box.list_refs()
    delivery = threading.Timer(0.3, deliver, (maildir, "1622600000.M3P300.mail", NEW_RAW))
    delivery.start()
    assert box.wait_for_mail(60, stop) is True
    delivery.join()


def test_the_bots_own_marking_does_not_wake_it(maildir: Path, stop: Stop) -> None:
    box = MaildirMailbox(maildir, processed_flag="a", processed_folder="Done")
    for ref in box.list_refs():
        box.mark_processed(ref)
    assert box.wait_for_mail(1.5, stop) is False


def test_stop_ends_the_wait(maildir: Path, stop: Stop) -> None:
    stop.set()
    assert MaildirMailbox(maildir).wait_for_mail(60, stop) is False


def test_moves_processed_mail_to_a_folder_keeping_new_mail_new(maildir: Path) -> None:
    box = MaildirMailbox(maildir, processed_folder="已处理")
    refs = box.list_refs()
    for ref in refs:
        box.mark_processed(ref)
    done = maildir / ".&XfJZBHQG-"
    assert box.processed_path == done
    assert files(done) == {f"new/{NEW_KEY}", f"cur/{CUR_KEY}:2,S"}
    assert (done / "maildirfolder").exists()
    assert box.list_refs() == []
    box.mark_processed(refs[0])  # gone already: nothing to do


def test_moves_and_flags_processed_mail(maildir: Path) -> None:
    box = MaildirMailbox(maildir, processed_flag="a", processed_folder="Bot/Done")
    for ref in box.list_refs():
        box.mark_processed(ref)
    assert files(maildir / ".Bot.Done") == {f"cur/{NEW_KEY}:2,a", f"cur/{CUR_KEY}:2,Sa"}


@pytest.mark.parametrize("folder", ["a.b", "", "/Done", "Done/"])
def test_a_folder_name_maildir_cannot_hold_is_refused(maildir: Path, folder: str) -> None:
    with pytest.raises(MailboxConfigError, match="processed_folder"):
        MaildirMailbox(maildir, processed_folder=folder)


def test_dovecot_sees_the_folder_the_flag_and_the_sent_copy(dovecot: Dovecot, imap_user: str) -> None:
    """A server that delivers to a local Maildir: what the bot leaves there, staff see over IMAP."""
    dovecot.append(imap_user, b"Subject: plan\r\n\r\nplan\r\n")
    root = dovecot.root / "mail" / imap_user / "Maildir"
    box = MaildirMailbox(root, processed_flag="a", processed_folder="已处理")
    (ref,) = box.list_refs()
    box.mark_processed(ref)
    box.append_sent(b"Subject: ack\r\n\r\nack\r\n")
    for path in [root, *root.rglob("*")]:
        shutil.chown(path, "dovecot", "dovecot")  # as the delivering server's user would have written them

    assert set(dovecot.folders(imap_user)) == {"INBOX", "已处理", "Sent"}
    assert dovecot.messages(imap_user) == {}
    assert list(dovecot.messages(imap_user, "已处理").values()) == [b"Subject: plan\r\n\r\nplan\r\n"]
    assert b"\\Seen" not in next(iter(dovecot.flags(imap_user, "已处理").values()))
    assert [b"\\Seen" in f for f in dovecot.flags(imap_user, "Sent").values()] == [True]


def test_tells_which_mail_staff_answered_from_the_sent_folder_by_headers_alone(maildir: Path) -> None:
    box = MaildirMailbox(maildir)
    assert box.answered_in_sent() == frozenset()  # no Sent folder yet
    # The bot's own reply, threaded to a branch's mail: no person's answer.
    box.append_sent(b"X-Subbot-Reply: P2021-0001\r\nIn-Reply-To: <branch.1@example.com>\r\nSubject: ack\r\n\r\nbody\r\n")
    # Staff's, as their client files it (a folded References, the body never read: not even valid mail).
    staff = (
        b"From: kepu@example.org\r\nIn-Reply-To: <question.2@example.com>\r\n"
        b"References: <first.0@example.com>\r\n <question.2@example.com>\r\nSubject: =?utf-8?b?5Zue5aSN?=\r\n\r\n"
        + b"\xff" * 100
    )
    (box.sent_path / "cur" / "1622511100.M3P300.staff:2,S").write_bytes(staff)
    (box.sent_path / "new" / "1622511200.M4P400.staff").write_bytes(b"In-Reply-To: <other.3@example.com>\n\nhi\n")
    assert box.answered_in_sent() == {"<question.2@example.com>", "<first.0@example.com>", "<other.3@example.com>"}
