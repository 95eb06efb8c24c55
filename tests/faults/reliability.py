"""docs/RELIABILITY.md from what the suites found: every JSON row in a results folder (the format is in
fault_results.py; any suite may write rows there), one table grouped by suite, the figures behind each row,
and the prose of reliability.template.md around them.

    python tests/faults/reliability.py RESULTS_DIR docs/RELIABILITY.md

`make reliability` runs the suites with SUBBOT_RESULTS_DIR set, then this."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).with_name("reliability.template.md")
FIELDS = ("suite", "order", "fault", "tried", "times", "lost", "duplicated", "recovery", "outcome")
SUITES = {"faults": "Faults", "hostile": "Hostile input"}  # the order of the table's sections


class BadRow(Exception):
    pass


def read_rows(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(folder.glob("*.json")):
        row = json.loads(path.read_text(encoding="utf-8"))
        missing = [name for name in FIELDS if name not in row]
        if missing:
            raise BadRow(f"{path}: missing {', '.join(missing)}")
        rows.append(row)
    suites = list(SUITES)
    return sorted(
        rows, key=lambda r: (suites.index(r["suite"]) if r["suite"] in suites else 99, r["suite"], r["order"])
    )


def table(rows: list[dict[str, Any]]) -> str:
    lines = []
    for suite in dict.fromkeys(r["suite"] for r in rows):
        lines += [
            f"\n### {SUITES.get(suite, suite.capitalize())}\n",
            "| Fault or input | How it was tried | Times | Messages lost | Replies duplicated | Time to recover | "
            "What happened |",
            "|---|---|---:|---:|---:|---|---|",
        ]
        lines += [
            f"| {_cell(r['fault'])} | {_cell(r['tried'])} | {r['times']} | {_number(r['lost'])} | "
            f"{_number(r['duplicated'])} | {_cell(r['recovery'])} | {_cell(r['outcome'])} |"
            for r in rows
            if r["suite"] == suite
        ]
    return "\n".join(lines).strip("\n")


def details(rows: list[dict[str, Any]]) -> str:
    blocks = []
    for r in rows:
        if r.get("details"):
            items = "\n".join(f"- {key}: {_value(value)}" for key, value in r["details"].items())
            blocks.append(f"**{r['fault']}**\n\n{items}")
    return "\n\n".join(blocks) or "(none)"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _number(value: int | None) -> str:
    return "—" if value is None else str(value)


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _commit() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return done.stdout.strip()


def render(rows: list[dict[str, Any]]) -> str:
    stamp = f"{dt.datetime.now(dt.UTC):%Y-%m-%d}, commit {_commit()}, {os.cpu_count()} CPU cores"
    return (
        TEMPLATE.read_text(encoding="utf-8")
        .replace("{{generated}}", stamp)
        .replace("{{table}}", table(rows))
        .replace("{{details}}", details(rows))
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder, out = Path(argv[0]), Path(argv[1])
    rows = read_rows(folder)
    if not rows:
        print(f"no results in {folder}: run the suites with SUBBOT_RESULTS_DIR={folder}", file=sys.stderr)
        return 1
    out.write_text(render(rows), encoding="utf-8")
    print(f"{out}: {len(rows)} rows from {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
