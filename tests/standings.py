"""Where each branch stands, as staff see it: `subbot ledger --json` run through the CLI and read back, one row per
roster branch (or unknown sender) and deliverable. Shared by the tests that check standings after mail or commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main


def ledger(settings: Path, capsys: pytest.CaptureFixture[str]) -> dict[tuple[str, str], dict[str, Any]]:
    capsys.readouterr()
    assert main(["--settings", str(settings), "ledger", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {(row["branch"], row["deliverable"]): row for row in rows}
