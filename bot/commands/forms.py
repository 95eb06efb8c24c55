"""`subbot check` and `subbot form`: forms without a mailbox."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from bot.forms.check import CheckResult, result_json
from bot.forms.convert import converter
from bot.forms.layout import form_layout
from bot.forms.report import describe_result
from bot.forms.sandbox import annotate_limited, cell_marks, check_limited
from config import Context

EXIT_CODES = {"accepted": 0, "needs_correction": 1, "unreadable": 2}


def write_blank_form(ctx: Context, out: Path) -> int:
    from parsers.form_writer import write_form  # python-docx, to write

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(write_form(form_layout(ctx.campaign)))
    print(f"已生成空白筹备方案表：{out}")
    return 0


def check_files(
    ctx: Context, files: list[Path], as_json: bool, annotate: Path | None = None, now: dt.datetime | None = None
) -> int:
    """`annotate`: where the annotated copies go (the file itself for one file, else a folder), as a correction
    would attach them; said on stderr with --json, so that stdout stays one JSON line a file."""
    convert = converter()
    worst = 0
    for path in files:
        try:  # the sandbox's worker opens and reads the file: a hostile one is held to its limits
            result = check_limited(path, path.name, ctx, convert)
        except OSError as exc:
            print(f"{path}：无法打开（{exc.strerror}）", file=sys.stderr)
            worst = max(worst, EXIT_CODES["unreadable"])
            continue
        if annotate is not None:
            from parsers.annotate import annotated_name  # python-docx: loaded only when asked to annotate

            target = annotate if len(files) == 1 and not annotate.is_dir() else annotate / annotated_name(path.name)
            said = write_annotated(path, result, ctx, target, now or dt.datetime.now(dt.UTC))
            print(said, file=sys.stderr if as_json else sys.stdout)
        result = CheckResult(str(path), result.read, result.findings)
        print(json.dumps(result_json(result), ensure_ascii=False) if as_json else describe_result(result))
        worst = max(worst, EXIT_CODES[result.verdict])
    return worst


def write_annotated(path: Path, result: CheckResult, ctx: Context, target: Path, now: dt.datetime) -> str:
    """The annotated copy written to `target` (made in the sandbox's worker); what became of it, for staff."""
    if not result.findings:
        return f"{path}：没有发现问题，无需批注"
    if not cell_marks(result):
        return f"{path}：只批注读出了表格的 .docx 文件（.doc、.wps、PDF 等不批注）"
    data = annotate_limited(path, result, ctx, now)
    if data is None:
        return f"{path}：未能生成批注文件（文件结构异常）"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return f"{path}：已写出批注文件 {target}"
