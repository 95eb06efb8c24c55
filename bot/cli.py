"""The `subbot` command: staff-facing words in Chinese, exit codes for scripts."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from bot.check import CheckResult, check_document, result_json
from bot.convert import convert_to_docx, soffice_path
from bot.layout import form_layout
from bot.report import describe_result
from bot.rules import Context
from config import ConfigError, load_campaign, load_roster
from parsers.form_writer import write_form

EXIT_CODES = {"accepted": 0, "needs_correction": 1, "unreadable": 2}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        campaign = load_campaign(args.campaign)
        roster = load_roster(args.roster)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 3
    ctx = Context(campaign, roster)
    if args.command == "form":
        return _form(ctx, args.out)
    return _check(ctx, args.files, args.json)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="subbot", description="活动计划与总结的邮件收取、检查与回复机器人")
    parser.add_argument("--campaign", type=Path, help="活动配置文件（默认使用内置的 config/campaign.toml）")
    parser.add_argument("--roster", type=Path, help="单位名单 CSV（默认使用内置的 config/roster.csv）")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="检查筹备方案文件（.docx/.pdf/.doc/.wps/.odt）")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.add_argument("--json", action="store_true", help="每个文件输出一行 JSON")
    form = commands.add_parser("form", help="生成空白的筹备方案表（.docx）")
    form.add_argument("--out", type=Path, required=True, metavar="FILE.docx")
    return parser


def _form(ctx: Context, out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(write_form(form_layout(ctx.campaign)))
    print(f"已生成空白筹备方案表：{out}")
    return 0


def _check(ctx: Context, files: list[Path], as_json: bool) -> int:
    soffice = soffice_path()
    convert = partial(_convert, soffice=soffice) if soffice else None
    worst = 0
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            print(f"{path}：无法打开（{exc.strerror}）", file=sys.stderr)
            worst = max(worst, EXIT_CODES["unreadable"])
            continue
        result: CheckResult = check_document(data, path.name, ctx, convert)
        result = CheckResult(str(path), result.read, result.findings)
        if as_json:
            print(json.dumps(result_json(result), ensure_ascii=False))
        else:
            print(describe_result(result))
        worst = max(worst, EXIT_CODES[result.verdict])
    return worst


def _convert(data: bytes, kind: str, soffice: str) -> bytes:
    return convert_to_docx(data, kind, soffice)


if __name__ == "__main__":
    sys.exit(main())
