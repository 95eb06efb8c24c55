"""Start-up as staff and scripts meet it, whole processes timed from outside: `subbot --help`, and `subbot check
--json` over 40 .docx forms beside the floor, a Python that imports python-docx and opens the same 40 files.
Prints medians and rewrites docs/BENCHMARKS.md's section. Targets: --help under 0.15 s; check ≤ 1.5× the floor."""

from __future__ import annotations

import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import table, write_section
from bench.workload import entry
from bot.forms.layout import form_layout
from config import load_campaign
from parsers.form_writer import write_form

ROOT = Path(__file__).resolve().parents[1]
SUBBOT = Path(sys.executable).with_name("subbot")
FILES = 40
ROUNDS = 7
SECTION = "Start-up"
FLOOR = "import sys, docx\nfor name in sys.argv[1:]:\n    docx.Document(name)\n"


def main() -> int:
    layout = form_layout(load_campaign())
    rng = random.Random(40)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = []
        for number in range(FILES):
            path = folder / f"方案{number:02d}.docx"
            path.write_bytes(write_form(layout, [entry(rng) for _ in range(rng.randint(1, 3))]))
            files.append(str(path))
        help_s = _median([str(SUBBOT), "--help"])
        pairs = [
            (_once([str(SUBBOT), "check", "--json", *files]), _once([sys.executable, "-c", FLOOR, *files]))
            for _ in range(ROUNDS)
        ]
    check_s = statistics.median(a for a, _ in pairs)
    floor_s = statistics.median(b for _, b in pairs)
    ratio = statistics.median(a / b for a, b in pairs)
    rows = [
        ["`subbot --help`", f"{help_s:.3f}", "< 0.15"],
        [f"`subbot check --json` over {FILES} .docx", f"{check_s:.3f}", ""],
        [f"floor: `import docx` and open the same {FILES} files", f"{floor_s:.3f}", ""],
        ["ratio check / floor", f"{ratio:.2f}", "≤ 1.5"],
    ]
    text = (
        f"`make bench` on {platform.machine()}, Python {platform.python_version()}; whole processes, wall time, "
        f"median of {ROUNDS} runs (check and floor in turn, the ratio taken pair by pair).\n\n"
        + table(["command", "seconds", "target"], rows)
    )
    print(text)
    write_section(SECTION, text)
    return 0


def _median(command: list[str]) -> float:
    return statistics.median(_once(command) for _ in range(ROUNDS))


def _once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
