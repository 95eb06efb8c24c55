"""docs/BENCHMARKS.md, written section by section: a section the bench measured replaces its old text,
the others (e.g. `## Reading plan forms` of bench_forms.py) stay."""

from __future__ import annotations

from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"
HEAD = "# Benchmarks\n\nWritten by `make bench`.\n\n"


def write_section(title: str, body: str, report: Path = REPORT) -> None:
    heading = f"## {title}"
    old = report.read_text(encoding="utf-8") if report.exists() else HEAD
    text = f"{heading}\n\n{body.strip()}\n"
    before, found, after = old.partition(heading + "\n")
    if not found:
        report.write_text(old.rstrip("\n") + "\n\n" + text, encoding="utf-8")
        return
    rest = after.split("\n## ", 1)
    tail = "\n## " + rest[1] if len(rest) > 1 else ""
    report.write_text(before.rstrip("\n") + "\n\n" + text + tail, encoding="utf-8")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
