"""What a mail without a plan or summary document is: a thank-you, a question, a cloud link, a submission
whose file is missing, an empty mail, or something else for a person.

Pure: it reads the subject, the body's new text (`parsers.quotes.new_text`: never the quoted earlier mail,
which is often the bot's own reply, full of 方案 and 附件), the links and whether the mail is a reply.
When unsure it says "other" (a person) rather than "claims_submission" (a correction): a missed correction
costs staff one line in the digest; a wrong one costs the office its credibility with the branch.

Decision table: the first row that holds decides. "Words" are the new text with links taken out; "topic"
is the subject without Re:/回复:/Fw: and without the bot's own 「（已收到，回执号 …）」 suffix; a mail is a
reply when it has In-Reply-To or its subject is Re:/回复:/答复: and more. Attachments are the mail's files
that are not inline (the caller has found no plan or summary document among them).

| # | when                                                                    | kind              | the bot         |
|---|-------------------------------------------------------------------------|-------------------|-----------------|
| 1 | the words ask (？ ? 请问 能否 可否 是否 怎么 如何 吗 呢 能不能 …) or ask for | question          | holds for staff |
|   | a change (改到 延期 推迟 调整为 …); in a new mail, the topic may ask too  |                   |                 |
| 2 | no attachment, and a cloud-drive or large-attachment link the sender    | link              | asks for the    |
|   | sent (in the new text, in the client's 超大附件/云附件 block, or only    |                   | file attached   |
|   | as a link target), or the words say 超大附件/云附件/网盘/微云/提取码      |                   |                 |
| 3 | the words claim a submission (方案 报送 附件 见附件 请查收 筹备 表格 总结  | claims_submission | today's         |
|   | 已修改 …), not as a promise (「明天报送」); in a new mail, the topic too; |                   | correction      |
|   | a reply with no words to the bot's correction or reminder; a new mail   |                   |                 |
|   | with files                                                              |                   |                 |
| 4 | no attachment, and the words are only acknowledgement (收到 谢谢 已收到  | thanks            | nothing         |
|   | 好的 OK 嗯 👍 辛苦了 已阅 …), greetings, a promise to fix (「马上改」),      |                   |                 |
|   | and the sender's name, unit or contact lines                            |                   |                 |
| 5 | a new mail with no words (whatever its topic, when it neither asks nor  | empty             | today's         |
|   | claims) and no files                                                    |                   | correction      |
| 6 | anything else: a reply with other words, a reply with no words to the   | other             | holds for staff |
|   | bot's acknowledgement, a new mail with words that neither ask nor claim |                   |                 |

Question comes before claim: 「方案见附件，请问规模可以填区间吗？」 is for a person even when its file is
missing. Link comes before claim: 「方案太大，用超大附件发送，请查收」 needs the link answer."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from parsers.links import classify_link
from parsers.message import Mail
from parsers.quotes import new_text

IntentKind = Literal["thanks", "question", "link", "claims_submission", "empty", "other"]

# Subjects: what clients put before a reply's or a forward's subject, and what the bot adds to its own.
_PREFIX = re.compile(r"^\s*(re|aw|回复|答复|回覆|答覆|fw|fwd|转发|轉寄|转寄)\s*(?:\[\d+\])?\s*[:：]\s*", re.IGNORECASE)
_REPLY_PREFIXES = frozenset({"re", "aw", "回复", "答复", "回覆", "答覆"})
_OUR_ACK = re.compile(r"[（(]\s*已收到[，,]\s*回执号[^）)]*[）)]")
_OUR_REQUEST = re.compile(r"[（(]\s*请(?:修改|补充)后重新发送[，,]\s*登记号[^）)]*[）)]|^【提醒】")

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
# Read on NFKC-folded, lower-cased text: full-width ？：，！ are ? : , ! there.
_QUESTION = re.compile(
    r"\?|请问|能否|可否|是否|能不能|可不可以|是不是|行不行|要不要|有没有|可以吗|怎么|怎样|如何|为什么|为何|(?<!没)什么|"
    r"哪|多少|何时|几号|吗|呢"
)
# Titles ask nothing: 「《石油从哪里来》科普讲座的方案」 names an activity.
_TITLES = re.compile(r"《[^》\n]{0,40}》|“[^”\n]{0,40}”|「[^」\n]{0,40}」|\"[^\"\n]{0,40}\"")
_CHANGE = re.compile(r"改到|改为|改在|改期|延到|延期|延后|推迟|推后|提前到|调整到|调整为|更改为|变更为|取消")
_LINK_WORDS = re.compile(r"超大附件|云附件|网盘|微云|提取码|中转站")
# A mail client's large-attachment block, appended under the whole mail (below the quote, too).
_CLIENT_BLOCK = re.compile(r"发来的(?:超大附件|云附件)")
_CLAIM = re.compile(
    r"见附件|附件|请查收|查收|方案|报送|筹备|表格|总结|报表|申报|材料|附上|"
    r"已(?:经)?(?:修改|更正|补充|上传|提交|发送|重新发送|补发|重发|报送|调整)|"
    r"(?:修改|改|更正|补充)(?:好|完)|修改(?:稿|版|后的)|重新发送|补发|重发|发(?:给)?(?:您|你)"
)
# A clause that speaks of the future (「总结稍后发送」, 「明天报送方案」) promises a file; it does not say one is here.
_FUTURE = re.compile(
    r"尽快|马上|立即|立刻|稍后|随后|回头|这就|明天|明日|后天|下周|晚些|晚点|过两天|改天|即将|将于|会尽快|我们会|我会"
)
# A promise in a thank-you (「好的，马上改」, 「收到，总结稍后补发」): short, about the future, and about sending.
_PROMISE = re.compile(
    r"^.{0,8}?(?:会|将)?(?:尽快|马上|立即|立刻|稍后|随后|这就|明天|今天|下午|晚些|晚点)(?:就|再)?"
    r"(?:修改|改|更正|补充|补发|重发|发送|发|提交|报送|处理)(?:一下|好|完)?.{0,4}$"
)
_SENTENCES = re.compile(r"[,.!?;:。、\n]+")

# Acknowledgement words first: at one place the first alternative wins, so 「谢谢老师」 thanks, 「张老师」 greets.
_LATIN = r"(?<![a-z])(?:{})(?![a-z])"
_COURTESY = re.compile(
    r"(?P<ack>已经收到|已收到|收到了|收到啦|收到|收悉|谢谢您|谢谢你|谢谢老师|谢谢|感谢您|感谢|多谢|辛苦您了|辛苦了|辛苦啦|"
    r"辛苦|好的|好滴|好哒|好嘞|嗯嗯|嗯|已阅|已读|知道了|明白了|明白|了解了|了解|没问题|"
    + _LATIN.format("okay|ok|thank you|thanks|thx|received|noted|got it")
    + r")|(?P<greeting>尊敬的[^,:\s]{0,12}|您好|你好|大家好|各位好|早上好|上午好|下午好|晚上好|"
    r"(?:^|(?<=[\s,:!.]))[\u4e00-\u9fff]{0,8}?(?:老师|领导|处长|主任|同志)们?好?|"
    + _LATIN.format("hi|hello|dear")
    + r")|(?P<closing>此致|敬礼|祝好|顺祝[^,\s]{0,4}|顺颂[^,\s]{0,2}|祝工作顺利|祝[^,.!\s]{0,6}(?:顺利|愉快|安康)|"
    + _LATIN.format("best regards|regards|best")
    + r")|(?P<short>谢|好)"
)
_EMOJI_CODE = re.compile(r"\[[^\]\s]{1,4}\]")  # QQ's and WeChat's 「[抱拳]」 「[强]」
_EMOJI_ACK = re.compile(r"👍|👌|🙏|🤝|\[(?:强|ok|抱拳|握手|好的|赞|胜利)\]")
_CLAUSES = re.compile(r"[\s,.!?;:。、~…\-—_*|()\[\]（）【】「」『』“”‘’\"'/\\<>《》=+]+")
_MAX_THANKS = 300
# The sender's words are at the top of a reply; only so much of a body is read for them.
_MAX_BODY = 100_000
# Cloud links looked for in the body: a mail's own are few; thousands are noise, each a search of the body.
_MAX_CLOUD_LINKS = 20
_MAX_LATIN_WORDS = 3  # 「Thanks, Zhang Wei」: a name; 「OK, we will come tomorrow」: a sentence

_CONTACT = re.compile(
    r"^(?:电话|手机|座机|tel|mobile|phone|邮箱|电子邮箱|email|e-mail|mail|地址|传真|fax|qq|微信|联系人|单位|部门)"
)
_DIGITS = re.compile(r"^[\d+()\s-]{5,}$")
_ADDRESS = re.compile(r"^\S+@\S+\.\S+$")
_DATE = re.compile(r"^\d{4}[年./-]\d{1,2}[月./-]\d{1,2}日?$")
_UNIT = re.compile(
    r"(?:学会|协会|分会|支部|委员会|专委会|公司|集团|大学|学院|研究院|研究所|中心|局|厅|处|科|部|办公室|办|站|馆|基地|"
    r"学校|中学|小学|油田|厂|室|主任|秘书长|秘书|处长|科长|部长|会长|主席|书记|经理|院长|所长|干事|工程师|老师)$"
)
_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
_LATIN_WORD = re.compile(r"^[a-z]{1,20}$")
# Characters of sentences, rarely of names: 「明天到」 is not a signature.
_NOT_IN_NAMES = frozenset("的了不把被要请没吗呢吧啊已将在到去来给让和与跟就还也都是么这那个们过着")
_MAX_UNIT = 24


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    reason: str  # English, for logs: which words decided
    text: str  # the sender's new text, for staff
    links: tuple[str, ...] = ()  # the cloud links, for kind "link"


def read_mail_intent(mail: Mail) -> Intent:
    """`read_intent` of a parsed mail; its inline parts (signature logos) are not attachments."""
    files = any(a.origin != "inline" for a in mail.attachments)
    return read_intent(mail.subject, mail.body_text, mail.links, mail.in_reply_to, files)


def read_intent(
    subject: str, body_text: str, links: tuple[str, ...], in_reply_to: str, has_attachments: bool
) -> Intent:
    """What a mail without a plan or summary document is (the decision table above)."""
    text = new_text(body_text[:_MAX_BODY])
    words = _fold(_URL.sub(" ", text))
    topic, reply_prefix, thread = _topic(subject)
    reply = bool(in_reply_to) or (reply_prefix and bool(topic))  # 「Re:」 alone says nothing
    said = [_TITLES.sub(" ", w) for w in ([words] if reply else [words, _fold(topic)])]
    if asked := _first(_QUESTION, said) or _first(_CHANGE, said):
        return Intent("question", f"asks: {asked!r}", text)
    if not has_attachments and (cloud := _cloud(body_text, text, links, words)):
        found, why = cloud
        return Intent("link", why, text, found)
    if claim := _claim(words):
        return Intent("claims_submission", f"claims a submission: {claim!r}", text)
    if not reply and (claim := _claim(_fold(topic))):
        return Intent("claims_submission", f"subject claims a submission: {claim!r}", text)
    if reply and not words.strip() and thread == "request":
        return Intent("claims_submission", "a reply with nothing written to our correction or reminder", text)
    if not reply and has_attachments:
        return Intent("claims_submission", "a new mail with files and no document", text)
    if not has_attachments and (acknowledged := _acknowledgement(words)):
        return Intent("thanks", f"acknowledgement only: {acknowledged!r}", text)
    if not reply and not words.strip():
        return Intent("empty", "a new mail with nothing written", text)
    if reply and not words.strip():
        return Intent("other", f"a reply with nothing written ({thread or 'no request of ours'})", text)
    return Intent("other", "a reply or mail that neither asks, claims, nor only thanks", text)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _topic(subject: str) -> tuple[str, bool, str]:
    """(topic, whether a reply prefix opened the subject, "ack" / "request" / "" for what of ours it answers)."""
    topic = subject.strip()
    replied = False
    while match := _PREFIX.match(topic):
        replied = replied or match.group(1).lower() in _REPLY_PREFIXES
        topic = topic[match.end() :]
    thread = "request" if _OUR_REQUEST.search(topic) else "ack" if _OUR_ACK.search(topic) else ""
    topic = _OUR_REQUEST.sub("", _OUR_ACK.sub("", topic)).strip()
    return topic, replied, thread


def _first(pattern: re.Pattern[str], texts: list[str]) -> str:
    for text in texts:
        if match := pattern.search(text):
            return match.group(0)
    return ""


def _claim(words: str) -> str:
    """The first claim word said of the present (not in a clause about the future), or ''."""
    for sentence in _SENTENCES.split(words):
        if (match := _CLAIM.search(sentence)) and not _FUTURE.search(sentence):
            return match.group(0)
    return ""


def _cloud(body: str, text: str, links: tuple[str, ...], words: str) -> tuple[tuple[str, ...], str] | None:
    block = _client_block(body)
    drives = [link for link in dict.fromkeys(links) if classify_link(link).kind == "drive"][:_MAX_CLOUD_LINKS]
    sent = tuple(link for link in drives if link in text or link in block or link not in body)
    if sent:
        hosts = ", ".join(dict.fromkeys(classify_link(link).host for link in sent))
        return sent, f"cloud link: {hosts}"
    said = _LINK_WORDS.search(words) or _LINK_WORDS.search(block)
    return ((), f"mentions a cloud link: {said.group(0)!r}") if said else None


def _client_block(body: str) -> str:
    """The large-attachment block QQ Mail or NetEase appends below the whole mail, or ''."""
    starts = [match.start() for match in _CLIENT_BLOCK.finditer(body)]
    if not starts:
        return ""
    block = body[starts[-1] :]
    return "" if any(line.lstrip().startswith(">") for line in block.splitlines()) else block


def _acknowledgement(words: str) -> str:
    """The acknowledgement words when the text is nothing else (greetings, a promise, a signature), or ''."""
    if len(words) > _MAX_THANKS:
        return ""
    found: list[str] = []
    for line in words.splitlines():
        found.extend(m.group(0) for m in _EMOJI_ACK.finditer(line))
        line = _without_emoji(line)
        found.extend(m.group(0) for m in _COURTESY.finditer(line) if m.lastgroup in ("ack", "short"))
        clauses = [clause for clause in _CLAUSES.split(_COURTESY.sub(" ", line)) if clause]
        latin = [clause for clause in clauses if _LATIN_WORD.match(clause)]
        if len(latin) > _MAX_LATIN_WORDS:
            return ""
        for clause in clauses:
            if clause not in latin and not (_PROMISE.match(clause) or _signature(clause, line)):
                return ""
    return ", ".join(dict.fromkeys(found))


def _without_emoji(line: str) -> str:
    line = _EMOJI_CODE.sub(" ", line)
    return "".join(" " if unicodedata.category(ch) in ("So", "Sk", "Mn", "Cf") else ch for ch in line)


def _signature(clause: str, line: str) -> bool:
    """A name, a unit or title, a date or a contact line: what a sender signs with."""
    whole = line.strip()
    if _CONTACT.match(whole) or _DIGITS.match(whole) or _ADDRESS.match(whole) or _DIGITS.match(clause):
        return True
    if _DATE.match(clause) or (_UNIT.search(clause) and len(clause) <= _MAX_UNIT):
        return True
    return bool(_NAME.match(clause)) and not _NOT_IN_NAMES.intersection(clause)
