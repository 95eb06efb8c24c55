"""`new_text`: what the sender wrote, in each client's way of quoting (as text/plain and as flattened HTML)."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from parsers.body import html_text
from parsers.quotes import new_text

TEMPLATES = Path(__file__).resolve().parents[1] / "replies" / "templates"
ORIGINAL = "石油工程专委会：\n\n中国石油学会科普咨询部已于 2021年05月03日 10:00 收到您的邮件\n请把方案作为附件发送"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "收到，谢谢！\n\n\n------------------&nbsp;原始邮件&nbsp;------------------\n"
            '发件人:      "科普部"      <kepu@example.org&gt;;\n发送时间:&nbsp;2021年5月9日(星期天) 上午9:00\n'
            '收件人:&nbsp;"北京石油学会"<bj@qq.com&gt;;\n\n主题:&nbsp;回复：方案\n\n' + ORIGINAL,
            "收到，谢谢！",
            id="qq-plain-with-entities",
        ),
        pytest.param(
            '收到\n\n------------------ Original ------------------\nFrom: "科普部"<kepu@example.org>;\n'
            'Date: Sun, May 9, 2021 09:00 AM\nTo: "x"<x@qq.com>;\nSubject: 回复：方案\n\n' + ORIGINAL,
            "收到",
            id="qq-english",
        ),
        pytest.param(
            '已收到\n\n\n在 2021-05-09 09:00:00，"科普部" <kepu@example.org> 写道：\n>石油工程专委会：\n>方案见附件',
            "已收到",
            id="163-wrote",
        ),
        pytest.param(
            "好的\n---- 回复的原邮件 ----\n| 发件人 | 科普部<kepu@example.org> |\n| 日期 | 2021年05月09日 09:00 |\n"
            + ORIGINAL,
            "好的",
            id="163-replied-message-table",
        ),
        pytest.param(
            "已读 ---- 回复的原邮件 ---- 发件人 科普部<kepu@example.org>",
            "已读 ---- 回复的原邮件 ---- 发件人 科普部<kepu@example.org>",
            id="163-marker-inside-a-line-is-not-a-marker",
        ),
        pytest.param(
            "收到，谢谢！\n\nliu_yue@foxmail.com\n \n发件人： 科普部\n发送时间： 2021-05-09 09:00\n收件人： liu_yue\n"
            "主题： 回复：方案\n" + ORIGINAL,
            "收到，谢谢！\n\nliu_yue@foxmail.com",
            id="foxmail-zh",
        ),
        pytest.param(
            "收到\n\n--------------\nliu_yue@foxmail.com\n\nFrom: 科普部\nDate: 2021-05-09 09:00\nTo: liu_yue\n"
            "Subject: 回复：方案\n" + ORIGINAL,
            "收到\n\n--------------\nliu_yue@foxmail.com",
            id="foxmail-en-after-dashes",
        ),
        pytest.param(
            "收到\n\n________________________________\n发件人: 科普部 <kepu@example.org>\n发送时间: 2021年5月9日 9:00\n"
            "收件人: a@b.cn\n主题: 回复：方案\n\n" + ORIGINAL,
            "收到",
            id="outlook-zh-rule",
        ),
        pytest.param(
            "收到\n\n-----原始邮件-----\n发件人: 科普部 [mailto:kepu@example.org] \n发送时间: 2021年5月9日 9:00\n\n"
            + ORIGINAL,
            "收到",
            id="outlook-zh-original",
        ),
        pytest.param(
            "Noted.\n\n-----Original Message-----\nFrom: 科普部 <kepu@example.org> \nSent: Sunday, May 9, 2021 9:00 AM\n"
            "To: a@b.cn\nSubject: 方案\n\n" + ORIGINAL,
            "Noted.",
            id="outlook-en-original",
        ),
        pytest.param(
            "Noted.\n\nFrom: 科普部 <kepu@example.org>\nSent: Sunday, May 9, 2021 9:00 AM\nTo: a@b.cn\n\n" + ORIGINAL,
            "Noted.",
            id="outlook-en-header-block-only",
        ),
        pytest.param(
            "收到\n\n发自我的iPhone\n\n> 在 2021年5月9日，09:00，科普部 <kepu@example.org> 写道：\n>\n> \ufeff石油工程专委会：",
            "收到",
            id="iphone-zh",
        ),
        pytest.param(
            "收到\n\n> 2021年5月9日 09:00，科普部 <kepu@example.org> 写道：\n>\n> 石油工程专委会：",
            "收到",
            id="iphone-date-first",
        ),
        pytest.param(
            "OK\n\nSent from my iPhone\n\n> On May 9, 2021, at 09:00, 科普部 <kepu@example.org> wrote:\n> \n> text",
            "OK",
            id="iphone-en",
        ),
        pytest.param(
            "收到\n\n科普部 <kepu@example.org> 于2021年5月9日周日 09:00写道：\n\n> 石油工程专委会：",
            "收到",
            id="gmail-zh",
        ),
        pytest.param(
            "OK\n\nOn Sun, May 9, 2021 at 9:00 AM 中国石油学会科普咨询部 <\nkepu@example.org> wrote:\n\n> text",
            "OK",
            id="gmail-en-wrapped-attribution",
        ),
        pytest.param(
            "收到\n\n在 2021/5/9 9:00, 科普部 写道:\n> 石油工程专委会：",
            "收到",
            id="thunderbird-zh",
        ),
        pytest.param(
            "收到\n\n发自我的华为手机\n\n\n-------- 原始邮件 --------\n发件人： 科普部 <kepu@example.org>\n"
            "日期： 2021年5月9日周日 上午9:00\n" + ORIGINAL,
            "收到",
            id="huawei",
        ),
        pytest.param("好的\n\n来自 网易邮箱大师", "好的", id="mail-master-signature"),
        pytest.param("好的\n\n发自手机QQ邮箱", "好的", id="qq-mobile-signature"),
        pytest.param("好的\n\nGet Outlook for Android", "好的", id="outlook-mobile-signature"),
        pytest.param("收到，谢谢！\n-- \n张喆\n第三支部", "收到，谢谢！", id="dash-signature"),
        pytest.param("-- \n张喆", "--\n张喆", id="a-delimiter-first-is-text"),
        pytest.param(
            "> 石油工程专委会：\n> 方案见附件\n\n收到，谢谢\n\n-- \n张喆",
            "收到，谢谢",
            id="bottom-posted-below-quote",
        ),
        pytest.param(
            "On Sun, May 9, 2021 at 9:00 AM 科普部 <kepu@example.org> wrote:\n> 方案见附件\n\n收到，下面是回复",
            "收到，下面是回复",
            id="bottom-posted-below-attribution",
        ),
        pytest.param(
            "好的，马上改\n\n石油工程专委会：\n\n中国石油学会科普咨询部已于 2021年05月03日 10:00（北京时间） 收到您的邮件"
            "（登记号 P2021-0002），但活动筹备方案还不能受理",
            "好的，马上改",
            id="our-reply-quoted-without-a-header",
        ),
        pytest.param("他在信中写道：\n方案很好", "他在信中写道：\n方案很好", id="writing-that-is-not-an-attribution"),
        pytest.param(
            "收到\n\n【免责声明】本邮件及其附件含有保密信息，仅限于发送给上面地址中列出的个人或群组。",
            "收到",
            id="confidentiality-notice",
        ),
        pytest.param("收到\n本邮件已收到，附件已阅", "收到\n本邮件已收到，附件已阅", id="not-a-notice"),
        pytest.param("第一段\n\n\n\n第二段\n\n", "第一段\n\n第二段", id="blank-runs"),
        pytest.param("", "", id="nothing"),
    ],
)
def test_new_text(body: str, expected: str) -> None:
    assert new_text(body) == expected


def test_new_text_of_a_flattened_html_reply() -> None:
    """QQ Mail's HTML: the quote is a <div> block with no '>', flattened by `html_text`."""
    markup = (
        "<div>收到，谢谢！</div><div><br></div><div>王玥</div><div><br></div>"
        '<div style="font-size: 12px;font-family: Arial Narrow;padding:2px 0 2px 0;">'
        "------------------&nbsp;原始邮件&nbsp;------------------</div>"
        '<div style="font-size: 12px;background:#efefef;padding:8px;"><div><b>发件人:</b>&nbsp;"科普部"'
        "&lt;kepu@example.org&gt;;</div><div><b>发送时间:</b>&nbsp;2021年5月9日(星期天) 上午9:00</div>"
        "<div><b>主题:</b>&nbsp;回复：方案</div></div><div><br></div><p>石油工程专委会：</p><p>方案见附件</p>"
    )
    text, _ = html_text(markup)
    assert new_text(text) == "收到，谢谢！\n\n王玥"


def test_new_text_of_a_flattened_blockquote_with_an_attribution() -> None:
    markup = (
        '<div>已收到</div><br>在 2021-05-09 09:00:00，"科普部"&nbsp;&lt;kepu@example.org&gt; 写道：<br>'
        "<blockquote><p>石油工程专委会：</p><p>方案见附件</p></blockquote>"
    )
    text, _ = html_text(markup)
    assert new_text(text) == "已收到"


@pytest.mark.parametrize("name", ["ack", "correction", "summary_ack", "summary_correction", "reminder"])
def test_each_reply_of_ours_quoted_bare_is_history(name: str) -> None:
    """Our templates' opening sentences are what `new_text` knows our replies by, when a client quotes them
    with no header: each rendered template, below a line of the sender's, is cut off."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    context = {
        "office": "中国石油学会科普咨询部",
        "arrived": "2021年05月03日 10:00",
        "branch": "第三支部",
        "days_left": 3,
    }
    for reason in ("missing", "correction"):
        rendered = env.get_template(f"{name}.txt").render(context, reason=reason, sender_name="第三支部")
        assert new_text("好的，马上改\n\n" + rendered) == "好的，马上改", rendered


def test_the_staff_digest_quoted_bare_is_history() -> None:
    """Staff answer the digest with commands; quoted with no header, it is cut from its heading on (the
    campaign's name above the heading stays: one line that commands nothing)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    context = {"campaign": "2021年石油科普活动", "day": "2021年5月10日", "arrivals_more": 0, "set_aside_more": 0}
    rendered = env.get_template("digest.txt").render(context, waiting_count=0, office="中国石油学会科普咨询部")
    assert "每日报送摘要 · 2021年5月10日" in rendered
    assert new_text("通过 P2021-0009 电话已确认\n\n" + rendered) == "通过 P2021-0009 电话已确认\n\n2021年石油科普活动"
