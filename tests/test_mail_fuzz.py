"""parse_message never raises: not on arbitrary bytes, not on the golden and corpus mails broken
in the ways mail gets broken (cut short, bytes flipped, MIME tokens dropped in at random)."""

from __future__ import annotations

import contextlib
import email
import email.policy
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.message import Mail, parse_message
from parsers.winmail import UnreadableWinmail, unpack_winmail

GOLDEN = Path(__file__).parent / "fixtures" / "mail"
EML = Path(__file__).resolve().parent / "corpus" / "eml"
# Small seeds keep each example fast; the big golden ones differ from these only in their payload.
SEEDS = [p.read_bytes() for p in sorted([*GOLDEN.glob("*.eml"), *EML.glob("*.eml")]) if p.stat().st_size < 16_000]
TOKENS = [
    b"=?",
    b"?=",
    b"=?gbk?B?",
    b"=?gb2312?Q?=D5=C5?=",
    b"=?x-unknown?B?AAAA?=",
    b"\r\n",
    b"\r\n\r\n",
    b"\n\t",
    b"--",
    b"\x00",
    b"\xff\xfe\xd5",
    b";",
    b'"',
    b"\\",
    b"*0*=",
    b"*1*=gbk''%",
    b"%E4%",
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n",
    b"Content-Type: message/rfc822\r\n\r\n",
    b"Content-Type: application/ms-tnef\r\nContent-Transfer-Encoding: base64\r\n\r\neJ8+Ig",
    b"Content-Transfer-Encoding: base64\r\n",
    b"Content-Transfer-Encoding: quoted-printable\r\n",
    b"Content-Transfer-Encoding: x-uuencode\r\n",
    b"PK\x03\x04",
    b"\x78\x9f\x3e\x22",
    b"Date: Mon, 99 Foo 99999 99:99:99 +9999\r\n",
    b'From: <@>, "\\\r\n',
]
KINDS = {"submission", "auto_reply", "bounce", "own"}
_OUTLOOK = email.message_from_bytes((GOLDEN / "outlook-winmail-dat.eml").read_bytes(), policy=email.policy.compat32)
WINMAIL = next(p.get_payload(decode=True) for p in _OUTLOOK.walk() if p.get_content_type() == "application/ms-tnef")

mutation = st.tuples(
    st.sampled_from(["flip", "cut", "insert", "delete", "repeat"]),
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=0, max_value=255),
    st.sampled_from(TOKENS),
)


def _mutate(data: bytes, changes: list[tuple[str, float, int, bytes]]) -> bytes:
    for kind, where, byte, token in changes:
        at = int(where * len(data))
        if kind == "flip":
            data = data[:at] + bytes([byte]) + data[at + 1 :]
        elif kind == "cut":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + token + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + byte :]
        else:
            data = data[:at] + data[at : at + byte] * 3 + data[at:]
    return data


def _check(mail: Mail) -> None:
    assert isinstance(mail, Mail)
    assert mail.kind in KINDS
    texts = [mail.subject, mail.body_text, mail.sender.name, mail.sender.address, *mail.problems, *mail.links]
    texts += [mail.message_id, mail.in_reply_to, *mail.references, *(a.address for a in mail.to)]
    texts += [text for a in mail.attachments for text in (a.name, a.content_type, a.origin)]
    for text in texts:
        text.encode("utf-8")  # raises on a lone surrogate, which no database or file can store
    assert "\n" not in mail.subject and "\r" not in mail.subject
    for attachment in mail.attachments:
        assert attachment.name
        assert not any(ch in attachment.name for ch in "\r\n\x00/\\")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes(raw: bytes) -> None:
    _check(parse_message(raw))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.lists(mutation, min_size=1, max_size=6))
def test_mutated_mails(seed: bytes, changes: list[tuple[str, float, int, bytes]]) -> None:
    _check(parse_message(_mutate(seed, changes)))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([*TOKENS, b"a", b" ", b":", b"=", b"@", b"<", b">"]), max_size=60))
def test_token_soup(tokens: list[bytes]) -> None:
    _check(parse_message(b"".join(tokens)))


@settings(max_examples=200, deadline=None)
@given(st.lists(mutation, min_size=1, max_size=6))
def test_mutated_winmail(changes: list[tuple[str, float, int, bytes]]) -> None:
    try:
        winmail = unpack_winmail(_mutate(WINMAIL, changes))
    except UnreadableWinmail:
        return
    assert all(isinstance(name, str) and isinstance(data, bytes) for name, data in winmail.files)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_winmail(tail: bytes) -> None:
    with contextlib.suppress(UnreadableWinmail):  # the one exception it may raise
        unpack_winmail(b"\x78\x9f\x3e\x22" + tail)
