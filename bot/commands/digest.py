"""`subbot digest` and `subbot export`: the staff's daily digest (previewed, or sent now), the 汇总表 alone, and
the summaries' photos, videos and documents as a folder tree with its index."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot.app import App
from bot.jobs.digest.mail import current_digest, queue_digest
from bot.jobs.digest.rollup import rollup_name, write_rollup
from bot.jobs.digest.view import render_digest
from bot.jobs.export.index import write_index
from bot.jobs.export.plan import plan_export
from bot.jobs.export.tree import ExportRefused, ExportReport, export_tree
from bot.ledger.summaries import read_summary_records
from bot.store.lock import Busy


def preview(app: App, now: Callable[[], dt.datetime], out: Path) -> int:
    """Render the digest as it would be sent now, into an HTML file, sending nothing."""
    with Session(app.engine) as session:
        digest = current_digest(session, app.ctx, now())
    rendered = render_digest(digest, app.services.letterhead.renderer, rollup_name(digest))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(rendered.html, encoding="utf-8")
    print(f"每日摘要已写入 {out}（未发送）")
    print(f"  主题：{rendered.subject}")
    return 0


def send(app: App, now: Callable[[], dt.datetime]) -> int:
    """Queue today's digest for every staff address that has not had it today, and send what is due."""
    staff = app.settings.digest.to
    if not staff:
        print("设置文件的 [digest] 部分没有收件人（to），无法发送每日摘要", file=sys.stderr)
        return 3
    try:
        with app.jobs_lock.hold(wait=True):
            with Session(app.engine) as session, session.begin():
                report = queue_digest(session, app.ctx, app.services.letterhead, staff, now())
            flushed = app.flush_outbox(now)
    except Busy as exc:
        print(exc, file=sys.stderr)
        return 4
    already = f"，{report.already}位今天已发过" if report.already else ""
    print(
        f"{report.day.year}年{report.day.month}月{report.day.day}日每日摘要：新排队{report.queued}封{already}；"
        f"发件箱本次发出{flushed.sent}封，待重试{flushed.deferred}封，被拒收{flushed.failed}封"
    )
    return 0


def export(app: App, now: Callable[[], dt.datetime], xlsx: Path | None, media: Path | None, as_json: bool) -> int:
    """The 汇总表 workbook, the media tree, or both; with `as_json` one JSON object says what was written."""
    said: dict[str, Any] = {}
    code = 0
    if xlsx is not None:
        said["xlsx"] = export_rollup(app, now, xlsx, as_json)
    if media is not None:
        try:
            report = export_media(app, media)
        except ExportRefused as exc:
            print(f"未导出总结材料：{exc}", file=sys.stderr)
            return 2
        said["media"] = _said(report)
        code = 1 if report.count("missing") else 0
        if not as_json:
            _tell(report)
    if as_json:
        print(json.dumps(said, ensure_ascii=False))
    return code


def export_rollup(app: App, now: Callable[[], dt.datetime], out: Path, quiet: bool) -> dict[str, Any]:
    """Write the 汇总表 workbook alone."""
    with Session(app.engine) as session:
        digest = current_digest(session, app.ctx, now())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(write_rollup(digest, app.campaign))
    known = sum(b.known for b in digest.branches)
    if not quiet:
        print(f"汇总表已写入 {out}：已受理活动{len(digest.activities)}项，名单内单位{known}家")
    return {"path": str(out), "activities": len(digest.activities), "branches": known}


def export_media(app: App, out: Path) -> ExportReport:
    """Every stored file of the summaries under `out` as 单位/活动/文件, with 索引.xlsx."""
    with Session(app.engine) as session:
        records = read_summary_records(session)
    plan = plan_export(records, app.roster, app.campaign.zone)
    campaign = app.campaign
    return export_tree(
        plan,
        app.settings.bot.data_dir,
        out,
        lambda missing: write_index(plan, missing, campaign.name, campaign.office.name),
    )


def _tell(report: ExportReport) -> None:
    written, unchanged, missing = (report.count(o) for o in ("written", "unchanged", "missing"))
    removed = f"，删除已过时的{len(report.removed)}个" if report.removed else ""
    print(
        f"总结材料已导出到 {report.folder}：共{len(report.files)}个文件，本次写入{written}个、"
        f"原已导出未变{unchanged}个{removed}；索引见 {report.folder / report.index}"
    )
    if missing:
        print(f"有{missing}个文件在数据文件夹中找不到，未导出（索引的“备注”一栏标出了它们）", file=sys.stderr)


def _said(report: ExportReport) -> dict[str, Any]:
    return {
        "folder": str(report.folder),
        "index": report.index,
        "files": [{"path": f.path, "sha256": f.sha256, "size": f.size, "outcome": f.outcome} for f in report.files],
        "removed": list(report.removed),
    }
