"""What staff write to the bot: whether a mail may command it (`staff_sender`), and the commands its new text
gives (`read_commands`), one a line, in Chinese or in English.

A line is a command when it begins with a command word of `VERBS` (a list bullet, 「1.」 or 「-」, may come
first) followed by what that command takes: receipts (P2021-0009), or a branch of the roster and a
deliverable. Lines that do not begin so are not read (greetings, signatures, 「谢谢」, prose that happens to
start with 「通过」 or 「注」), except a line that names a receipt at once (「P2021-0009 删除」, 「撤回 P2021-0009」):
staff meant something by it, so it is refused as a line not understood. A line that is a command but whose
receipt, branch or deliverable cannot be read is refused with the reason in Chinese; nothing is guessed.

The text is the new text of the mail (`parsers.quotes.new_text`): the digest staff answer is quoted below
their lines, and the digest prints the command that settles each item, which must not be taken as given."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from config.roster import name_key
from parsers.message import Mail

Verb = Literal["accept", "ask", "exempt", "unexempt", "assign", "release", "resend", "note", "done", "forget"]
Deliverable = Literal["plan", "summary"]
Flag = Literal["notify", "add_address"]

# Each command's words: the English one is the CLI's subcommand; the Chinese ones what staff write.
VERBS: dict[Verb, tuple[str, ...]] = {
    "accept": ("通过", "受理", "同意", "接受", "同意受理", "予以受理", "准予受理", "accept"),
    "ask": ("请修改", "要求修改", "退回", "退回修改", "请更正", "请补充", "驳回", "ask"),
    "exempt": ("豁免", "免报", "免交", "免于报送", "无需报送", "exempt"),
    "unexempt": ("取消豁免", "撤销豁免", "撤回豁免", "不再豁免", "恢复报送", "unexempt"),
    "assign": ("转给", "归属", "划给", "记为", "归入", "记入", "算作", "assign"),
    "release": ("放行", "解除", "释放", "解除暂扣", "取消暂扣", "release"),
    "resend": ("重发", "再发", "重新发送", "再次发送", "resend"),
    "note": ("备注", "注", "批注", "记录", "note"),
    "done": (
        "已处理",
        "已处理完毕",
        "处理完毕",
        "已办",
        "已办理",
        "已办结",
        "办结",
        "完成",
        "已完成",
        "已回复",
        "done",
    ),
    # An address the bot learned for a branch (bot.intake.senders), taken back: its later mail is an unknown
    # sender's again, and the bot does not learn it again by itself.
    "forget": ("移除地址", "删除地址", "撤销地址", "取消地址", "忘记地址", "forget"),
}
# How each is written, for the answer to staff. No real receipt in them: an answer quoted back in a way
# `new_text` misses must not command anything.
USAGE: dict[Verb, str] = {
    "accept": "通过 回执号 [说明] [并通知单位]",
    "ask": "请修改 回执号 要单位修改的内容",
    "exempt": "豁免 单位名称 筹备方案（或 活动总结） [说明]",
    "unexempt": "取消豁免 单位名称 筹备方案（或 活动总结）",
    "assign": "转给 单位名称 回执号 [并添加地址]",
    "release": "放行 回执号",
    "resend": "重发 回执号",
    "note": "备注 回执号 备注内容",
    "done": "已处理 回执号 [说明]",
    "forget": "移除地址 邮箱地址 [说明]",
}
DELIVERABLES: dict[Deliverable, tuple[str, ...]] = {
    "plan": ("筹备方案表", "筹备方案", "活动筹备方案", "活动方案", "方案", "活动计划", "计划", "plan"),
    "summary": ("活动总结表", "活动总结", "总结", "summary"),
}
# Words that switch on an option, each followed in the line by the end or a separator. After a negation
# (「不通知单位」) or a report of what was done (「已通知单位」) they switch nothing. In English only the CLI's
# options: 「we will notify them」 asks for nothing.
FLAGS: dict[Verb, tuple[Flag, tuple[str, ...]]] = {
    "accept": (
        "notify",
        ("并通知单位", "并通知对方", "并告知单位", "并通知", "并告知", "通知单位", "通知对方", "告知单位", "--notify"),
    ),
    "assign": (
        "add_address",
        (
            "并添加地址",
            "添加地址",
            "并添加邮箱",
            "添加邮箱",
            "并登记地址",
            "登记地址",
            "并加入名单",
            "加入名单",
            "--add-address",
        ),
    ),
}
_NOT_ASKED = ("不", "无需", "无须", "不用", "不必", "不要", "勿", "别", "暂不", "已", "已经", "--no-")

_BRANCH_VERBS = frozenset({"exempt", "unexempt"})
_NEED_TEXT: dict[Verb, str] = {"ask": "请写明要单位修改什么", "note": "请写明备注内容"}

# A receipt as `bot.ledger.queries.receipt_for` writes it, on the folded line: letter, year, number (padded
# to four digits when written shorter).
_RECEIPT = re.compile(r"(?<![a-z0-9])([psm]) ?(\d{4}) ?- ?(\d{1,7})(?![a-z0-9])")
# What a person means as one but is not: 「X2021-0009」, 「P21-9」, 「2021-0009」.
_RECEIPT_LIKE = re.compile(r"[a-z]{1,3} ?\d[\d\-]*|\d{2,}[\d\-]*")
# A line that names a receipt at once: first its first word (at most six characters), or the receipt itself.
_NAMES_RECEIPT = re.compile(r"^(?:\S{1,6} ?)?(?:[psm] ?\d{4} ?- ?\d)")
# On the folded line, where 「①」 is 「1」 and 「（1）」 is 「(1)」.
_BULLET = re.compile(r"^\s*(?:[-*•·]+|\d{1,2}[.、)]|\(\d{1,2}\)|\d{1,2}(?=\s))\s*")
_CLI = re.compile(r"subbot\s+")
_SEPARATORS = frozenset(" \t:,;、。.!?/|")
_CONNECTORS = ("以及", "和", "及", "与", "and", "&", "+")
_QUOTES = {"「": "」", "『": "』", "“": "”", '"': '"', "《": "》", "【": "】", "[": "]", "'": "'"}
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−﹣", "-"))
_LEAD_TRIM = " \t:：,，;；、.。"
_TAIL_TRIM = " \t:：,，;；、"
_MAX_LINE = 2000  # longer than any command; such a line is text, not read
# No one gives more commands in one mail; the lines after them are refused as one, and each refusal costs a
# look through the roster for the name staff may have meant.
MAX_COMMANDS = 200
_ADDRESS = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)+")
_ANY_DELIVERABLE = re.compile("|".join(sorted((w for ws in DELIVERABLES.values() for w in ws), key=len, reverse=True)))


@dataclass(frozen=True)
class StaffCommand:
    """One command: `line` is the line as written; `text` the staff's own words after the arguments."""

    verb: Verb
    receipt: str | None  # "P2021-0009", upper-case, the number padded to four digits
    branch: str | None  # the roster's name for the branch, whichever name or alias was written
    deliverable: Deliverable | None
    text: str
    line: str
    flags: frozenset[Flag] = frozenset()
    address: str | None = None  # `forget`'s address, lower-cased


@dataclass(frozen=True)
class Refusal:
    """A line that looks like a command but cannot be carried out as written."""

    line: str
    code: str  # bad_receipt, missing_receipt, receipt_position, missing_text, text_continues, unknown_branch,
    # ambiguous_branch, missing_branch, missing_deliverable, unknown_verb, too_many
    reason_zh: str  # for the answer to staff


CommandLine = StaffCommand | Refusal


@dataclass(frozen=True)
class StaffCheck:
    """Whether a mail may command the bot, and why: `reason` in English for the log, `reason_zh` for staff."""

    ok: bool
    address: str
    # The From is a staff address, vouched for or not: the mail is meant as commands (refused when not ok),
    # not a branch's mail for the ordinary walk.
    staff_address: bool
    method: str  # the required method that passed ("dmarc", "dkim"); "" when refused
    reason: str
    reason_zh: str


def staff_sender(mail: Mail, staff_addresses: Collection[str], require: Collection[str]) -> StaffCheck:
    """Pass only a mail From a staff address for whose domain the receiving server's Authentication-Results
    (as `parse_message` read them, with the trusted authserv-ids) say pass for one of `require`; a server's
    failure refuses it whatever else passed. Automatic replies and bounces carry no commands."""
    address = mail.sender.address
    staff = {a.strip().lower() for a in staff_addresses}
    check = mail.sender_check
    if not address or address not in staff:
        return StaffCheck(
            False, address, False, "", f"{address or 'no From'} is not a staff address", "发件地址不是工作人员地址"
        )
    if mail.kind != "submission":
        return _refused(address, f"{mail.kind} mail carries no commands", "自动回复或退信不是指令")
    if check.result == "fail":
        return _refused(
            address,
            f"the receiving server failed the sender: {check.reason}",
            f"收信服务器验证发件人未通过（{check.reason}），可能是冒名邮件",
        )
    wanted = [m.lower() for m in require]
    method = next((m for m in wanted if m in check.methods), "")
    if not method:
        return _refused(
            address,
            f"no {' or '.join(wanted)} pass for {address.rpartition('@')[2]} ({check.reason})",
            f"收信服务器没有证实这封邮件确由该地址发出（需要 {' 或 '.join(m.upper() for m in wanted)} 验证通过）",
        )
    return StaffCheck(True, address, True, method, f"staff {address}: {method}=pass", f"{method.upper()} 验证通过")


def _refused(address: str, reason: str, reason_zh: str) -> StaffCheck:
    """A staff address whose mail cannot be taken as from them."""
    return StaffCheck(False, address, True, "", reason, reason_zh)


def read_commands(text: str, branches: Mapping[str, Collection[str]]) -> tuple[CommandLine, ...]:
    """The commands and refusals of `text` (a staff mail's new text), in its order. `branches` maps each
    roster name to its aliases (`{b.name: b.aliases for b in roster.branches}`); names are compared as
    `config.roster.name_key` does, whatever their width, spacing or quotes."""
    names = _Names.of(branches)
    found: list[CommandLine] = []
    for raw in text.splitlines():
        if raw.strip() and len(raw) <= _MAX_LINE:
            if len(found) >= MAX_COMMANDS:
                reason = f"一封邮件最多执行 {MAX_COMMANDS} 条指令：从这一行起都没有执行，请分几封邮件发送"
                return (*found, Refusal(raw.strip(), "too_many", reason))
            found.extend(_read_line(_Line.of(raw.strip()), names))
    return tuple(found)


# --- one line ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """A line as written and folded (NFKC, lower-case, dashes as '-'), with each folded character's index in
    the written line, so that staff's words are given back as they wrote them."""

    raw: str
    folded: str
    at: tuple[int, ...]  # len(folded) + 1 entries; the last is len(raw)

    @classmethod
    def of(cls, raw: str) -> _Line:
        chars: list[str] = []
        at: list[int] = []
        for index, ch in enumerate(raw):
            for folded in unicodedata.normalize("NFKC", ch).translate(_DASHES).lower():
                chars.append(folded)
                at.append(index)
        return cls(raw, "".join(chars), (*at, len(raw)))

    def written(self, start: int, end: int | None = None) -> str:
        return self.raw[self.at[start] : self.at[len(self.folded) if end is None else end]]


@dataclass(frozen=True)
class _Names:
    keys: dict[str, frozenset[str]]  # name_key, lower-cased, to the roster names it stands for
    longest: int

    @classmethod
    def of(cls, branches: Mapping[str, Collection[str]]) -> _Names:
        keys: dict[str, set[str]] = {}
        for name, aliases in branches.items():
            for written in (name, *aliases):
                if key := name_key(written).lower():
                    keys.setdefault(key, set()).add(name)
        return cls({k: frozenset(v) for k, v in keys.items()}, max(map(len, keys), default=0))


def _read_line(line: _Line, names: _Names) -> list[CommandLine]:
    s = line.folded
    bullet = _BULLET.match(s)
    p = bullet.end() if bullet else 0
    if cli := _CLI.match(s, p):  # a CLI command pasted whole
        p = cli.end()
    verb, after = _verb_at(line, p)
    if verb is not None and _verb_ends(line, after, verb, names):
        return _command(verb, line, after, names, ())
    receipts, end = _receipts(line, p)
    if receipts:  # 「P2021-0009 通过 …」: the receipt first
        verb, after = _verb_at(line, _skip(s, end))
        if verb is not None and verb not in _BRANCH_VERBS and _verb_ends(line, after, verb, names):
            return _command(verb, line, after, names, receipts)
    if _NAMES_RECEIPT.match(s[p:]):
        return [_unknown_verb(line)]
    return []


def _verb_at(line: _Line, p: int) -> tuple[Verb | None, int]:
    """The longest command word at `p`, and where it ends."""
    best: tuple[Verb | None, int] = (None, p)
    for verb, words in VERBS.items():
        for word in words:
            if line.folded.startswith(word, p) and p + len(word) > best[1]:
                best = (verb, p + len(word))
    return best


def _verb_ends(line: _Line, at: int, verb: Verb, names: _Names) -> bool:
    """Whether the command word ends at `at` rather than runs on into a longer word (「通过率」, 「注意」,
    「accepted」): the line ends, a separator or quote follows, or what the command takes."""
    s = line.folded
    if at >= len(s) or s[at] in _SEPARATORS or s[at] in _QUOTES or s[at].isspace():
        return True
    if s[at - 1].isascii() and s[at].isascii() and (s[at].isalnum() or s[at] in "-_"):
        return False  # an English word goes on
    if _RECEIPT_LIKE.match(s, at) or (verb == "forget" and _ADDRESS.match(s, at)):
        return True
    return verb in _BRANCH_VERBS | {"assign"} and _branch_at(line, at, names)[0] is not None


def _command(verb: Verb, line: _Line, at: int, names: _Names, receipts: tuple[str, ...]) -> list[CommandLine]:
    if verb in _BRANCH_VERBS:
        return _on_branch(verb, line, _skip(line.folded, at), names)
    if verb == "assign":
        return _on_assign(line, _skip(line.folded, at), names, receipts)
    if verb == "forget":
        return _on_address(line, _skip(line.folded, at))
    return _on_receipts(verb, line, _skip(line.folded, at), receipts)


def _on_receipts(verb: Verb, line: _Line, p: int, given: tuple[str, ...]) -> list[CommandLine]:
    receipts, end = (given, p) if given else _receipts(line, p)
    if not receipts:
        refusal = _no_receipt(verb, line, p)
        return [refusal] if refusal else []
    text, flags = _text_and_flags(verb, line, end)
    if verb in _NEED_TEXT and not text:
        return [_refusal(line, "missing_text", _NEED_TEXT[verb], verb)]
    if verb == "ask" and line.folded.rstrip().endswith(":"):  # 「请修改 P2021-0009 以下几点：」 and a list below it
        return [_refusal(line, "text_continues", "要单位修改的内容请写在指令的同一行", verb)]
    return [StaffCommand(verb, r, None, None, text, line.raw, flags) for r in receipts]


def _on_branch(verb: Verb, line: _Line, p: int, names: _Names) -> list[CommandLine]:
    """「豁免 单位 筹备方案 [说明]」, or the deliverable first: 「豁免 活动总结 单位」."""
    first, after = _deliverables(line, p)
    branch, written, end = _branch_at(line, _skip(line.folded, after), names)
    if branch is None:
        refusal = _branch_refusal(verb, line, p, written, names)
        return [refusal] if refusal else []
    deliverables, end = (first, end) if first else _deliverables(line, end)
    if not deliverables:
        return [_refusal(line, "missing_deliverable", "请写明是筹备方案还是活动总结", verb)]
    text, flags = _text_and_flags(verb, line, end)
    return [StaffCommand(verb, None, branch, d, text, line.raw, flags) for d in deliverables]


def _on_assign(line: _Line, p: int, names: _Names, given: tuple[str, ...]) -> list[CommandLine]:
    """「转给 单位 回执号」 or 「转给 回执号 单位」 (or 「回执号 转给 单位」)."""
    receipts, end = (given, p) if given else _receipts(line, p)
    branch, written, end = _branch_at(line, _skip(line.folded, end), names)
    if branch is None:
        refusal = _branch_refusal("assign", line, p, written, names)
        return [refusal] if refusal else []
    if not receipts:
        receipts, end = _receipts(line, _skip(line.folded, end, also="的"))
    if not receipts:
        return [
            _no_receipt("assign", line, _skip(line.folded, end))
            or _refusal(line, "missing_receipt", "没有写回执号", "assign")
        ]
    text, flags = _text_and_flags("assign", line, end)
    return [StaffCommand("assign", r, branch, None, text, line.raw, flags) for r in receipts]


def _on_address(line: _Line, p: int) -> list[CommandLine]:
    """「移除地址 zhang.san@qq.com [说明]」."""
    s = line.folded
    match = _ADDRESS.match(s, _skip(s, p, also="<「“\"'"))
    if match is None:
        return [_refusal(line, "missing_address", "请写明要移除的邮箱地址", "forget")]
    end = match.end() + (1 if match.end() < len(s) and s[match.end()] in ">」”\"'" else 0)
    text, flags = _text_and_flags("forget", line, end)
    return [StaffCommand("forget", None, None, None, text, line.raw, flags, match.group(0))]


# --- arguments -----------------------------------------------------------------------------------


def _skip(s: str, p: int, also: str = "") -> int:
    while p < len(s) and (s[p] in _SEPARATORS or s[p].isspace() or s[p] in also):
        p += 1
    return p


def _receipts(line: _Line, p: int) -> tuple[tuple[str, ...], int]:
    """The receipts listed at `p` (「P2021-0009、P2021-0010 和 P2021-0011」), and where the last ends."""
    s = line.folded
    found: list[str] = []
    end = p
    while match := _RECEIPT.match(s, p):
        letter, year, number = match.groups()
        receipt = f"{letter.upper()}{year}-{int(number):04d}"
        if receipt not in found:
            found.append(receipt)
        end = match.end()
        p = _skip(s, end)
        word = next((w for w in _CONNECTORS if s.startswith(w, p)), "")
        p = _skip(s, p + len(word))
    return tuple(found), end


def _branch_at(line: _Line, p: int, names: _Names) -> tuple[str | None, str, int]:
    """The branch named at `p` (in quotes, or the longest roster name the text begins with), the name as
    written, and where it ends; (None, what was written there, p) when none matches."""
    s = line.folded
    if p < len(s) and s[p] in _QUOTES and (close := s.find(_QUOTES[s[p]], p + 1)) > p:
        written = line.written(p + 1, close)
        matched = names.keys.get(name_key(s[p + 1 : close]).lower(), frozenset())
        return (min(matched) if len(matched) == 1 else None), written, close + 1
    key = ""
    best: tuple[str | None, str, int] = (None, _candidate(line, p), p)
    for at in range(p, len(s)):
        if len(key) >= names.longest:
            break
        key = name_key(key + s[at]).lower()
        matched = names.keys.get(key, frozenset())
        if len(matched) == 1:
            best = (min(matched), line.written(p, at + 1), at + 1)
    return best


def _candidate(line: _Line, p: int) -> str:
    """What staff wrote where a branch name was expected: up to a separator, a deliverable or a receipt."""
    s = line.folded
    end = p
    while end < len(s) and end - p < 40 and s[end] not in _SEPARATORS and not s[end].isspace():
        if _RECEIPT.match(s, end) or any(s.startswith(w, end) for ws in DELIVERABLES.values() for w in ws):
            break
        end += 1
    return line.written(p, end).strip("「」『』“”\"《》【】[]'")


def _deliverables(line: _Line, p: int) -> tuple[tuple[Deliverable, ...], int]:
    """「筹备方案」, 「方案和总结」 at `p` (after an optional 「的」), and where they end."""
    s = line.folded
    found: list[Deliverable] = []
    end = p
    p = _skip(s, p, also="的")
    while found_at := _deliverable_at(s, p):
        kind, word = found_at
        if kind not in found:
            found.append(kind)
        end = p + len(word)
        p = _skip(s, end)
        connector = next((w for w in _CONNECTORS if s.startswith(w, p)), "")
        p = _skip(s, p + len(connector))
    return tuple(found), end


def _deliverable_at(s: str, p: int) -> tuple[Deliverable, str] | None:
    """The longest deliverable word at `p` (an English one as a whole word)."""
    best: tuple[Deliverable, str] | None = None
    for kind, words in DELIVERABLES.items():
        for word in words:
            runs_on = word.isascii() and p + len(word) < len(s) and s[p + len(word)].isalnum()
            if s.startswith(word, p) and not runs_on and (best is None or len(word) > len(best[1])):
                best = (kind, word)
    return best


def _text_and_flags(verb: Verb, line: _Line, p: int) -> tuple[str, frozenset[Flag]]:
    """Staff's own words after the arguments, as written, without the option words found in them."""
    s = line.folded
    flags: set[Flag] = set()
    cuts: list[tuple[int, int]] = []
    if verb in FLAGS:
        flag, words = FLAGS[verb]
        for word in sorted(words, key=len, reverse=True):
            at = _option_at(s, word, p, cuts)
            if at >= 0:
                flags.add(flag)
                cuts.append((at, at + len(word)))
    text = line.written(p)
    for start, end in sorted(cuts, reverse=True):
        text = text[: line.at[start] - line.at[p]] + text[line.at[end] - line.at[p] :]
    text = re.sub(r"^--note\s+", "", text.strip()).lstrip(_LEAD_TRIM).rstrip(_TAIL_TRIM)
    return text, frozenset(flags)


def _option_at(s: str, word: str, p: int, taken: list[tuple[int, int]]) -> int:
    at = s.find(word, p)
    while at >= 0:
        end = at + len(word)
        ends = end >= len(s) or s[end] in _SEPARATORS or s[end].isspace()
        starts = not word.isascii() or at == p or s[at - 1].isspace()
        negated = any(s[p:at].endswith(n) for n in _NOT_ASKED)
        if ends and starts and not negated and not any(a < end and at < b for a, b in taken):
            return at
        at = s.find(word, at + 1)
    return -1


# --- refusals ------------------------------------------------------------------------------------


def _refusal(line: _Line, code: str, reason: str, verb: Verb) -> Refusal:
    return Refusal(line.raw, code, f"{reason}。格式：{USAGE[verb]}")


def _no_receipt(verb: Verb, line: _Line, p: int) -> Refusal | None:
    """Why no receipt was read at `p`; None when the line is prose that begins with a command word
    (「同意，谢谢」), which is not read."""
    s = line.folded
    if like := _RECEIPT_LIKE.match(s, p):
        written = line.written(p, like.end())
        return _refusal(line, "bad_receipt", f"“{written}”不是回执号：回执号是 P、S 或 M 加年份和编号", verb)
    if _RECEIPT.search(s, p):
        return _refusal(line, "receipt_position", "回执号要紧跟在指令后面", verb)
    if _only_punctuation(s[p:]):
        return _refusal(line, "missing_receipt", "没有写回执号", verb)
    return None


def _branch_refusal(verb: Verb, line: _Line, p: int, written: str, names: _Names) -> Refusal | None:
    """Why no branch was read; None when the line is prose that begins with a command word (「豁免，是指……」):
    it names no deliverable or receipt and nothing like a roster name."""
    s = line.folded
    if not written:
        if _only_punctuation(s[p:]) or _deliverable_at(s, p):
            return _refusal(line, "missing_branch", "没有写单位名称", verb)
        return None
    key = name_key(written).lower()
    if len(names.keys.get(key, ())) > 1:
        return _refusal(line, "ambiguous_branch", f"“{written}”是名单中不止一个单位的名称", verb)
    close = difflib.get_close_matches(key, names.keys, n=1, cutoff=0.6)
    if close:
        return _refusal(line, "unknown_branch", f"名单中没有“{written}”，是否指“{min(names.keys[close[0]])}”", verb)
    if _RECEIPT.search(s, p) or _ANY_DELIVERABLE.search(s, p) or s[p] in _QUOTES:
        return _refusal(line, "unknown_branch", f"名单中没有“{written}”", verb)
    return None


def _only_punctuation(text: str) -> bool:
    return all(ch in _SEPARATORS or ch.isspace() or unicodedata.category(ch).startswith("P") for ch in text)


def _unknown_verb(line: _Line) -> Refusal:
    words = "、".join(words[0] for words in VERBS.values())
    return Refusal(line.raw, "unknown_verb", f"没有看懂这一行的指令；指令是一行开头的{words}之一，后接回执号或单位")
