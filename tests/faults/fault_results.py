"""What a reliability test found, as one JSON file in $SUBBOT_RESULTS_DIR (when set): the rows of
docs/RELIABILITY.md. Any suite may write them; `reliability.py` merges every file in the folder.

A file holds one object:
  suite       str   the suite that tried it ("faults", "hostile", ...); rows are grouped by suite
  order       int   position of the row within its suite
  fault       str   the fault or input class tried, as the table's first column says it
  tried       str   how it was brought about, in a sentence
  times       int   how many times it was tried (kills, outages, messages...)
  lost        int   messages lost (not in the ledger, or a reply due and never sent); null if not measured
  duplicated  int   replies a branch received twice; null if not measured
  recovery    str   time to recover, in words ("median 0.4 s, max 1.2 s", "next poll", "n/a")
  outcome     str   what happened, in a sentence or two
  details     obj   optional: figures behind the row (seeds, counts), printed under the table
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_ENV = "SUBBOT_RESULTS_DIR"


@dataclass(frozen=True)
class Result:
    suite: str
    order: int
    fault: str
    tried: str
    times: int
    lost: int | None
    duplicated: int | None
    recovery: str
    outcome: str
    details: dict[str, Any] = field(default_factory=dict)


def record(result: Result) -> Path | None:
    """Writes `result` where `make reliability` collects it; does nothing in a plain `make test`."""
    folder = os.environ.get(RESULTS_ENV)
    if not folder:
        return None
    path = Path(folder) / f"{result.suite}-{result.order:02d}-{_slug(result.fault)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "row"


def seconds(values: list[float]) -> str:
    """'median 0.42 s, max 1.3 s' for the recovery column."""
    if not values:
        return "n/a"
    ordered = sorted(values)
    median = ordered[len(ordered) // 2]
    return f"median {median:.2f} s, max {ordered[-1]:.2f} s" if len(ordered) > 1 else f"{median:.2f} s"
