"""`python -m bot.demo DIR`: a Maildir inbox seeded with a dozen realistic submissions, and settings that
point the bot at it and at an outbox folder, so `make demo` runs the whole bot with no server."""

from __future__ import annotations

import base64
import datetime as dt
import io
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import docx

from bot.forms.layout import form_layout
from config import load_campaign
from parsers.form_writer import FormEntry, write_form

ZONE = dt.timezone(dt.timedelta(hours=8))
# A 1x1 JPEG: what a phone photo of a form looks like to the bot.
PHOTO = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////"
    "////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA="
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Sample:
    sender: str
    address: str
    subject: str
    arrived: dt.datetime
    body: str
    files: tuple[tuple[str, bytes, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()


DEMO_PLAN = "一、活动主题：众心向党，自立自强。\n二、主要安排：邀请老科学家作报告，组织青年科技工作者座谈。\n三、预期成效：弘扬科学家精神。"


def filled_entry(
    organiser: str,
    title: str,
    time: str,
    mobile: str = "13912345678",
    *,
    modules: tuple[str, ...] = ("团结引领", "为民服务"),
    plan: str = DEMO_PLAN,
    **extra: str,
) -> FormEntry:
    """One activity filled in right, as a branch would (the demo's, and the tests' starting point);
    `extra` overrides cells by label key, e.g. scale="视报名情况而定"."""
    cells = {
        "organiser": organiser,
        "title": title,
        "co_organiser": "无",
        "time": time,
        "venue": "北京市海淀区学院路20号",
        "scale": "约150人",
        "contact.name": "王玥",
        "contact.office_phone": "010-62067126",
        "contact.mobile": mobile,
        "contact.email": "wangyue@example.com",
        "address": "北京市海淀区学院路20号",
        **extra,
    }
    return FormEntry(cells, modules, ("科技工作者",), plan)


def summary_document(title: str, *paragraphs: str) -> bytes:
    """An activity summary as branches write one: a heading and a few paragraphs in Word."""
    document = docx.Document()
    document.add_heading(title, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def day(month: int, d: int, h: int = 10) -> dt.datetime:
    return dt.datetime(2021, month, d, h, 0, tzinfo=ZONE)


def samples() -> list[Sample]:
    layout = form_layout(load_campaign())

    def form(*entries: FormEntry) -> bytes:
        return write_form(layout, list(entries))

    return [
        Sample(
            "北京石油学会",
            "bjsyxh@example.com",
            "报送全国科技工作者日活动筹备方案",
            day(4, 28),
            "叶老师好，附件是我会的活动筹备方案，请查收。",
            (
                (
                    "北京石油学会-筹备方案.docx",
                    form(filled_entry("北京石油学会", "老科学家精神宣讲报告会", "第二阶段；5月28日")),
                    DOCX,
                ),
            ),
        ),
        Sample(
            "地质专委会 张堃",
            "dizhi.zwh@example.com",
            "石油地质专委会活动方案（两项）",
            day(4, 30),
            "两项活动，一项一表。",
            (
                (
                    "地质专委会筹备方案.docx",
                    form(
                        filled_entry("石油地质专业委员会", "地质科普进校园", "第一阶段；5月12日—5月14日"),
                        filled_entry("石油地质专业委员会", "青年地质工作者座谈会", "第三阶段；6月8日"),
                    ),
                    DOCX,
                ),
            ),
        ),
        Sample(
            "石油工程专委会",
            "gongcheng@example.com",
            "筹备方案",
            day(5, 3),
            "请审阅。",
            (
                (
                    "筹备方案.docx",
                    form(filled_entry("石油工程专业委员会", "钻井技术开放日", "第二阶段；6月8日", mobile="6206712")),
                    DOCX,
                ),
            ),
        ),
        Sample("四川省石油学会", "scsyxh@example.org", "活动方案", day(5, 4), "叶老师：方案见附件。"),
        Sample(
            "黑龙江省石油学会",
            "hljsyxh@example.net",
            "筹备方案（照片）",
            day(5, 4, 16),
            "手机拍的，请看看。",
            (("IMG_2041.jpg", PHOTO, "image/jpeg"),),
        ),
        Sample(
            "石油工程专委会",
            "gongcheng@example.com",
            "回复：筹备方案（已修改）",
            day(5, 5),
            "已按要求修改。",
            (
                (
                    "筹备方案-修改版.docx",
                    form(filled_entry("石油工程专业委员会", "钻井技术开放日", "第二阶段；5月28日—5月29日")),
                    DOCX,
                ),
            ),
        ),
        Sample(
            "某市科协",
            "office@kexie.example.net",
            "我们也想报一个活动",
            day(5, 5, 11),
            "我们不在名单里，但也想参加。",
            (("方案.docx", form(filled_entry("某市科学技术协会", "社区科普日", "第一阶段；5月20日")), DOCX),),
        ),
        Sample(
            "青年工作委员会",
            "qingnian@example.com",
            "自动回复：休假中",
            day(5, 5, 12),
            "您好，我正在休假，5月10日后回复。",
            headers=(("Auto-Submitted", "auto-replied"),),
        ),
        Sample(
            "石油炼制分会",
            "lianzhi@example.com",
            "筹备方案",
            day(5, 6, 9),
            "附件是方案表。",
            (("筹备方案表.docx", form(), DOCX),),
        ),
        Sample(
            "新疆石油学会",
            "xjsyxh@example.com",
            "新疆石油学会活动筹备方案（迟交）",
            day(5, 8),
            "抱歉晚了两天。",
            (
                (
                    "新疆石油学会.docx",
                    form(filled_entry("新疆石油学会", "石油精神主题展览", "第三阶段；6月10日—6月20日")),
                    DOCX,
                ),
            ),
        ),
        Sample(
            "Mail Delivery System",
            "MAILER-DAEMON@example.org",
            "Undelivered Mail Returned to Sender",
            day(5, 8, 11),
            "This is the mail system. I'm sorry to have to inform you that your message could not be delivered.",
        ),
        Sample(
            "胜利油田科技展览馆",
            "slzlg@example.com",
            "活动总结及照片",
            day(6, 15),
            "活动总结和现场照片见附件，新闻报道：https://news.example.com/2021/0606/kepu.html",
            (
                (
                    "活动总结.docx",
                    summary_document(
                        "胜利油田科技展览馆“全国科技工作者日”活动总结",
                        "6月6日，我馆举办“石油科技开放日”，接待科技工作者和市民300余人。",
                        "活动展示了油田科技成果，组织了科普讲解和互动体验。",
                    ),
                    DOCX,
                ),
                ("现场照片1.jpg", PHOTO, "image/jpeg"),
            ),
        ),
    ]


def conversation() -> list[Sample]:
    """Mail that is no submission, as branches write it (`make demo` adds it to the demo's mailbox): a thank-you
    under the receipt, a question, a cloud link instead of the file."""
    return [
        Sample(
            "北京石油学会",
            "bjsyxh@example.com",
            "回复：报送全国科技工作者日活动筹备方案（已收到，回执号 P2021-0001）",
            day(4, 29),
            "收到，谢谢！\n\n------------------ 原始邮件 ------------------\n发件人: \"中国石油学会科普咨询部\""
            "<kepu@example.org>;\n主题: 回复：报送全国科技工作者日活动筹备方案（已收到，回执号 P2021-0001）\n\n"
            "北京石油学会：中国石油学会科普咨询部已于 2021年04月28日 10:00（北京时间） 收到您报送的活动筹备方案。",
        ),
        Sample(
            "地质专委会 张堃",
            "dizhi.zwh@example.com",
            "回复：石油地质专委会活动方案（两项）（已收到，回执号 P2021-0002）",
            day(5, 1),
            "叶老师好，请问第三阶段的座谈会能否延到7月2日举办？",
        ),
        Sample(
            "大庆油田科技馆",
            "dqkjg@example.com",
            "大庆油田科技馆活动方案",
            day(5, 6, 15),
            "方案文件用超大附件发送，请下载：https://pan.baidu.com/s/1dqKjgPlan2021 提取码：qy21",
        ),
    ]


def write_message(sample: Sample) -> bytes:
    message = EmailMessage()
    message["From"] = f"{sample.sender} <{sample.address}>"
    message["To"] = "中国石油学会科普咨询部 <kepu@example.org>"
    message["Subject"] = sample.subject
    message["Date"] = format_datetime(sample.arrived)
    message["Message-ID"] = make_msgid(domain=sample.address.rpartition("@")[2])
    for name, value in sample.headers:
        message[name] = value
    message.set_content(sample.body)
    for name, data, content_type in sample.files:
        main, _, sub = content_type.partition("/")
        message.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return message.as_bytes()


def seed(folder: Path, extra: Sequence[Sample] = ()) -> Path:
    inbox = folder / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    for number, sample in enumerate([*samples(), *extra], start=1):
        path = inbox / "new" / f"{int(sample.arrived.timestamp())}.{number:03d}.demo"
        path.write_bytes(write_message(sample))
        # Maildir's delivery time is the file's: the bot judges lateness on it, as on IMAP INTERNALDATE.
        os.utime(path, (sample.arrived.timestamp(), sample.arrived.timestamp()))
    settings = folder / "bot.toml"
    settings.write_text(
        f'[bot]\ndata_dir = "{folder / "data"}"\nfrom_address = "kepu@example.org"\n\n'
        f'[mailbox]\ntype = "maildir"\npath = "{inbox}"\n\n'
        f'[smtp]\ntype = "outbox"\noutbox_dir = "{folder / "outbox"}"\n',
        encoding="utf-8",
    )
    return settings


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-out")
    print(f"演示邮箱已生成：{target / 'inbox'}，设置文件：{seed(target, conversation())}")
