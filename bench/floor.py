"""The floor of intake: fetch every message of a mailbox with imapclient and open each attachment with the
library that reads it (python-docx, pdfplumber, Pillow for a photo's EXIF), nothing else: no storing, no
ledger, no rules, no reply. Run as a process of its own, as `subbot poll` is, so both pay for start-up.

    python bench/floor.py HOST PORT USER PASSWORD"""

from __future__ import annotations

import email
import io
import sys
from email.message import EmailMessage
from email.policy import default

import docx
import pdfplumber
from imapclient import IMAPClient
from PIL import Image

CHUNK = 50  # as the bot's adapter fetches: BODY.PEEK[] for a chunk of UIDs per command


def main(host: str, port: int, user: str, password: str) -> int:
    opened = 0
    with IMAPClient(host, port, ssl=False, timeout=60) as client:
        client.login(user, password)
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search("ALL"))
        for start in range(0, len(uids), CHUNK):
            for data in client.fetch(uids[start : start + CHUNK], [b"BODY.PEEK[]", b"INTERNALDATE"]).values():
                opened += open_attachments(bytes(data[b"BODY[]"]))
    print(f"{len(uids)} messages, {opened} attachments opened")
    return 0


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
        elif name.endswith(".pdf"):
            with pdfplumber.open(io.BytesIO(data)) as pdf:
                opened += sum(len(page.chars) for page in pdf.pages) >= 0
        elif name.endswith((".jpg", ".jpeg")):
            with Image.open(io.BytesIO(data)) as image:
                opened += len(image.getexif()) >= 0
    return opened


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]))
