"""Memory: the peak resident memory of `subbot poll --once` over one big summary mail (a 300 MB video, or
500 photos), beside the floor reader's over the same mail."""

from __future__ import annotations

import io
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bench.process import PYTHON, ROOT, SUBBOT, Timing, measure, subbot_env
from bench.servers import PASSWORD, Servers
from bench.workload import message, summary


@dataclass(frozen=True)
class Peak:
    label: str
    mail_mb: float
    bot: Timing
    floor: Timing


def video_mail(megabytes: int) -> bytes:
    # An MP4's first box, then noise: what the bot sees of a video is its type and its bytes.
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + os.urandom(megabytes << 20)
    files = [("活动总结.docx", summary(random.Random(1)), _DOCX), ("活动现场.mp4", video, "video/mp4")]
    return message("北京石油学会", "bjsyxh@example.com", "报送活动总结（含视频）", files)


def photos_mail(count: int) -> bytes:
    files = [("活动总结.docx", summary(random.Random(2)), _DOCX)]
    files += [(f"照片{n + 1:03d}.jpg", _photo(n), "image/jpeg") for n in range(count)]
    return message("北京石油学会", "bjsyxh@example.com", f"报送活动总结（照片{count}张）", files)


def _photo(number: int) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((640, 480), 40 + number % 50).convert("RGB").save(out, "JPEG", quality=80 + number % 10)
    return out.getvalue()


_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def measure_peak(servers: Servers, label: str, raw: bytes) -> Peak:
    user = servers.new_user()
    servers.dovecot.append(user, raw)
    servers.reset_smtp()
    dovecot = servers.dovecot
    with tempfile.TemporaryDirectory(prefix="subbot-bench-memory-") as tmp:
        folder = Path(tmp)
        settings = servers.settings(folder, user)
        floor = measure([PYTHON, ROOT / "bench" / "floor.py", dovecot.host, str(dovecot.port), user, PASSWORD])
        bot = measure([SUBBOT, "--settings", settings, "poll", "--once", "--reply-backlog"], subbot_env(), folder)
    return Peak(label, len(raw) / (1 << 20), bot, floor)
