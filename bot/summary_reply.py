"""What a reply to a summary lists: the files and links received, each photo counted once, and the
activities the summary was recorded for (the `summary` key of the reply templates)."""

from __future__ import annotations

from typing import Any

from bot.rules.base import span
from bot.summary import Summary

LINK_NAMES = {"press": "媒体报道", "drive": "网盘", "video": "视频", "other": "链接"}


def summary_view(summary: Summary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    documents = [d.name for d in summary.usable_documents]
    return {
        "documents": documents,
        "earlier_documents": [] if documents else list(summary.history.documents),
        "photos": len(summary.photos()),
        "photo_repeats": len(summary.photos(repeat=True)),
        "embedded_photos": summary.embedded_photos,
        "videos": len(summary.videos()),
        "video_repeats": len(summary.videos(repeat=True)),
        "links": [{"kind": LINK_NAMES[link.kind], "url": link.url} for link in summary.media_links],
        "other_files": [f.attachment.name for f in summary.files_of("other")]
        + [d.name for d in summary.documents if not d.usable],
        "activities": [
            {"title": a.title, "when": span(a.start, a.end or a.start) if a.start else "日期未填"}
            for a in summary.activities
        ],
        "received_nothing": not (summary.files or summary.media_links),
    }
