"""The `subbot` command: staff-facing words in Chinese, exit codes for scripts.

Each command imports what it needs when it runs (`subbot --help` loads no configuration library, `check` no
database or mail library): a command is a process started often, by staff and by scripts."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config import Context
    from config.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "export" and args.xlsx is None and args.media is None:
        parser.error("export 需要 --xlsx FILE.xlsx 或 --media DIR（可同时给出）")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not args.verbose:  # the libraries' own chatter (each migration step, each scheduled run) only with -v
        for chatty in ("alembic", "apscheduler"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
    if args.command == "roster":  # checks the file it is given, whatever the settings name
        from bot.commands import roster

        return roster.check(args.file, args.json)
    from config import ConfigError, Context, load_campaign, load_roster
    from config.settings import load_settings

    try:
        settings = load_settings(args.settings)
        ctx = Context(
            load_campaign(args.campaign or settings.bot.campaign), load_roster(args.roster or settings.bot.roster)
        )
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 3
    if args.command == "check":
        from bot.commands import forms

        try:
            now = _clock(args.now, ctx.campaign.zone, lambda: dt.datetime.now(dt.UTC))
        except ValueError:
            print(f"--now 的时间格式应为 2021-05-05T09:00，而不是 {args.now}", file=sys.stderr)
            return 3
        return forms.check_files(ctx, args.files, args.json, args.annotate, now())
    if args.command == "form":
        from bot.commands import forms

        return forms.write_blank_form(ctx, args.out)
    return _mailbox_side(args, settings, ctx)


def _mailbox_side(args: argparse.Namespace, settings: Settings, ctx: Context) -> int:
    """The commands that need the ledger's database or the mail libraries."""
    from bot.app import build_app, build_services, utc_now

    try:
        now = _clock(args.now, ctx.campaign.zone, utc_now)
    except ValueError:
        print(f"--now 的时间格式应为 2021-05-05T09:00，而不是 {args.now}", file=sys.stderr)
        return 3
    if args.command == "inspect":
        from bot.commands import messages

        return messages.inspect(settings, build_services(settings, ctx), args.files, args.json, now())
    app = build_app(settings, ctx)
    if args.command in ("poll", "run"):
        from bot.commands import mail

        if args.command == "poll":
            return mail.poll(app, now, args.dry_run, args.reply_backlog)
        return mail.run(app, now, args.reply_backlog, args.roster or settings.bot.roster)
    if args.command == "retry":
        from bot.commands import messages

        return messages.retry(app, args.message, now)
    if args.command in STAFF_VERBS:
        from bot.commands.staff import act

        return act(
            app,
            now,
            args.command,
            receipt=getattr(args, "receipt", None),
            branch=getattr(args, "branch", None),
            deliverable=getattr(args, "deliverable", None),
            address=getattr(args, "address", None),
            text=getattr(args, "text", None) or getattr(args, "note", None) or "",
            flags=frozenset(flag for flag in ("notify", "add_address") if getattr(args, flag, False)),
            as_json=args.json,
        )
    if args.command == "remind":
        from bot.commands.remind import remind

        return remind(app, now, args.dry_run)
    if args.command in ("digest", "export"):
        from bot.commands import digest

        if args.command == "export":
            return digest.export(app, now, args.xlsx, args.media, args.json)
        return digest.send(app, now) if args.send else digest.preview(app, now, args.preview)
    from bot.commands import ledger

    return ledger.show_ledger(app, args.json)


def _clock(text: str | None, zone: dt.tzinfo, real: Callable[[], dt.datetime]) -> Callable[[], dt.datetime]:
    """The real clock, or a fixed instant from --now (read in the campaign's timezone) for rehearsals."""
    if not text:
        return real
    moment = dt.datetime.fromisoformat(text)
    fixed = moment if moment.tzinfo else moment.replace(tzinfo=zone)
    return lambda: fixed


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="subbot", description="活动计划与总结的邮件收取、检查与回复机器人")
    parser.add_argument("--settings", type=Path, help="设置文件（见 config/bot.example.toml；默认使用内置设置）")
    parser.add_argument("--campaign", type=Path, help="活动配置文件（默认使用内置的 config/campaign.toml）")
    parser.add_argument("--roster", type=Path, help="单位名单 .csv 或 .xlsx（默认使用内置的 config/roster.csv）")
    parser.add_argument("--now", help="按指定时间运行（演练用），如 2021-05-05T09:00")
    parser.add_argument("-v", "--verbose", action="store_true", help="输出调试日志")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="检查筹备方案文件（.docx/.pdf/.doc/.wps/.odt）")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.add_argument("--json", action="store_true", help="每个文件输出一行 JSON")
    check.add_argument(
        "--annotate",
        type=Path,
        metavar="OUT",
        help="把有问题的 .docx 表格写成带批注的副本（与回复邮件所附相同）：一个文件时 OUT 为 .docx 文件名，"
        "多个文件时 OUT 为文件夹",
    )
    form = commands.add_parser("form", help="生成空白的筹备方案表（.docx）")
    form.add_argument("--out", type=Path, required=True, metavar="FILE.docx")
    poll = commands.add_parser("poll", help="检查一次邮箱：登记、检查、回复")
    poll.add_argument("--dry-run", action="store_true", help="只读取和判断，不登记、不发送")
    poll.add_argument("--reply-backlog", action="store_true", help="首次运行时也回复邮箱中已有的邮件")
    run = commands.add_parser("run", help="持续运行，定时检查邮箱，直到收到停止信号")
    run.add_argument("--reply-backlog", action="store_true", help="首次运行时也回复邮箱中已有的邮件")
    ledger_cmd = commands.add_parser("ledger", help="各单位报送情况")
    ledger_cmd.add_argument("--json", action="store_true", help="每行一个 JSON 对象")
    retry = commands.add_parser("retry", help="重新处理一封处理失败的邮件")
    retry.add_argument("message", metavar="MSG", help="账本中的邮件编号、回执号或 SHA-256 前缀")
    remind = commands.add_parser("remind", help="向未报送或待修改的单位发送今天应发的提醒")
    remind.add_argument("--dry-run", action="store_true", help="只列出今天应提醒的单位，不发送")
    digest_cmd = commands.add_parser("digest", help="工作人员每日报送摘要：预览或立即发送")
    how = digest_cmd.add_mutually_exclusive_group(required=True)
    how.add_argument("--preview", type=Path, metavar="FILE.html", help="只生成 HTML 预览，不发送")
    how.add_argument("--send", action="store_true", help="立即发送今天的摘要（每个收件人每天只发一次）")
    export = commands.add_parser("export", help="导出汇总表（.xlsx），或各单位的总结照片、视频与文件")
    export.add_argument("--xlsx", type=Path, metavar="FILE.xlsx", help="汇总表")
    export.add_argument(
        "--media", type=Path, metavar="DIR", help="总结材料，按“单位/活动/文件”写入此文件夹（空文件夹或上次导出的文件夹）"
    )
    export.add_argument("--json", action="store_true", help="输出一行 JSON：写入了什么")
    _staff_parsers(commands)
    inspect = commands.add_parser("inspect", help="查看机器人如何理解一封 .eml 邮件（不登记、不回复）")
    inspect.add_argument("files", nargs="+", type=Path, metavar="MAIL.eml")
    inspect.add_argument("--json", action="store_true", help="每封邮件输出一行 JSON")
    roster = commands.add_parser("roster", help="单位名单").add_subparsers(dest="roster_command", required=True)
    roster_check = roster.add_parser("check", help="检查单位名单（.csv 或 .xlsx）：重名、重复邮箱、类型、邮箱格式")
    roster_check.add_argument("file", type=Path, metavar="FILE")
    roster_check.add_argument("--json", action="store_true", help="输出一行 JSON")
    return parser


STAFF_VERBS = ("accept", "ask", "exempt", "unexempt", "assign", "release", "resend", "note", "done", "forget")
_RECEIPT_HELP = "回执号或登记号，如 P2021-0009"


def _staff_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Staff overruling the bot: the same commands staff may send by mail, one a line."""

    def add(name: str, help_text: str, *, receipt: bool = True) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help_text)
        if receipt:
            parser.add_argument("receipt", metavar="RECEIPT", help=_RECEIPT_HELP)
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
        return parser

    accept = add("accept", "人工受理一份有问题的材料")
    accept.add_argument("--note", help="说明（记入账本，通知时告诉单位）")
    accept.add_argument("--notify", action="store_true", help="同时给单位发受理回执")
    ask = add("ask", "以工作人员的话给单位发修改意见（回复其邮件）")
    ask.add_argument("text", metavar="TEXT", help="要单位修改的内容")
    for name, help_text in (("exempt", "豁免某单位的某项材料（不再提醒）"), ("unexempt", "取消豁免")):
        parser = add(name, help_text, receipt=False)
        parser.add_argument("branch", metavar="BRANCH", help="单位名称或别名")
        parser.add_argument("deliverable", choices=("plan", "summary"), help="plan：筹备方案；summary：活动总结")
        parser.add_argument("--note", help="说明（记入账本）")
    assign = add("assign", "把一封名单外或被暂扣的来信记在某单位名下")
    assign.add_argument("branch", metavar="BRANCH", help="单位名称或别名")
    assign.add_argument("--add-address", dest="add_address", action="store_true", help="并把发件地址登记为该单位的地址")
    add("release", "放行一封被暂扣的来信（发件人未通过验证、转人工、已达回复上限），按普通来信处理")
    add("resend", "重发给某封来信的最后一封回复")
    note = add("note", "为一封来信添加备注")
    note.add_argument("text", metavar="TEXT")
    done = add("done", "标记一封转人工的来信为已处理")
    done.add_argument("--note", help="说明（记入账本）")
    forget = add("forget", "移除系统记下的单位地址（之后该地址的来信按名单外来信处理）", receipt=False)
    forget.add_argument("address", metavar="ADDRESS", help="邮箱地址")
    forget.add_argument("--note", help="说明（记入账本）")


if __name__ == "__main__":
    sys.exit(main())
