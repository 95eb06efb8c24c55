"""The bot against the floor of its work, on real servers (Dovecot, aiosmtpd): intake throughput and its
growth with the size of the mailbox, latency from APPEND to reply, idle cost, peak memory on big mails,
and where intake's time goes. Prints each section and rewrites it in docs/BENCHMARKS.md.

    python -m bench.bench_intake [--quick] [--only throughput,growth,latency,idle,memory,profile]"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Callable

from bench.breakdown import profile_intake
from bench.idle import measure_idle
from bench.intake import measure_intake
from bench.latency import measure_latency
from bench.memory import measure_peak, photos_mail, video_mail
from bench.report import table, write_section
from bench.servers import Servers, servers
from bench.workload import DEADLINE_DAY, DOCX_ONLY, Workload

SECTIONS = ["throughput", "growth", "latency", "idle", "memory", "profile"]


def machine() -> str:
    # The load average says whether other work shared the machine while this section ran.
    load = os.getloadavg()[0]
    return f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}, load average {load:.1f} at the end"


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def throughput(s: Servers, w: Workload, quick: bool) -> tuple[str, str]:
    count, rounds = (200, 1) if quick else (1000, 3)
    rows = []
    for mix in (DOCX_ONLY, DEADLINE_DAY):
        r = measure_intake(s, w, count, mix, rounds)
        target = "ratio ≤ 1.3; under 60 s" if mix is DOCX_ONLY else "ratio ≤ 1.3"
        answering = f"{r.answering_wall:.1f} s" if r.answering_wall else "—"
        rows.append(
            [
                mix.label(),
                str(count),
                f"{r.bot_wall:.1f} s ({count / r.bot_wall:.1f} msg/s)",
                f"{r.bot_cpu:.1f} s",
                f"{r.floor_wall:.1f} s ({count / r.floor_wall:.1f} msg/s)",
                f"**{r.ratio:.2f}**",
                target,
                answering,
                f"{r.answering_ratio:.2f}" if r.answering_ratio else "—",
                str(r.rounds[0].replies),
            ]
        )
    body = f"""`subbot poll --once --reply-backlog` as a process on a fresh SQLite ledger, over a Dovecot mailbox
holding {count} submissions APPENDed beforehand, replying through aiosmtpd (with a copy in Sent): fetch,
store, parse, read and check every form, decide, record, compose and send each reply. Floor, in the same
run over the same mailbox: `bench/floor.py` as a process, fetching the messages with imapclient (the same
chunks of BODY.PEEK[]) and opening each attachment with python-docx, pdfplumber (every page's
characters) or Pillow (EXIF), a .doc or .wps converted first by a warm LibreOffice, nothing else. Floor with answering: the same, plus the least that answering
takes (`floor.py --answer`): each raw mail written and fsynced, a short reply per mail sent over one SMTP
connection and APPENDed to Sent; no ledger, no rules, no composing from templates. Wall-clock, median of
{rounds} rounds; {machine()}.

{table(["mail", "messages", "bot", "bot CPU", "floor", "ratio bot/floor", "target", "floor with answering", "ratio bot/it", "replies"], rows)}
"""
    return "Intake throughput", body


def growth(s: Servers, w: Workload, quick: bool) -> tuple[str, str]:
    sizes = (100, 300) if quick else (100, 1000, 10000)
    rows = []
    for count in sizes:
        r = measure_intake(s, w, count, DOCX_ONLY, 1, floor=count <= 1000)
        floor = f"{r.floor_wall * 1000 / count:.0f}" if r.floor_wall else "—"
        rows.append([str(count), f"{r.bot_wall:.1f} s", f"**{r.bot_wall * 1000 / count:.0f}**", floor])
    body = f"""The same `subbot poll --once` over mailboxes of .docx plan mails of growing size, one round each (the
first includes start-up, about a second). Flat time per message means no step re-reads the whole ledger
or mailbox per message. {machine()}.

{table(["messages", "bot", "bot ms per message", "floor ms per message"], rows)}
"""
    return "Growth", body


def latency(s: Servers, w: Workload, quick: bool) -> tuple[str, str]:
    samples = 5 if quick else 15
    poll_seconds = 10.0
    rows = []
    for idle in (True, False):
        result = measure_latency(s, w, samples if idle else max(5, samples * 2 // 3), idle, poll_seconds)
        target = "median < 2 s" if idle else f"about {poll_seconds / 2:g} s + intake (half the interval)"
        rows.append(
            [
                result.mode,
                str(len(result.samples)),
                f"**{result.median:.2f} s**",
                f"{max(result.samples):.2f} s",
                target,
            ]
        )
    body = f"""`subbot run` on an empty mailbox; one .docx plan mail APPENDed at a time, timed until its reply
reaches aiosmtpd (the next mail once it has). With IDLE the server's EXISTS wakes the bot; without, the
next timed poll finds the mail (here every {poll_seconds:g} s, the mail APPENDed at a random moment of the
interval; the default `poll_minutes` is 5). Floor: the
intake of one message, about 0.1 s (see Where the time goes). {machine()}.

{table(["mode", "mails", "median", "slowest", "target"], rows)}
"""
    return "Latency", body


def idle(s: Servers, w: Workload, quick: bool) -> tuple[str, str]:
    seconds = 60.0 if quick else 300.0
    rows = []
    for use_idle in (True, False):
        cost = measure_idle(s, seconds, use_idle)
        target = "< 1 s/h" if use_idle else "—"
        rows.append([cost.mode, f"{cost.seconds:.0f} s", f"{cost.cpu:.2f} s", f"**{cost.per_hour:.2f} s/h**", target])
    body = f"""CPU seconds of `subbot run` (user + system, from /proc) while it watches an empty mailbox, after its
first poll, scaled to an hour. Dovecot sends "still here" every 2 minutes during IDLE; without IDLE the
bot polls every `poll_minutes` (5). Floor: 0. {machine()}.

{table(["mode", "watched", "CPU", "CPU per hour", "target"], rows)}
"""
    return "Idle cost", body


def memory(s: Servers, w: Workload, quick: bool) -> tuple[str, str]:
    video_mb, photos = (50, 100) if quick else (300, 500)
    rows = []
    for label, raw in (
        (f"a {video_mb} MB video", lambda: video_mail(video_mb)),
        (f"{photos} photos", lambda: photos_mail(photos)),
    ):
        peak = measure_peak(s, label, raw())
        rows.append(
            [
                label,
                f"{peak.mail_mb:.0f} MB",
                f"**{peak.bot.peak_rss_mb:.0f} MB**",
                f"{peak.floor.peak_rss_mb:.0f} MB",
                "< 200 MB",
            ]
        )
    body = f"""Peak resident memory (wait4's ru_maxrss: the process or any child it waited for, the sandbox's reader
among them) of `subbot poll --once` over a mailbox holding one summary mail: a summary .docx with a video,
or with photos. The bot copies a message over 8 MB to a spool file by partial FETCHes of 4 MB and decodes
its photos and videos to files as it reads it (bot/mailbox/spoolfile.py, parsers/spill.py). For scale:
`bench/floor.py` over the same mail, which fetches it whole with BODY.PEEK[] and parses it with the
standard library, as the bot did before. {machine()}.

{table(["summary mail with", "mail size (base64)", "bot peak RSS", "whole-message reader's peak RSS", "target"], rows)}
"""
    return "Memory", body


def profile(s: Servers, w: Workload, quick: bool) -> tuple[str, str]:
    count = 100 if quick else 300
    per_message, stages = profile_intake(s, w, count)
    rows = [[stage.what, f"{stage.ms_per_message:.1f}"] for stage in stages]
    body = f"""One poll of {count} .docx plan mails in the benchmark's own process under cProfile (which adds its own
overhead): {per_message:.0f} ms per message in all. Cumulative milliseconds per message of each stage;
indented rows are parts of the row above. {machine()}.

{table(["stage", "ms per message"], rows)}
"""
    return "Where the time goes", body


RUN: dict[str, Callable[[Servers, Workload, bool], tuple[str, str]]] = {
    "throughput": throughput,
    "growth": growth,
    "latency": latency,
    "idle": idle,
    "memory": memory,
    "profile": profile,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, one round: to try the bench itself")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    args = parser.parse_args()
    chosen = [name for name in args.only.split(",") if name]
    workload = Workload()
    with servers() as running:
        for name in chosen:
            title, body = RUN[name](running, workload, args.quick)
            print(f"## {title}\n\n{body}", flush=True)
            if not args.quick:
                write_section(title, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
