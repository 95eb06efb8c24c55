"""`subbot roster check`: every problem in a roster file, in Chinese or as JSON, before the bot is given it."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from config.roster import RosterReport, check_roster

SEVERITY_NAMES = {"error": "错误", "warning": "提醒"}


def check(path: Path, as_json: bool) -> int:
    """0 when the roster is clean, 1 when it loads with warnings, 2 when an error keeps it from loading."""
    report = check_roster(path)
    print(json.dumps(report_json(report), ensure_ascii=False) if as_json else describe(report))
    if report.errors:
        return 2
    return 1 if report.warnings else 0


def report_json(report: RosterReport) -> dict[str, object]:
    return {
        "file": report.path,
        "rows": report.rows,
        "usable": report.roster is not None,
        "problems": [asdict(problem) for problem in report.problems],
    }


def describe(report: RosterReport) -> str:
    errors, warnings = len(report.errors), len(report.warnings)
    if not report.problems:
        return f"{report.path}：{report.rows} 个单位，未发现问题"
    rows = f"（共 {report.rows} 行）" if report.rows else ""
    lines = [f"{report.path}：{errors} 处错误，{warnings} 处提醒{rows}"]
    lines += [f"  {SEVERITY_NAMES[p.severity]} {p.where() or '文件'}：{p.message}" for p in report.problems]
    if errors:
        lines.append("有错误的名单不会被载入，请改正后再检查。")
    return "\n".join(lines)
