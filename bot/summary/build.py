"""`build_summary`: a summary mail, what its files were found to be (bot.intake.evidence) and what the ledger
knew of the branch before it, to one Summary record. Pure: no file is read here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Literal

from bot.summary.match import match_activities
from bot.summary.records import History, MediaFile, Summary, SummaryDocument
from parsers.links import classify_link
from parsers.media import MediaInfo, MediaKind
from parsers.message import Mail

# Pictures pasted into the body (multipart/related) this large are photos, not logos in a signature.
MIN_INLINE_PHOTO_BYTES = 20 * 1024


def build_summary(
    mail: Mail,
    media: Sequence[MediaInfo],
    documents: Mapping[str, SummaryDocument],
    history: History,
    arrived: dt.datetime,
) -> Summary:
    """`media`: one MediaInfo per attachment, in order; `documents`: the attachments read as documents, by name."""
    files = _media_files(mail, media, documents, history)
    read = tuple(documents[f.attachment.name] for f in files if f.kind == "document")
    texts = [mail.subject, mail.body_text, *(a.name for a in mail.attachments), *(d.text for d in read)]
    activities, matched_by = match_activities(texts, history.activities)
    links = tuple(classify_link(url) for url in mail.links)
    return Summary(arrived, files, read, links, activities, matched_by, history)


def _media_files(
    mail: Mail, media: Sequence[MediaInfo], documents: Mapping[str, SummaryDocument], history: History
) -> tuple[MediaFile, ...]:
    seen: set[str] = set()
    files: list[MediaFile] = []
    for attachment, info in zip(mail.attachments, media, strict=True):
        if attachment.origin == "inline" and (info.kind != "photo" or info.size < MIN_INLINE_PHOTO_BYTES):
            continue
        kind: MediaKind = "document" if attachment.name in documents else info.kind
        repeat: Literal["", "mail", "earlier"] = (
            "earlier" if info.sha256 in history.media else "mail" if info.sha256 in seen else ""
        )
        seen.add(info.sha256)
        files.append(MediaFile(attachment, kind, info, repeat))
    return tuple(files)
