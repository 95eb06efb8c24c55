"""A 150-branch campaign for the digest tests: long Chinese names and addresses in a generated roster, the
shipped campaign, and a Maildir of their mails taken in by the real poll (forms written by the form writer).

Branch i sends, by i % 10: 0-5 an accepted plan (1-3 activities), 6 a form that needs correcting, 7 a mail
without attachment, 8 nothing, 9 an accepted plan after the deadline. Beside them: unknown senders, bounces,
an auto-reply, one message whose processing failed, and an SMTP server that is down (replies stuck).

`summarised` is a copy of it a month later: the first SUMMARIES branches with an accepted plan have sent their
activity summary (a document, photos, some a video, press and cloud-drive links), one of them photos only, and
the SMTP server is back."""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from servers.net import free_port
from summary_files import photo, summary_docx
from test_summary import MP4

from bot.app import App, build_app
from bot.demo import DOCX, Sample, write_message
from bot.forms.layout import form_layout
from bot.intake.poll import poll_once
from bot.intake.take import keep_raw, record_failure
from bot.mailbox.maildir import MaildirMailbox
from bot.mailbox.port import Fetched, MessageRef
from bot.outgoing.mailer import OutboxDir, SmtpMailer, SmtpSettings
from bot.outgoing.outbox import flush_outbox
from config import Context, load_campaign, load_roster
from config.campaign import default_campaign_path
from config.settings import load_settings
from parsers.form_writer import FormEntry, write_form

ZONE = dt.timezone(dt.timedelta(hours=8))
POLL_AT = dt.datetime(2021, 5, 9, 7, 30, tzinfo=ZONE)
DIGEST_AT = dt.datetime(2021, 5, 9, 8, 0, tzinfo=ZONE)
BRANCHES = 150
SUMMARY_POLL_AT = dt.datetime(2021, 6, 16, 7, 30, tzinfo=ZONE)
SUMMARY_DIGEST_AT = dt.datetime(2021, 6, 16, 8, 0, tzinfo=ZONE)
SUMMARIES = 45  # branches sending a summary: well over the forty activities the mail lists
JPEG = "image/jpeg"

PLACES = (
    "新疆维吾尔自治区",
    "内蒙古自治区",
    "黑龙江省大庆市",
    "广西壮族自治区",
    "宁夏回族自治区",
    "四川省成都市",
    "山东省东营市",
    "陕西省西安市",
    "甘肃省庆阳市",
    "天津市滨海新区",
    "辽宁省盘锦市",
    "河北省任丘市",
    "吉林省松原市",
    "青海省格尔木市",
    "西藏自治区",
)
FIELDS = (
    "石油地质与非常规油气勘探开发技术专业委员会",
    "海洋石油工程与深水钻完井技术分会",
    "石油炼制与化工新材料科普教育基地",
    "油气储运与长输管道安全运行工作委员会",
    "青年科技工作者创新创业与科学普及联合会",
    "石油学会",
    "油田开发与提高采收率技术专业委员会",
    "石油物探与测井技术科普工作委员会",
    "安全环保与节能减排专业委员会",
    "石油科技馆（全国科普教育基地）",
)
KINDS = ("分支机构", "地方学会", "科普教育基地")
STAGE_TIMES = ("第一阶段；5月12日—5月14日", "第二阶段；5月28日—5月29日", "第三阶段；6月8日—6月20日")
MODULES = (("团结引领", "为民服务"), ("建家办事",), ("开放合作", "表彰发布", "团结引领"), ("为民服务",))
PLAN = (
    "一、活动主题：众心向党、自立自强——弘扬石油精神和科学家精神。"
    "二、主要安排：邀请两院院士、老一辈石油科学家和一线青年科技工作者作专题报告，组织科技工作者走进中小学、"
    "社区和企业开展科普宣讲，举办油气勘探开发成果展览和开放日活动，发布本单位年度优秀科技工作者名单。"
    "三、时间地点：按阶段在本单位报告厅、科技馆和合作学校分场举办，线上同步直播。"
    "四、人员组织：本单位科协牵头，各专业委员会分工负责，志愿者团队协助。"
    "五、预期成效：增强科技工作者的荣誉感、使命感，营造尊重知识、尊重人才、尊重创造的良好氛围。"
)
# Long enough to test a table's wrapping, short enough to stay inside the 500-character soft limit.
assert len(PLAN) < 500


@dataclass(frozen=True)
class BigCampaign:
    app: App
    folder: Path
    settings: Path
    ctx: Context


def branch_name(i: int) -> str:
    name = f"{PLACES[i % len(PLACES)]}{FIELDS[i // len(PLACES) % len(FIELDS)]}"
    return name + "（科普教育与青少年科学素质提升工作办公室）" if i % 7 == 3 else name


def branch_address(i: int) -> str:
    return f"kepu.office.branch{i:03d}@science-popularization.petroleum-society-branch{i:03d}.example.org.cn"


def write_roster(path: Path) -> None:
    lines = ["name,kind,emails,aliases"]
    lines += [f"{branch_name(i)},{KINDS[i % 3]},{branch_address(i)}," for i in range(BRANCHES)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def title(n: int) -> str:
    return f"“众心向党 自立自强”石油精神与科学家精神进校园、进社区、进企业系列科普宣讲活动（第{n + 1}场）"


def _entry(i: int, n: int, mobile: str) -> FormEntry:
    cells = {
        "organiser": branch_name(i),
        "title": title(n),
        "co_organiser": f"{PLACES[i % len(PLACES)]}科学技术协会、中国石油天然气集团有限公司科技管理部",
        "time": STAGE_TIMES[(i + n) % 3],
        "venue": f"{PLACES[i % len(PLACES)]}石油科技馆三楼多功能报告厅及线上直播平台",
        "scale": "约300人",
        "contact.name": "欧阳玥琳",
        "contact.office_phone": "010-62067126",
        "contact.mobile": mobile,
        "contact.email": branch_address(i),
        "address": f"{PLACES[i % len(PLACES)]}石油大道科技园区创新路29号",
    }
    return FormEntry(cells, MODULES[(i + n) % len(MODULES)], ("科技工作者", "科协系统干部"), PLAN)


def samples(ctx: Context) -> list[Sample]:
    layout = form_layout(ctx.campaign)
    out: list[Sample] = []
    for i in range(BRANCHES):
        kind = i % 10
        if kind == 8:
            continue
        arrived = dt.datetime(2021, 4, 28, 9, tzinfo=ZONE) + dt.timedelta(minutes=53 * i)
        if kind == 9:
            arrived = dt.datetime(2021, 5, 7, 9, tzinfo=ZONE) + dt.timedelta(minutes=17 * i)
        if kind == 7:
            out.append(Sample(branch_name(i), branch_address(i), "筹备方案", arrived, "方案请查收。"))
            continue
        mobile = "6206712" if kind == 6 else f"139{i:08d}"
        entries = [_entry(i, n, mobile) for n in range(1 + i % 3)]
        form = ((f"{branch_name(i)}-筹备方案表.docx", write_form(layout, entries), DOCX),)
        out.append(
            Sample(branch_name(i), branch_address(i), f"{branch_name(i)}活动筹备方案", arrived, "请查收。", form)
        )
    for n in range(3):
        arrived = dt.datetime(2021, 5, 5, 10 + n, tzinfo=ZONE)
        address = f"office{n}@a-very-long-unknown-municipal-association-domain.example.net"
        name = f"某某市科学技术协会学会学术部第{n + 1}办公室"
        entry = _entry(n, 0, f"139{n:08d}")
        entry = replace(entry, cells={**entry.cells, "organiser": name})  # no roster branch's name
        form = ((f"{name}-方案.docx", write_form(layout, [entry]), DOCX),)
        out.append(Sample(name, address, "我们也想报一个活动", arrived, "不在名单，方案见附件。", form))
    for n in range(2):
        arrived = dt.datetime(2021, 5, 8, 11 + n, tzinfo=ZONE)
        body = "This is the mail system. Your message could not be delivered."
        out.append(
            Sample(
                "Mail Delivery System",
                "MAILER-DAEMON@example.org",
                "Undelivered Mail Returned to Sender",
                arrived,
                body,
            )
        )
    auto = (("Auto-Submitted", "auto-replied"),)
    out.append(
        Sample(
            branch_name(5),
            branch_address(5),
            "自动回复：休假中",
            dt.datetime(2021, 5, 6, 12, tzinfo=ZONE),
            "休假中。",
            headers=auto,
        )
    )
    return out


def summary_samples() -> list[Sample]:
    """The first SUMMARIES branches with an accepted plan: even ones name their first activity, odd ones none
    (reported for all); every fifth adds a video, every third a cloud-drive link; the second sends photos only."""
    planned = [i for i in range(BRANCHES) if i % 10 in (0, 1, 2, 3, 4, 5, 9)][:SUMMARIES]
    out = []
    for n, i in enumerate(planned):
        arrived = dt.datetime(2021, 6, 1, 9, tzinfo=ZONE) + dt.timedelta(minutes=311 * n)
        heading = f"{title(0)}总结" if n % 2 == 0 else "活动总结"
        document = summary_docx(heading, f"{branch_name(i)}于5月举办活动，科技工作者和学生300余人参加。")
        files = [(f"{branch_name(i)}活动总结.docx", document, DOCX)] if n != 1 else []
        for k in range(2):
            taken = dt.datetime(2021, 5, 12 + k, 9 + n % 8, tzinfo=None)
            files.append((f"IMG_{n:03d}{k}.jpg", photo((n * 5 % 256, k * 120, 200 - n % 200), taken), JPEG))
        if n % 5 == 0:
            files.append(("现场视频.mp4", MP4 + bytes([n]), "video/mp4"))
        links = [f"https://mp.weixin.qq.com/s/kepu-branch{i:03d}-2021-summary-report"]
        if n % 3 == 0:
            links.append(f"https://pan.baidu.com/s/1kepu{i:03d}AbCdEfGhIjKlMnOp?pwd=k8s2")
        body = "总结和照片见附件。报道：" + "\n".join(links)
        out.append(Sample(branch_name(i), branch_address(i), f"{branch_name(i)}活动总结", arrived, body, tuple(files)))
    return out


def _deliver(inbox: Path, mails: list[Sample]) -> None:
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    for number, sample in enumerate(mails, start=1):
        path = inbox / "new" / f"{int(sample.arrived.timestamp())}.{number:04d}.big"
        path.write_bytes(write_message(sample))
        os.utime(path, (sample.arrived.timestamp(), sample.arrived.timestamp()))


def _smtp_down(app: App, now: dt.datetime) -> None:
    """The SMTP server is down: every reply is tried once and stays in the outbox."""
    down = SmtpMailer(SmtpSettings("127.0.0.1", free_port(), "", "", security="plain", timeout=5))
    flush_outbox(app.engine, down, "kepu@example.org", lambda: now)


def build(folder: Path) -> BigCampaign:
    """Write the roster, campaign and Maildir under `folder`, poll it once, try to send the replies."""
    folder.mkdir(parents=True, exist_ok=True)
    write_roster(folder / "roster.csv")
    shutil.copy(default_campaign_path(), folder / "campaign.toml")
    ctx = Context(load_campaign(folder / "campaign.toml"), load_roster(folder / "roster.csv"))
    inbox = folder / "inbox"
    _deliver(inbox, samples(ctx))
    settings = folder / "bot.toml"
    settings.write_text(
        f'[bot]\ndata_dir = "{folder / "data"}"\nfrom_address = "kepu@example.org"\n'
        f'campaign = "{folder / "campaign.toml"}"\nroster = "{folder / "roster.csv"}"\n\n'
        f'[mailbox]\ntype = "maildir"\npath = "{inbox}"\n\n'
        f'[smtp]\ntype = "outbox"\noutbox_dir = "{folder / "outbox"}"\n\n'
        '[digest]\nto = ["kepu@example.org", "yezhang.office@example.org"]\n',
        encoding="utf-8",
    )
    app = build_app(load_settings(settings, {}), ctx)
    with MaildirMailbox(inbox) as mailbox:
        poll_once(mailbox, app.engine, app.store, app.services, lambda: POLL_AT, reply_backlog=True)
    # A message the bot could not process, recorded as the poll's catch-all records it.
    broken = b"From: x\r\n\r\nnot really a message"
    fetched = Fetched(MessageRef("maildir:broken", 1, "broken-1"), broken, POLL_AT)
    record_failure(app.engine, fetched, keep_raw(app.store, fetched), "Traceback ...\nValueError: 无法解析的邮件结构", POLL_AT)
    _smtp_down(app, POLL_AT)
    return BigCampaign(app, folder, settings, ctx)


@functools.cache
def shared(base: Path) -> BigCampaign:
    """One build per test session (keyed by pytest's base temporary folder): the tests only read it."""
    return build(base / "big-campaign")


@functools.cache
def summarised(base: Path) -> BigCampaign:
    """The shared campaign copied (its ledger, data and settings) and, a month on, the summaries polled into it."""
    big = shared(base)
    folder = base / "big-campaign-summaries"
    big.app.engine.dispose()  # no connection holds the ledger's write-ahead log while it is copied
    shutil.copytree(big.folder, folder)
    settings = folder / "bot.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace(str(big.folder), str(folder)), encoding="utf-8")
    shutil.rmtree(folder / "inbox")  # the plans are in the ledger; the new inbox holds the summaries
    _deliver(folder / "inbox", summary_samples())
    app = build_app(load_settings(settings, {}), big.ctx)
    with MaildirMailbox(folder / "inbox") as mailbox:
        poll_once(mailbox, app.engine, app.store, app.services, lambda: SUMMARY_POLL_AT, reply_backlog=True)
    # The SMTP server is back: May's replies and the summaries' go out.
    flush_outbox(app.engine, OutboxDir(folder / "outbox"), "kepu@example.org", lambda: SUMMARY_POLL_AT)
    return BigCampaign(app, folder, settings, big.ctx)
