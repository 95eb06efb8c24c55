"""`subbot accept|ask|exempt|unexempt|assign|release|resend|note|done|forget`: staff overruling the bot from a terminal.
Each is carried out as the same command by mail would be (bot.staff.actions), under the poll lock, recorded in
the ledger with who and when, and answered in Chinese (or one JSON object with --json). Exit 0 when done, 1 when
refused (the ledger records the refusal too)."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import re
import sys
from collections.abc import Callable

from sqlalchemy.orm import Session

from bot.app import App
from bot.intake.examine import Release
from bot.intake.take import retake
from bot.staff.actions import Outcome, Staff, carry_out
from parsers.staff import Deliverable, StaffCommand, Verb

_RECEIPT = re.compile(r"^\s*([PSMpsm])\s*(\d{4})\s*-\s*(\d{1,7})\s*$")


def act(
    app: App,
    now: Callable[[], dt.datetime],
    verb: Verb,
    *,
    receipt: str | None = None,
    branch: str | None = None,
    deliverable: Deliverable | None = None,
    address: str | None = None,
    text: str = "",
    flags: frozenset[str] = frozenset(),
    as_json: bool = False,
) -> int:
    if receipt is not None and (receipt := _receipt(receipt)) is None:
        return _say(as_json, Outcome("", False, "回执号的格式应为 P2021-0009（筹备方案）、S2021-0012（活动总结）或 M2021-0007"))
    if branch is not None:
        found = app.roster.find_by_name(branch)
        if found is None:
            return _say(as_json, Outcome("", False, f"名单中没有单位「{branch}」（可用单位全称或别名）"))
        branch = found.name
    if address is not None:
        address = address.strip().strip("<>").lower()
        if "@" not in address:
            return _say(as_json, Outcome("", False, f"“{address}”不是邮箱地址"))
    line = " ".join(part for part in (verb, receipt, branch, deliverable, address, text) if part)
    command = StaffCommand(verb, receipt, branch, deliverable, text, line, frozenset(flags), address)  # type: ignore[arg-type]
    staff = Staff(app.ctx, app.services.letterhead, f"命令行（{getpass.getuser()}）", "cli", now())
    # Under the poll lock: a poll taking in the same mail, or flushing the same outbox, waits.
    with app.poll_lock.hold(wait=True):
        with Session(app.engine) as session, session.begin():
            outcome = carry_out(session, command, staff)
            if outcome.retake is not None:
                retake(session, outcome.retake, app.services, staff.now, Release(outcome.branch))
        app.flush_outbox(now)
    return _say(as_json, outcome)


def _receipt(text: str) -> str | None:
    match = _RECEIPT.match(text)
    if match is None:
        return None
    letter, year, number = match.groups()
    return f"{letter.upper()}{year}-{int(number):04d}"


def _say(as_json: bool, outcome: Outcome) -> int:
    if as_json:
        print(json.dumps({"done": outcome.done, "message": outcome.said}, ensure_ascii=False))
    else:
        print(("已完成：" if outcome.done else "未执行：") + outcome.said, file=sys.stdout if outcome.done else sys.stderr)
    return 0 if outcome.done else 1
