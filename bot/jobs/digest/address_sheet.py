"""The 汇总表's 「单位地址（系统记下）」 sheet: every address the bot learned for a branch beyond the roster and that
staff have not taken back (bot.intake.senders) — the branch, the address, how it was learned, from which mail, when,
and the line that takes it back. The digest lists those learned since the last digest; the workbook keeps them all."""

from __future__ import annotations

from openpyxl.worksheet.worksheet import Worksheet

from bot import wording as w
from bot.jobs.digest.facts import LearnedFact
from bot.jobs.digest.model import Digest
from bot.jobs.digest.sheets import HEADER_ROWS, TIME_FORMAT, Cell, Header, body_row, finish, heading, stamp

SHEET_ADDRESSES = "单位地址（系统记下）"
HEADERS: list[Header] = [
    ("序号", "", 6.0),
    ("单位", "", 24.0),
    ("邮箱地址", "", 30.0),
    ("如何记下", "", 32.0),
    ("来自回执号", "", 13.0),
    ("记下时间", "", 19.0),
    ("如有误，回复一行", "", 36.0),
]
FORMATS = ["0", "@", "@", "@", "@", TIME_FORMAT, "@"]


def address_sheet(sheet: Worksheet, digest: Digest) -> None:
    known = digest.known_addresses
    subtitle = f"截至{stamp(digest.now)}　共{len(known)}个；这些地址的来信算作该单位的（名单中的地址不在此列）"
    heading(sheet, f"{digest.campaign}系统记下的单位地址", subtitle, HEADERS)
    widths = [h[2] for h in HEADERS]
    for number, fact in enumerate(known, start=1):
        body_row(sheet, HEADER_ROWS + number, address_values(number, fact), FORMATS, widths)
    finish(sheet, len(HEADERS), len(known), freeze="C5")


def address_values(number: int, fact: LearnedFact) -> list[Cell]:
    return [
        number,
        fact.branch,
        fact.address,
        w.LEARNED_HOW.get(fact.how, fact.how),
        fact.receipt or "",
        fact.at.replace(tzinfo=None),
        f"移除地址 {fact.address}",
    ]
