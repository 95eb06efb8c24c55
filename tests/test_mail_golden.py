"""Every mail in tests/fixtures/mail/ reads as the answer written beside it.

The mails and their answers come from tests/fixtures/mail/make_mail.py; each answer names only
the fields it is about, and this test compares exactly those."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from parsers.message import Address, Mail, parse_message

MAILS = Path(__file__).parent / "fixtures" / "mail"
CASES = sorted(MAILS.glob("*.eml"))


def _address(address: Address | None) -> dict[str, str] | None:
    return None if address is None else {"name": address.name, "address": address.address}


def _actual(mail: Mail) -> dict[str, Any]:
    return {
        "sender": _address(mail.sender),
        "reply_to": _address(mail.reply_to),
        "to": [a.address for a in mail.to],
        "to_names": [a.name for a in mail.to],
        "subject": mail.subject,
        "date": mail.date.isoformat() if mail.date else None,
        "message_id": mail.message_id,
        "in_reply_to": mail.in_reply_to,
        "references": list(mail.references),
        "kind": mail.kind,
        "links": list(mail.links),
        "problems": len(mail.problems),
    }


def _attachments(mail: Mail, expected: list[dict[str, str]]) -> list[dict[str, str]]:
    keys = {key for item in expected for key in item}
    return [{key: value for key, value in vars(a).items() if key in keys and key != "data"} for a in mail.attachments]


def test_there_are_golden_mails() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_mail(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    mail = parse_message(path.read_bytes(), frozenset(expected.get("own_addresses", ())))

    actual = _actual(mail)
    for key, value in expected.items():
        if key in actual:
            assert actual[key] == value, f"{key}: {mail.problems}"
    if "attachments" in expected:
        assert _attachments(mail, expected["attachments"]) == expected["attachments"]
    if "kind_reason" in expected:
        assert mail.kind_reason == expected["kind_reason"]
    for text in expected.get("body_contains", ()):
        assert text in mail.body_text
    for text in expected.get("problem_contains", ()):
        assert any(text in problem for problem in mail.problems), mail.problems


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_decoded_text_stays_on_one_line(path: Path) -> None:
    mail = parse_message(path.read_bytes())
    names = [mail.subject, mail.sender.name, *(a.name for a in mail.attachments)]
    for text in names:
        assert not any(ch in text for ch in "\r\n\x00"), repr(text)
    for attachment in mail.attachments:
        assert attachment.name and "/" not in attachment.name and "\\" not in attachment.name
        assert ".." not in attachment.name
        assert attachment.size == len(attachment.data)
