"""`subbot check` and `subbot form`: forms without a mailbox."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.forms.check import CheckResult, result_json
from bot.forms.convert import converter
from bot.forms.layout import form_layout
from bot.forms.report import describe_result
from bot.forms.sandbox import check_limited
from config import Context

EXIT_CODES = {"accepted": 0, "needs_correction": 1, "unreadable": 2}


def write_blank_form(ctx: Context, out: Path) -> int:
    from parsers.form_writer import write_form  # python-docx, to write

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(write_form(form_layout(ctx.campaign)))
    print(f"已生成空白筹备方案表：{out}")
    return 0


def check_files(ctx: Context, files: list[Path], as_json: bool) -> int:
    convert = converter()
    worst = 0
    for path in files:
        try:  # the sandbox's worker opens and reads the file: a hostile one is held to its limits
            result = check_limited(path, path.name, ctx, convert)
        except OSError as exc:
            print(f"{path}：无法打开（{exc.strerror}）", file=sys.stderr)
            worst = max(worst, EXIT_CODES["unreadable"])
            continue
        result = CheckResult(str(path), result.read, result.findings)
        print(json.dumps(result_json(result), ensure_ascii=False) if as_json else describe_result(result))
        worst = max(worst, EXIT_CODES[result.verdict])
    return worst
