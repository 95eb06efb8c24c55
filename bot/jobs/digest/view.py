"""`digest_context`: a Digest as the plain strings and lists the digest templates show, then rendered."""

from __future__ import annotations

from typing import Any

from bot import wording as w
from bot.jobs.digest.model import Arrival, Digest, StageTally
from bot.jobs.digest.progress import ActivityLine, MediaCount
from parsers.records import Contact
from replies.render import Rendered, Renderer

# Long lists are cut here in the mail; the attached workbook always has every row.
LIST_LIMIT = 40
PROBLEMS_SHOWN = 3
TONES = {
    "accepted": "#1a7f37",
    "needs_correction": "#b35900",
    "unreadable": "#b35900",
    "no_attachment": "#b35900",
    "missing": "#c62828",
    "failed": "#c62828",
    "late": "#7b3fa0",
    "planned": "#555",
    "held": "#b35900",
    "summarised": "#1a7f37",
}
UNMATCHED = "（未对应已受理活动的总结）"


def render_digest(digest: Digest, renderer: Renderer, attachment: str = "") -> Rendered:
    return renderer.render("digest", digest_context(digest, attachment))


def digest_context(digest: Digest, attachment: str = "") -> dict[str, Any]:
    current = digest.counts[0]
    return {
        "campaign": digest.campaign,
        "short_name": digest.short_name,
        "office": digest.office,
        "day": w.long_day(digest.day),
        "day_short": w.day(digest.day),
        "generated": f"{digest.now:%H:%M}",
        "timezone": "北京时间" if digest.timezone == "Asia/Shanghai" else digest.timezone,
        "since": w.moment(digest.since),
        "current": w.deliverable(digest.current),
        "deadline": w.days_left(current.days_left, current.deadline_day),
        "headline": {
            "accepted": current.accepted,
            "correcting": current.correcting,
            "missing": current.missing,
        },
        "overdue_missing": [
            {"name": w.deliverable(c.deliverable), "missing": c.missing}
            for c in digest.counts[1:]
            if c.days_left < 0 and c.missing
        ],
        "counts": _counts(digest),
        "arrivals": [_arrival(a) for a in digest.arrivals[:LIST_LIMIT]],
        "arrivals_more": max(0, len(digest.arrivals) - LIST_LIMIT),
        "waiting": [
            {
                "branch": x.branch,
                "deliverable": w.deliverable(x.deliverable),
                "asked": w.moment(x.asked),
                "waited": w.duration(x.waited),
                "status": w.outcome(x.status),
                "problems": list(x.problems[:PROBLEMS_SHOWN]),
                "problems_more": max(0, len(x.problems) - PROBLEMS_SHOWN),
                "resolve": f"通过 {x.receipt}" if x.receipt else "",
            }
            for x in digest.waiting[:LIST_LIMIT]
        ],
        "waiting_count": len(digest.waiting),
        "missing": _missing_groups(digest),
        "round": _round(digest),
        "missing_notes": _missing_notes(digest),
        "late": [
            {
                "branch": x.branch,
                "deliverable": w.deliverable(x.deliverable),
                "arrived": w.moment(x.arrived),
                "days_late": x.days_late,
                "status": w.outcome(x.status),
            }
            for x in digest.late
        ],
        "set_aside": [
            {
                "at": w.moment(x.at),
                "at_day": w.day(x.at.date()),
                "at_time": f"{x.at:%H:%M}",
                "reason": w.ASIDE_NAMES.get(x.reason, x.reason),
                "who": x.who,
                "subject": w.REPLY_NAMES.get(x.subject, x.subject) if x.reason == "reply_refused" else x.subject,
                "detail": x.detail,
                "retry": f"subbot retry {x.message_pk}" if x.reason == "failed" and x.message_pk else "",
                "resolve": x.resolve,
            }
            for x in digest.set_aside[:LIST_LIMIT]
        ],
        "set_aside_more": max(0, len(digest.set_aside) - LIST_LIMIT),
        "sent": "，".join(f"{w.REPLY_NAMES.get(k, k)}{n}封" for k, n in digest.sent) or "无",
        "reminders": [
            {
                "branch": r.branch or r.to_address,
                "deliverable": w.deliverable(r.deliverable),
                "status": w.REPLY_STATES.get(r.status, r.status),
            }
            for r in digest.reminders
        ],
        "health": _health(digest),
        "modules": [
            {"name": t.name or "（未勾选模块）", "accepted": t.accepted, "correcting": t.correcting}
            for t in digest.modules
        ],
        "stages": [_stage(t) for t in digest.stages],
        "activities_total": len(digest.activities),
        "attachment": attachment,
        "learned": [
            {
                "at": w.moment(a.at.astimezone(digest.now.tzinfo)),
                "branch": a.branch,
                "address": a.address,
                "how": w.LEARNED_HOW.get(a.how, a.how),
                "receipt": a.receipt or "",
                "resolve": f"移除地址 {a.address}",
            }
            for a in digest.learned[-LIST_LIMIT:]
        ],
        "learned_total": len(digest.known_addresses),
        "actions": [
            {
                "at": w.moment(a.at.astimezone(digest.now.tzinfo)),
                "who": a.who,
                "what": " ".join(
                    part
                    for part in (
                        w.VERB_NAMES.get(a.verb, a.verb),
                        a.receipt or "",
                        a.branch if a.verb in ("exempt", "unexempt", "assign", "forget") and a.branch else "",
                        w.deliverable(a.deliverable) if a.verb in ("exempt", "unexempt") else "",
                        a.text,
                    )
                    if part
                ),
                "refused": a.refused,
            }
            for a in digest.actions[-LIST_LIMIT:]
        ],
    }


def _counts(digest: Digest) -> dict[str, Any]:
    columns = [
        {"name": w.deliverable(c.deliverable), "deadline": w.days_left(c.days_left, c.deadline_day)}
        for c in digest.counts
    ]
    rows = [
        ("已受理", "accepted", [c.accepted for c in digest.counts]),
        ("待修改", "needs_correction", [c.correcting for c in digest.counts]),
        ("未报送", "missing", [c.missing for c in digest.counts]),
        ("逾期报送", "late", [c.late for c in digest.counts]),
        ("名单外来信", "", [c.unknown for c in digest.counts]),
    ]
    if any(c.exempt for c in digest.counts):
        rows.insert(3, ("豁免", "", [c.exempt for c in digest.counts]))
    return {
        "columns": columns,
        "rows": [{"label": label, "tone": TONES.get(tone, "#444"), "values": values} for label, tone, values in rows],
    }


def _arrival(a: Arrival) -> dict[str, Any]:
    return {
        "at": w.moment(a.at),
        "at_day": w.day(a.at.date()),
        "at_time": f"{a.at:%H:%M}",
        "who": a.who,
        "known": a.known,
        "subject": a.subject or "（无主题）",
        "outcome": w.outcome(a.outcome),
        "tone": TONES.get(a.outcome, "#444"),
        "deliverable": w.deliverable(a.deliverable) if a.deliverable else "",
        "late": a.late,
        "receipt": a.receipt or "",
    }


def _missing_groups(digest: Digest) -> list[dict[str, Any]]:
    """Who has not sent a deliverable. Once the summary round is shown, its own list names the branches owing a
    summary (only those with an accepted plan are asked): the summary is not listed twice."""
    counts = {c.deliverable: c for c in digest.counts}
    listed = [d for d in digest.missing_listed if not (d == "summary" and digest.summaries.shown)]
    return [
        {
            "name": w.deliverable(d),
            "overdue": counts[d].days_left < 0,
            "rows": [
                {"branch": m.branch, "kind": m.kind, "emails": list(m.emails), "contact": _contact(m.contact)}
                for m in digest.missing
                if m.deliverable == d
            ],
        }
        for d in listed
    ]


def _round(digest: Digest) -> dict[str, Any] | None:
    """The summary round: counts, the branches that sent a summary with each activity's progress and media (the
    latest first, cut at LIST_LIMIT activities; the workbook has every activity), and the branches owing one."""
    summaries = digest.summaries
    if not summaries.shown:
        return None
    by_branch: dict[str, list[ActivityLine]] = {}
    for line in summaries.lines:
        by_branch.setdefault(line.branch, []).append(line)
    sections: list[dict[str, Any]] = []
    rows = 0
    for branch in summaries.reporting:
        lines = by_branch[branch]
        if rows and rows + len(lines) > LIST_LIMIT:
            break
        sections.append({"branch": branch, "rows": [_line(line) for line in lines]})
        rows += len(lines)
    shown = {s["branch"] for s in sections}
    progress = dict(summaries.progress)
    totals = summaries.totals
    return {
        "deadline": w.days_left(summaries.days_left, summaries.deadline_day),
        "overdue": summaries.days_left < 0,
        "activities": sum(progress.values()),
        "progress": [{"name": w.PROGRESS_NAMES[p], "count": n, "tone": TONES[p]} for p, n in summaries.progress],
        "progress_text": "，".join(f"{w.PROGRESS_NAMES[p]}{n}项" for p, n in summaries.progress),
        "totals": f"照片{totals.photos}张、视频{totals.videos}个、报道链接{len(totals.press)}个、网盘链接{len(totals.drive)}个",
        "sections": sections,
        "more": sum(len(by_branch[b]) for b in summaries.reporting if b not in shown),
        "owed": [
            {
                "branch": o.branch,
                "kind": o.kind,
                "activities": f"{o.activities}项活动，" + (f"{o.held}项已举办" if o.held else "均未举办"),
                "emails": list(o.emails),
                "contact": _contact(o.contact),
            }
            for o in summaries.owed[:LIST_LIMIT]
        ],
        "owed_count": len(summaries.owed),
        "owed_total": len(summaries.owed) + summaries.owed_later,
        "owed_later": summaries.owed_later,
        "not_asked": summaries.not_asked,
    }


def _line(line: ActivityLine) -> dict[str, Any]:
    summary = line.receipt
    if summary and line.summary != "accepted":
        summary += f"（{w.outcome(line.summary)}）"
    return {
        "title": line.title or UNMATCHED,
        "when": _when(line),
        "progress": w.PROGRESS_NAMES[line.progress] if line.progress else "已收到总结",
        "tone": TONES[line.progress] if line.progress else "#444",
        "summary": summary,
        "media": media_counts(line.media) or "尚无照片、视频或链接",
    }


def _when(line: ActivityLine) -> str:
    if line.start and line.end:
        return w.span(line.start, line.end)
    return w.day(line.start) if line.start else ""


def media_counts(media: MediaCount) -> str:
    """照片3张，视频1个，报道1个，网盘1个 (what there is)."""
    parts = [
        (media.photos, "照片", "张"),
        (media.videos, "视频", "个"),
        (len(media.press), "报道", "个"),
        (len(media.drive), "网盘", "个"),
    ]
    return "，".join(f"{name}{n}{unit}" for n, name, unit in parts if n)


def _missing_notes(digest: Digest) -> list[str]:
    """For deliverables whose deadline is still far: a count, not a list of names."""
    return [
        f"{w.deliverable(c.deliverable)}{w.days_left(c.days_left, c.deadline_day)}，"
        f"尚有{c.missing}家未报送，暂不逐一列出（名单见附件“报送情况”）。"
        for c in digest.counts
        if c.deliverable not in digest.missing_listed and c.missing
    ]


def _contact(contact: Contact | None) -> str:
    if contact is None:
        return ""
    phones = "，".join(p for p in (contact.mobile, contact.office_phone) if p)
    return "，".join(p for p in (contact.name, phones) if p)


def _health(digest: Digest) -> dict[str, Any]:
    health = digest.health
    return {
        "ok": health.ok,
        "polls": [
            {"mailbox": p.mailbox, "last_ok": w.moment(p.last_ok), "age": w.duration(p.age), "stale": p.stale}
            for p in health.polls
        ],
        "pending": health.pending,
        "stuck": [
            {
                "kind": w.REPLY_NAMES.get(s.kind, s.kind),
                "branch": s.branch or "",
                "created": w.moment(s.created),
                "attempts": s.attempts,
                "error": s.last_error,
            }
            for s in health.stuck[:LIST_LIMIT]
        ],
        "stuck_count": len(health.stuck),
        "refused": health.refused,
        "failed_mails": health.failed_mails,
    }


def _stage(tally: StageTally) -> dict[str, Any]:
    window = f"{w.day(tally.start)}—{w.day(tally.end)}" if tally.start and tally.end else ""
    return {
        "name": w.stage_name(tally.number),
        "window": window,
        "accepted": tally.accepted,
        "correcting": tally.correcting,
    }
