"""Every mail in tests/fixtures/intent/ reads, through `parse_message` and `read_mail_intent`, as the kind and
new text written beside it; and the decision table's rows, one at a time, on the shortest mails that show them.

The mails and their answers come from tests/fixtures/intent/make_intent.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from parsers.intent import Intent, read_intent, read_mail_intent
from parsers.message import parse_message

MAILS = Path(__file__).parent / "fixtures" / "intent"
CASES = sorted(MAILS.glob("*.eml"))
KINDS = ("thanks", "question", "link", "claims_submission", "empty", "other")

ACK_SUBJECT = "回复：第三支部筹备方案（已收到，回执号 P2021-0001）"
CORRECTION_SUBJECT = "回复：第三支部筹备方案（请修改后重新发送，登记号 P2021-0002）"
REMINDER_SUBJECT = "【提醒】请于5月6日前报送活动筹备方案"


def reply(text: str, subject: str = ACK_SUBJECT, links: tuple[str, ...] = (), files: bool = False) -> Intent:
    return read_intent(subject, text, links, "<P2021-0001.abc@example.org>", files)


def new_mail(text: str, subject: str = "", links: tuple[str, ...] = (), files: bool = False) -> Intent:
    return read_intent(subject, text, links, "", files)


def test_there_are_golden_intent_mails_of_every_kind() -> None:
    kinds = [json.loads(p.with_suffix(".expected.json").read_text(encoding="utf-8"))["kind"] for p in CASES]
    assert len(CASES) >= 25
    assert set(kinds) == set(KINDS)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_intent(path: Path) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    mail = parse_message(path.read_bytes())
    assert not mail.problems
    intent = read_mail_intent(mail)
    assert (intent.kind, intent.text) == (expected["kind"], expected["text"]), intent.reason
    assert list(intent.links) == expected.get("links", [])
    assert intent.reason


@pytest.mark.parametrize(
    "text",
    [
        "收到，谢谢！",
        "好的",
        "OK",
        "ok",
        "好",
        "嗯嗯",
        "👍",
        "[抱拳]",
        "已阅",
        "辛苦了！",
        "收到，谢谢老师！",
        "张老师，收到，谢谢！",
        "北京石油学会：收到，谢谢！",
        "科普部的老师们好：\n收到，谢谢！",
        "北京石油学会张老师：收到，顺颂商祺",
        "收到，谢谢！\n\n张喆\n第三支部 宣传委员\n手机：13800138000",
        "收到，谢谢！\n此致\n敬礼\n北京石油学会\n2021年5月9日",
        "Thanks, Zhang Wei",
        "好的，马上改",
        "收到，我们会尽快报送",
        "已收到。\n\nliu_yue@foxmail.com",
    ],
)
def test_acknowledgements_are_thanks(text: str) -> None:
    intent = reply(text)
    assert intent.kind == "thanks", intent.reason
    assert intent.text == text


@pytest.mark.parametrize(
    "text",
    [
        "收到，明天到",  # news for staff, not a signature
        "收到，没什么问题",
        "您好",  # a greeting acknowledges nothing
        "OK, we will come tomorrow",
        "我们支部联系人换成李玥了，电话13912345678。",
    ],
)
def test_acknowledgement_with_anything_else_is_for_a_person(text: str) -> None:
    assert reply(text).kind == "other"


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("请问第三阶段的座谈会能否延到7月2日举办？", "请问"),
        ("座谈会可以延期吗", "吗"),
        ("不知道第三阶段能不能安排在7月初", "能不能"),
        ("规模怎么填", "怎么"),
        ("我们支部的座谈会想改到7月2日举办，麻烦帮忙调整一下。", "改到"),
        ("方案见附件，请问规模可以填区间吗？", "请问"),  # a question wins over a claim
        ("Is the third stage online?", "?"),
    ],
)
def test_questions_and_requests_are_for_a_person(text: str, word: str) -> None:
    intent = reply(text)
    assert intent.kind == "question"
    assert repr(word) in intent.reason


def test_a_title_in_quotes_asks_nothing() -> None:
    assert new_mail("附件是《石油从哪里来？》科普讲座的方案，请查收", "第三支部方案").kind == "claims_submission"
    assert new_mail("", "“什么是页岩气”活动方案").kind == "claims_submission"


def test_a_question_mark_inside_a_link_asks_nothing() -> None:
    link = "https://pan.baidu.com/s/1abc?pwd=k8q2"
    assert new_mail(f"方案：{link}", "第三支部方案", (link,)).kind == "link"
    assert reply("收到，谢谢 https://example.com/?a=1", links=("https://example.com/?a=1",)).kind == "thanks"


def test_a_new_mail_asking_in_its_subject_only_is_a_question() -> None:
    assert new_mail("", "请问第三阶段能否线上举办").kind == "question"
    # A reply's subject is the thread's, not the sender's words.
    assert reply("收到", "回复：请问第三阶段能否线上举办").kind == "thanks"


@pytest.mark.parametrize(
    "link",
    [
        "https://mail.qq.com/cgi-bin/ftnExs_download?t=exs_ftn_download&k=2b61&code=eaac8a28",
        "https://wx.mail.qq.com/ftn/download?func=3&k=abc",
        "https://mail.163.com/large-attachment-download/index.html?p=X-NETEASE-HUGE-ATTACHMENT&file=Sy2W",
        "http://fs.163.com/fs/display/?p=X-NETEASE-HUGE-ATTACHMENT&file=Xt9C",
        "https://pan.baidu.com/s/1xYz-AbC9dEf?pwd=k8q2",
        "https://share.weiyun.com/5kQ2xYbA",
        "https://www.aliyundrive.com/s/abc",
    ],
)
def test_cloud_links_instead_of_a_file_are_links(link: str) -> None:
    intent = new_mail(f"方案在这里：{link}", "第三支部方案", (link,))
    assert intent.kind == "link"
    assert intent.links == (link,)


def test_a_link_with_files_attached_is_not_a_link_answer() -> None:
    link = "https://pan.baidu.com/s/1xYz"
    assert new_mail(f"方案见附件，照片：{link}", "第三支部方案", (link,), files=True).kind == "claims_submission"


def test_links_in_the_quote_are_not_sent() -> None:
    link = "https://pan.baidu.com/s/1xYz"
    body = f"收到，谢谢\n\n> 本次收到：\n> 链接 1 个：\n>   drive：{link}"
    assert reply(body, links=(link,)).kind == "thanks"


def test_a_link_only_in_the_html_counts_and_a_client_block_below_the_quote_counts() -> None:
    href = "https://mail.163.com/large-attachment-download/index.html?p=X&file=Y"
    assert new_mail("方案见云附件", "第三支部方案", (href,)).links == (href,)
    ftn = "https://mail.qq.com/cgi-bin/ftnExs_download?k=1&code=2"
    body = (
        "改好了，文件太大用的超大附件\n\n------------------ 原始邮件 ------------------\n发件人: x <a@b>\n"
        f"发送时间: 2021年5月9日\n主题: x\n\n石油工程专委会：\n\n从QQ邮箱发来的超大附件\n\n方案.docx (21M)进入下载页面：{ftn}"
    )
    intent = reply(body, CORRECTION_SUBJECT, (ftn,))
    assert (intent.kind, intent.links, intent.text) == ("link", (ftn,), "改好了，文件太大用的超大附件")


def test_naming_a_drive_without_a_link_is_a_link() -> None:
    assert reply("方案放在百度网盘了，提取码 k8q2", CORRECTION_SUBJECT).kind == "link"


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("方案见附件。", ""),
        ("附件是我们支部的筹备方案，请查收。", "第十三支部方案"),
        ("", "第三支部筹备方案"),
        ("谢谢！", "第三支部筹备方案"),  # a thank-you under a subject that says what should be attached
        ("", "Fw: 第三支部活动方案"),
    ],
)
def test_a_new_mail_that_says_it_carries_the_plan_is_corrected(text: str, subject: str) -> None:
    assert new_mail(text, subject).kind == "claims_submission"


@pytest.mark.parametrize(
    "text", ["收到，谢谢！附件已修改，请查收。", "好的，已经修改好了", "修改稿发您了", "方案已重新发送"]
)
def test_a_reply_that_says_it_carries_the_plan_is_corrected(text: str) -> None:
    assert reply(text, CORRECTION_SUBJECT).kind == "claims_submission"


def test_a_promise_of_a_file_is_not_a_claim() -> None:
    assert reply("我们明天报送方案").kind == "other"  # no acknowledgement: a person reads it
    assert reply("收到，总结稍后补发").kind == "thanks"
    assert reply("收到，谢谢！我们的活动总结稍后发送").kind == "thanks"
    assert reply("收到，总结已发").kind == "claims_submission"


def test_a_reply_with_nothing_written_depends_on_what_it_answers() -> None:
    assert reply("", CORRECTION_SUBJECT).kind == "claims_submission"
    assert reply("", REMINDER_SUBJECT).kind == "claims_submission"
    assert reply("", ACK_SUBJECT).kind == "other"
    assert reply("", "回复：关于座谈会").kind == "other"


def test_the_reply_subject_is_the_threads_not_a_claim() -> None:
    # 「筹备方案」 is in the subject of every reply to our acknowledgement.
    assert reply("我们支部的联系人换了", ACK_SUBJECT).kind == "other"


def test_a_new_mail_with_nothing_is_empty_and_a_reply_prefix_makes_a_reply() -> None:
    assert new_mail("").kind == "empty"
    assert new_mail("", "第三支部").kind == "empty"
    assert new_mail("\n\n发自我的iPhone").kind == "empty"
    assert new_mail("", "Re: ").kind == "empty"  # a subject of nothing but 「Re:」 says nothing


def test_files_without_a_document() -> None:
    assert new_mail("", "第三支部", files=True).kind == "claims_submission"
    assert new_mail("您好", "", files=True).kind == "claims_submission"
    assert reply("收到，谢谢", files=True).kind == "other"  # a thank-you with a picture: a person looks
    assert reply("请问这样填可以吗", files=True).kind == "question"


def test_the_text_is_the_new_text() -> None:
    body = "收到，谢谢！\n\n-----原始邮件-----\n发件人: 科普部 <kepu@example.org>\n发送时间: 2021年5月9日 9:00\n\n方案见附件"
    intent = reply(body)
    assert (intent.kind, intent.text) == ("thanks", "收到，谢谢！")


def test_hostile_bodies_are_read_in_linear_time() -> None:
    """A line of 200,000 「已于」 took a minute before the bot's own opening was bounded; 10,000 drive links
    in a 3 MB body as long."""
    links = tuple(f"https://pan.baidu.com/s/{n}" for n in range(10_000))
    started = time.perf_counter()
    assert reply("已于" * 200_000).kind == "other"
    assert reply(("收到\n\n" + "x" * 3000 + "\n") * 1000, links=links).kind == "link"
    assert time.perf_counter() - started < 5
