"""The part of a reply its sender wrote: without the quoted earlier mail and without the client's signature lines.

Written here rather than taken from mail-parser-reply: its Chinese rules are marked untested, know neither
QQ Mail's 「原始邮件」 nor NetEase's 「回复的原邮件」 and 「在 … 写道：」, and take 「谢谢，」 for the start of a
signature, the very words a thank-you is made of.

The text it reads is what `parse_message` gives: the text/plain part, or the HTML flattened by
`parsers.body.html_text`, where a quoted <blockquote> has lost its `>` and only its header lines tell where
the quote starts. Chinese clients put the reply above the quote, so everything from the first quote header
on is history; `>`-quoted lines are dropped wherever they are, so a reply written below a quote is kept."""

from __future__ import annotations

import html
import re

# 「------------------ 原始邮件 ------------------」 (QQ Mail, phones), 「-----原始邮件-----」 (Outlook),
# 「---- 回复的原邮件 ----」 (163, 126, 网易邮箱大师), 「-------- Original Message --------」 (Thunderbird) ...
_MARKER = re.compile(
    r"^[-—_=*~\s]{2,}(?:原始邮件|原邮件|邮件原件|原始信息|回复的原邮件|回复的原始邮件|转发的原邮件|转发邮件|转发的邮件|"
    r"转发的消息|original message|original|replied message|reply message|forwarded message)[-—_=*~\s]{2,}$",
    re.IGNORECASE,
)
# Outlook's rule above its header block: a line of underscores.
_RULE = re.compile(r"^[_]{20,}$")
# 「在 2021-05-07 10:00:00，"名" <a@b> 写道：」 (163), 「2021年5月7日 10:00，名 <a@b> 写道：」 (iPhone),
# 「名 <a@b> 于2021年5月7日周五 10:00写道：」 (Gmail), 「On …, 名 <a@b> wrote:」: the line ends so and names a
# date or an address (「他在信中写道：」 does neither).
_ATTRIBUTION_END = re.compile(r"(?:写道|wrote)\s*[:：]$", re.IGNORECASE)
_ATTRIBUTION_START = re.compile(r"^(?:在|于|on\s|at\s|\d{4}[-/年])", re.IGNORECASE)
_MAX_ATTRIBUTION = 300
# No quote header is longer; longer lines are not looked at for one (a hostile line stays linear).
_MAX_HEADER_LINE = 1000
# Header blocks (Outlook, Foxmail, phones): a From line with a date, To or Subject line soon after it.
_FROM = re.compile(r"^[*|\s]*(?:发件人|寄件者|寄件人|from)\s*[:：]", re.IGNORECASE)
_HEADER = re.compile(
    r"^[*|\s]*(?:发送时间|发送日期|日期|时间|收件人|抄送|主题|sent|date|to|cc|subject)\s*[:：]", re.IGNORECASE
)
_HEADER_WINDOW = 5
# The bot's own replies quoted without any header (a client we do not know): their opening sentence, as
# replies/templates/*.txt write it (tests/test_quotes.py renders the templates to keep this true). The staff's
# digest too: staff answer it with commands, and it prints the command that settles each item.
_OUR_OPENING = re.compile(
    r"已于[^\n]{0,60}?收到您(?:报送的|的邮件)|^我们尚未收到贵单位的|^贵单位报送的[^\n]{0,60}?还需修改后才能受理|"
    r"^每日报送摘要\s*·"
)
_SALUTATION = re.compile(r"[:：]$")
_MAX_SALUTATION = 40
# What clients add under the text: 「发自我的iPhone」, 「发自我的华为手机」, 「来自网易邮箱大师」, 「发自手机QQ邮箱」,
# 「Sent from my iPhone」, 「Get Outlook for Android」, the line under 网易邮箱大师's signature card.
_DEVICE = r"(?:iphone|ipad|ios|android|安卓|手机|平板|移动端|客户端|邮箱大师|邮箱|mail|outlook|设备|邮件应用)"
_CLIENT_LINE = re.compile(
    rf"^(?:(?:发自|来自|寄自|发送自)\s*(?:我的)?\s*\S{{0,12}}?\s*{_DEVICE}\S{{0,8}}|"
    rf"从\s*(?:我的)?\s*\S{{0,12}}?\s*{_DEVICE}\s*\S{{0,8}}?\s*发送|sent from (?:my )?.{{1,30}}|"
    r"(?:get|获取)\s*outlook\s*for\s*(?:ios|android)|签名由\s*网易邮箱大师\s*定制)[。.!！]?$",
    re.IGNORECASE,
)
_MAX_CLIENT_LINE = 40
# The notice companies' servers add under every mail (「此电子邮件及其附件可能包含保密信息……」): it says 附件
# in every mail it is under.
_DISCLAIMER_START = re.compile(
    r"^[【\[(（]?\s*(?:免责声明|保密声明|声明|注意|提示|本邮件|此邮件|本电子邮件|此电子邮件|该邮件|"
    r"this (?:e-?mail|message)|disclaimer|confidentiality|notice)",
    re.IGNORECASE,
)
_DISCLAIMER_WORD = re.compile(r"保密|机密|秘密|指定收件人|非指定|免责|confidential|intended recipient", re.IGNORECASE)
_QUOTED = re.compile(r"^\s*(?:>|&gt;)")
_ENTITY = re.compile(r"&(?:nbsp|gt|lt|amp|quot|#\d+);")
_INVISIBLE = str.maketrans({"\ufeff": None, "\u200b": None, "\u200c": None, "\u200d": None, "\xa0": " "})
_ONLY_RULE = re.compile(r"^[-—_=*~\s]+$")


def new_text(body_text: str) -> str:
    """What the sender wrote in this mail: the quoted history, `>` lines, a `-- ` signature and the
    client's 「发自我的iPhone」 lines removed; blank lines at either end dropped and runs of them made one."""
    lines = _plain(body_text).split("\n")
    kept = _before_signature(_unquoted(lines[: history_start(lines)]))
    return _tidy([line for line in kept if not _client_line(line)])


def history_start(lines: list[str]) -> int:
    """The index of the first line of quoted history (a quote header, or our own reply quoted bare), or
    len(lines) when there is none."""
    for at, line in enumerate(lines):
        if _QUOTED.match(line) or len(line) > _MAX_HEADER_LINE:
            continue
        text = line.strip()
        if _MARKER.match(text) or _RULE.match(text) or _header_block(lines, at):
            return at
        attribution = _attribution(lines, at)
        if attribution is not None and not _quote_follows(lines, attribution + 1):
            return at
        if _OUR_OPENING.search(text):
            return _salutation_before(lines, at)
    return len(lines)


def _plain(text: str) -> str:
    # QQ Mail writes HTML entities into its text/plain part (「------------------&nbsp;原始邮件&nbsp;---」,
    # 「<kepu@example.org&gt;」); no one types them.
    if _ENTITY.search(text):
        text = html.unescape(text)
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)


def _header_block(lines: list[str], at: int) -> bool:
    if not _FROM.match(lines[at]):
        return False
    return any(_HEADER.match(line) for line in lines[at + 1 : at + 1 + _HEADER_WINDOW])


def _attribution(lines: list[str], at: int) -> int | None:
    """The index of the line that ends an attribution starting at `at` (itself, or the next line when a
    client wrapped it), or None."""
    line = lines[at].strip()
    if _ATTRIBUTION_END.search(line):
        return at if len(line) <= _MAX_ATTRIBUTION and _names_date_or_address(line) else None
    if at + 1 < len(lines) and _ATTRIBUTION_START.match(line):
        joined = line + lines[at + 1].strip()
        if _ATTRIBUTION_END.search(joined) and len(joined) <= _MAX_ATTRIBUTION and _names_date_or_address(joined):
            return at + 1
    return None


def _unquoted(lines: list[str]) -> list[str]:
    """Lines that are not `>`-quoted, nor the attribution above `>` lines (a reply written below its quote)."""
    kept: list[str] = []
    at = 0
    while at < len(lines):
        attribution = _attribution(lines, at)
        if attribution is not None:
            at = attribution + 1  # above history_start, so `>` lines follow it
            continue
        if not _QUOTED.match(lines[at]):
            kept.append(lines[at])
        at += 1
    return kept


def _names_date_or_address(text: str) -> bool:
    return "@" in text or any(ch.isdigit() for ch in text)


def _quote_follows(lines: list[str], at: int) -> bool:
    for line in lines[at:]:
        if line.strip():
            return bool(_QUOTED.match(line))
    return False


def _salutation_before(lines: list[str], at: int) -> int:
    before = at - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    if before >= 0 and _SALUTATION.search(lines[before].strip()) and len(lines[before].strip()) <= _MAX_SALUTATION:
        return before
    return at


def _before_signature(lines: list[str]) -> list[str]:
    """Lines above a `-- ` signature delimiter or a confidentiality notice that follows some text (one on
    the first line is not one)."""
    seen_text = False
    for at, line in enumerate(lines):
        if seen_text and (line.rstrip() == "--" or _disclaimer(line)):
            return lines[:at]
        seen_text = seen_text or bool(line.strip())
    return lines


def _disclaimer(line: str) -> bool:
    text = line.strip()
    return len(text) <= _MAX_HEADER_LINE and bool(_DISCLAIMER_START.match(text) and _DISCLAIMER_WORD.search(text))


def _client_line(line: str) -> bool:
    text = line.strip()
    return len(text) <= _MAX_CLIENT_LINE and bool(_CLIENT_LINE.match(text))


def _tidy(lines: list[str]) -> str:
    out: list[str] = []
    for line in (line.rstrip() for line in lines):
        if line.strip() or (out and out[-1]):
            out.append(line if line.strip() else "")
    while out and (not out[-1].strip() or _ONLY_RULE.match(out[-1])):
        out.pop()
    return "\n".join(out)
