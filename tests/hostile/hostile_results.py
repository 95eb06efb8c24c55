"""Rows of docs/RELIABILITY.md for the hostile-input suite, written as the fault suite documents them
(tests/faults/fault_results.py): one JSON object per file in $SUBBOT_RESULTS_DIR, only when it is set.

Fields: suite ("hostile"), order, fault (the input class), tried (how, in a sentence), times (inputs
tried), lost (messages not recorded; null where no mail is involved), duplicated (null: not measured
here), recovery ("n/a": nothing to recover from), outcome (what happened), details (figures)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

RESULTS_ENV = "SUBBOT_RESULTS_DIR"
SUITE = "hostile"


def record(
    order: int, fault: str, tried: str, times: int, outcome: str, lost: int | None = None, **details: Any
) -> Path | None:
    folder = os.environ.get(RESULTS_ENV)
    if not folder:
        return None
    row = {
        "suite": SUITE,
        "order": order,
        "fault": fault,
        "tried": tried,
        "times": times,
        "lost": lost,
        "duplicated": None,
        "recovery": "n/a",
        "outcome": outcome,
        "details": details,
    }
    slug = re.sub(r"[^a-z0-9]+", "-", fault.lower()).strip("-")[:40] or "row"
    path = Path(folder) / f"{SUITE}-{order:02d}-{slug}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(row, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def worst(seconds: Iterable[float], peaks: Iterable[float]) -> str:
    """'at most 1.2 s and 82 MiB' for an outcome sentence."""
    return f"at most {max(seconds, default=0):.1f} s and {max(peaks, default=0):.0f} MiB"
