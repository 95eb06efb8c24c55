"""The floor of intake: fetch every message of a mailbox with imapclient and open each attachment with the
library that reads it (python-docx, pdfplumber, Pillow for a photo's EXIF; a .doc or .wps converted by a
warm LibreOffice, the bot's own bot/forms/convert/warm.py as no quicker way is known, then python-docx), nothing
else: no storing, no ledger, no rules, no reply. Run as a process of its own, as `subbot poll` is, so
both pay for start-up.

With `--answer SMTP_PORT FOLDER`, also the least that answering takes: each raw message written to FOLDER
and fsynced, and a short reply per message sent over one SMTP connection and APPENDed to Sent.

    python bench/floor.py HOST PORT USER PASSWORD [--answer SMTP_PORT FOLDER]"""

from __future__ import annotations

import email
import email.utils
import functools
import hashlib
import io
import os
import smtplib
import sys
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import docx
import pdfplumber
from imapclient import IMAPClient
from PIL import Image

from bot.forms.convert import Converter, converter

CHUNK = 50  # as the bot's adapter fetches: BODY.PEEK[] for a chunk of UIDs per command


def main(host: str, port: int, user: str, password: str, answer: tuple[int, Path] | None = None) -> int:
    opened = 0
    with IMAPClient(host, port, ssl=False, timeout=60) as client:
        client.login(user, password)
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search("ALL"))
        senders: list[str] = []
        for start in range(0, len(uids), CHUNK):
            for data in client.fetch(uids[start : start + CHUNK], [b"BODY.PEEK[]", b"INTERNALDATE"]).values():
                raw = bytes(data[b"BODY[]"])
                opened += open_attachments(raw)
                if answer:
                    senders.append(_store(raw, answer[1]))
        if answer:
            _answer(client, host, answer[0], senders)
    print(f"{len(uids)} messages, {opened} attachments opened")
    return 0


def _store(raw: bytes, folder: Path) -> str:
    path = folder / f"{hashlib.sha256(raw).hexdigest()}.eml"
    with path.open("wb") as out:
        out.write(raw)
        out.flush()
        os.fsync(out.fileno())
    return email.utils.parseaddr(str(email.message_from_bytes(raw).get("From", "")))[1] or "x@example.com"


def _answer(client: IMAPClient, host: str, smtp_port: int, senders: list[str]) -> None:
    if not client.folder_exists("Sent"):
        client.create_folder("Sent")
    with smtplib.SMTP(host, smtp_port, timeout=60) as smtp:
        for number, to in enumerate(senders):
            reply = EmailMessage()
            reply["From"], reply["To"], reply["Subject"] = "kepu@example.org", to, f"回执 {number}"
            reply.set_content("已收到。")
            raw = reply.as_bytes()
            smtp.sendmail("kepu@example.org", [to], raw)
            client.append("Sent", raw, flags=[b"\\Seen"])


def open_attachments(raw: bytes) -> int:
    message = email.message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    opened = 0
    for part in message.iter_attachments():
        data = part.get_payload(decode=True)
        name = (part.get_filename() or "").lower()
        if not isinstance(data, bytes):
            continue
        if name.endswith(".docx"):
            document = docx.Document(io.BytesIO(data))
            opened += len(document.tables) >= 0
        elif name.endswith((".doc", ".wps")):
            document = docx.Document(io.BytesIO(_office()(data, name.rsplit(".", 1)[1])))
            opened += len(document.tables) >= 0
        elif name.endswith(".pdf"):
            with pdfplumber.open(io.BytesIO(data)) as pdf:
                opened += sum(len(page.chars) for page in pdf.pages) >= 0
        elif name.endswith((".jpg", ".jpeg")):
            with Image.open(io.BytesIO(data)) as image:
                opened += len(image.getexif()) >= 0
    return opened


@functools.cache
def _office() -> Converter:
    """The warm LibreOffice, started on the first .doc or .wps (and shut down at exit)."""
    convert = converter()
    assert convert, "LibreOffice converts the .doc and .wps forms in the mail"
    return convert


if __name__ == "__main__":
    given = sys.argv[1:]
    reply = (int(given[5]), Path(given[6])) if len(given) == 7 and given[4] == "--answer" else None
    sys.exit(main(given[0], int(given[1]), given[2], given[3], reply))
