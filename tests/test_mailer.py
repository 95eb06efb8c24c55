"""Sending against a real SMTP server (aiosmtpd on 127.0.0.1): what arrives, and which failures are
temporary or permanent. And the demo's outbox folder."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Literal

import pytest
from servers.smtp import PASSWORD, SmtpServer, Stage
from servers.tls import Certificate

from bot.outgoing.mailer import (
    PER_CONNECTION,
    Mailer,
    OutboxDir,
    SendPermanent,
    SendTemporary,
    SmtpMailer,
    SmtpSettings,
    crlf,
    send,
)

FROM = "kepu@example.org"
TO = "kx@example.com"


def reply(subject: str = "回执：已收到您的筹备方案") -> bytes:
    message = EmailMessage()
    message["From"] = f"中国石油学会科普咨询部 <{FROM}>"
    message["To"] = TO
    message["Subject"] = subject
    message.set_content("您好：\n\n.\n附件已收到，谢谢。\n", cte="8bit")  # a lone dot line: dot-stuffing
    return message.as_bytes()


def settings_for(
    server: SmtpServer, username: str = "", password: str = "", ca_file: str | None = None
) -> SmtpSettings:
    return SmtpSettings(
        server.host, server.port, username, password, server.security, ca_file, timeout=5.0, from_address=FROM
    )


def test_delivers_the_exact_bytes_to_the_envelope_recipients(smtp_server: SmtpServer) -> None:
    raw = reply()
    send(settings_for(smtp_server), raw, FROM, [TO, "copy@example.org"])
    [received] = smtp_server.received
    assert received.mail_from == FROM
    assert received.rcpt_tos == (TO, "copy@example.org")
    assert received.raw == crlf(raw)
    assert received.raw.replace(b"\r\n", b"\n") == raw  # only the line ends changed: CRLF, as SMTP wants


def test_the_settings_sender_stands_in_for_an_empty_one(smtp_server: SmtpServer) -> None:
    mailer: Mailer = SmtpMailer(settings_for(smtp_server))
    mailer.send(reply(), "", [TO])
    assert smtp_server.received[0].mail_from == FROM


@pytest.mark.parametrize(
    ("stage", "answer"),
    [("MAIL", "451 4.3.0 try later"), ("RCPT", "450 4.2.1 mailbox busy"), ("DATA", "452 4.3.1 out of space")],
)
def test_a_4xx_is_temporary(smtp_server: SmtpServer, stage: Stage, answer: str) -> None:
    smtp_server.refuse(stage, answer)
    with pytest.raises(SendTemporary) as caught:
        send(settings_for(smtp_server), reply(), FROM, [TO])
    assert caught.value.code == int(answer[:3])
    assert answer[4:] in str(caught.value)
    assert smtp_server.received == []


@pytest.mark.parametrize(
    ("stage", "answer"),
    [
        ("MAIL", "553 5.7.1 sender not allowed"),
        ("RCPT", "550 5.1.1 no such user"),
        ("DATA", "554 5.7.1 message refused as spam"),
    ],
)
def test_a_5xx_is_permanent_with_its_code_and_text(smtp_server: SmtpServer, stage: Stage, answer: str) -> None:
    smtp_server.refuse(stage, answer)
    with pytest.raises(SendPermanent) as caught:
        send(settings_for(smtp_server), reply(), FROM, [TO])
    assert caught.value.code == int(answer[:3])
    assert answer[4:] in caught.value.reason


def test_a_server_that_is_down_is_temporary(smtp_server: SmtpServer) -> None:
    settings = settings_for(smtp_server)
    smtp_server.stop()
    with pytest.raises(SendTemporary) as caught:
        send(settings, reply(), FROM, [TO])
    assert caught.value.code is None
    assert "ConnectionRefused" in str(caught.value)


def test_a_server_that_hangs_times_out_as_temporary(silent_port: int) -> None:
    settings = SmtpSettings("127.0.0.1", silent_port, "", "", "plain", None, timeout=0.3, from_address=FROM)
    with pytest.raises(SendTemporary, match="timed out"):
        send(settings, reply(), FROM, [TO])


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_login_and_the_certificate_trusted_through_ca_file(
    smtp_starttls_server: SmtpServer, smtp_ssl_server: SmtpServer, certificate: Certificate, security: str
) -> None:
    server = smtp_starttls_server if security == "starttls" else smtp_ssl_server
    raw = reply()
    send(settings_for(server, FROM, PASSWORD, str(certificate.cert)), raw, FROM, [TO])
    assert [r.raw for r in server.received] == [crlf(raw)]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
@pytest.mark.parametrize("trust", ["system", "stranger"])
def test_tls_refuses_a_certificate_not_trusted(
    smtp_starttls_server: SmtpServer,
    smtp_ssl_server: SmtpServer,
    stranger_certificate: Certificate,
    security: Literal["starttls", "ssl"],
    trust: str,
) -> None:
    server = smtp_starttls_server if security == "starttls" else smtp_ssl_server
    ca_file = None if trust == "system" else str(stranger_certificate.cert)
    with pytest.raises(SendTemporary, match="certificate not trusted"):
        send(settings_for(server, FROM, PASSWORD, ca_file), reply(), FROM, [TO])
    assert server.received == []


def test_a_failed_login_is_temporary_and_never_shows_the_password(
    smtp_starttls_server: SmtpServer, certificate: Certificate
) -> None:
    settings = settings_for(smtp_starttls_server, FROM, "wrong-horse-battery", str(certificate.cert))
    with pytest.raises(SendTemporary) as caught:
        send(settings, reply(), FROM, [TO])
    assert caught.value.code == 535
    assert "wrong-horse-battery" not in str(caught.value) + repr(settings)


def test_the_outbox_writes_each_message_as_an_eml_file(tmp_path: Path) -> None:
    outbox: Mailer = OutboxDir(tmp_path / "outbox")
    first, second = reply("一"), reply("二")
    outbox.send(first, FROM, [TO])
    outbox.send(second, FROM, [TO])
    written = sorted((tmp_path / "outbox").iterdir())
    assert [path.suffix for path in written] == [".eml", ".eml"]
    assert {path.read_bytes() for path in written} == {first, second}


def test_an_outbox_that_cannot_be_written_is_temporary(tmp_path: Path) -> None:
    (tmp_path / "outbox").write_text("a file where the folder should be")
    with pytest.raises(SendTemporary, match="cannot write"):
        OutboxDir(tmp_path / "outbox").send(reply(), FROM, [TO])


def test_a_session_sends_on_one_connection_renewed_after_its_share(smtp_starttls_server: SmtpServer) -> None:
    server = smtp_starttls_server
    mailer = SmtpMailer(settings_for(server, "kepu", PASSWORD, str(server.certificate.cert)))  # type: ignore[union-attr]
    count = PER_CONNECTION + 3
    with mailer.session():
        for number in range(count):
            mailer.send(reply(f"回执 {number}"), FROM, [TO])
    peers = [r.peer for r in server.received]
    assert len(peers) == count
    # TLS and the login once per PER_CONNECTION messages, not once per message.
    assert peers[:PER_CONNECTION] == [peers[0]] * PER_CONNECTION and len(set(peers)) == 2


def test_a_connection_lost_between_sends_is_opened_again_and_nothing_is_sent_twice(smtp_server: SmtpServer) -> None:
    mailer = SmtpMailer(settings_for(smtp_server))
    with mailer.session():
        mailer.send(reply("第一封"), FROM, [TO])
        smtp_server.stop()  # closes the connection the session holds
        smtp_server.start()
        mailer.send(reply("第二封"), FROM, [TO])
    subjects = [r.raw.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0] for r in smtp_server.received]
    assert len(subjects) == 2 and len(set(subjects)) == 2
    assert smtp_server.received[0].peer != smtp_server.received[1].peer


def test_a_temporary_failure_in_a_session_drops_the_connection(smtp_server: SmtpServer) -> None:
    mailer = SmtpMailer(settings_for(smtp_server))
    with mailer.session():
        mailer.send(reply("第一封"), FROM, [TO])
        smtp_server.refuse("DATA", "451 4.3.0 try later")
        with pytest.raises(SendTemporary):
            mailer.send(reply("第二封"), FROM, [TO])
        smtp_server.handler.refusals.clear()
        mailer.send(reply("第三封"), FROM, [TO])
    first, third = smtp_server.received
    assert first.peer != third.peer  # the connection that failed was not used again
