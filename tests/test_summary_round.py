"""The summary round as staff see it, over a ledger filled by really polling summary mails from a Maildir: the
digest's section (text and HTML), the 汇总表's 「活动总结」 sheet re-read with openpyxl, and `subbot export --media`
(the tree, its names, the bytes mailed, the index workbook, repeats written once, run again, refused folders).

Four branches have accepted plans: 北京石油学会 sends a full summary with a repeated photo, a HEIC, a video and two
links; the geology committee sends its photos first (a correction: no summary document), then the document with
one photo again; the engineering committee's summary names neither of its two activities (both reported); 四川
sends nothing. 胜利油田科技展览馆 sends a summary with no accepted plan."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from summary_files import photo, summary_docx
from test_summary import BAIDU, BJ, DIZHI, MP4, WECHAT, Bot, _entry, at, with_plans

from bot import wording
from bot.cli import main
from bot.forms.layout import form_layout
from bot.jobs.digest.mail import current_digest
from bot.jobs.digest.model import Digest, build_digest
from bot.jobs.digest.query import read_snapshot
from bot.jobs.digest.rollup import write_rollup
from bot.jobs.digest.view import render_digest
from bot.jobs.export.names import MAX_BYTES, file_name, fit, folder_name, unique
from bot.jobs.export.tree import PART
from bot.ledger.database import MIGRATIONS, migrate, open_engine, sqlite_url
from bot.ledger.schema import ActivityRow, MediaRow, MessageRow, SummaryActivityRow
from bot.ledger.status import activity_progress
from config import Context
from parsers.form_writer import write_form

ZONE = dt.timezone(dt.timedelta(hours=8))
DIGEST_AT = at(6, 16, 9)
GONGCHENG = ("石油工程专委会", "gongcheng@example.com")
SICHUAN = ("四川省石油学会", "scsyxh@example.org")
SHENGLI = ("胜利油田科技展览馆", "slzlg@example.com")
DIZHI_PRESS = "https://mp.weixin.qq.com/s/dizhi-kepu-2021"
RED, GREEN, BLUE = (200, 30, 30), (30, 200, 30), (30, 30, 200)


@dataclass(frozen=True)
class Round:
    bot: Bot
    sent: dict[str, bytes]  # what each exported file must hold, by its expected path
    receipts: dict[str, str]  # by subject


@pytest.fixture(scope="module")
def round_(tmp_path_factory: pytest.TempPathFactory, ctx: Context) -> Round:
    bot = with_plans(tmp_path_factory.mktemp("round"), ctx)
    layout = form_layout(ctx.campaign)
    gongcheng = write_form(
        layout,
        [
            _entry("石油工程专业委员会", "钻井技术开放日", "第二阶段；5月28日—5月29日"),
            _entry("石油工程专业委员会", "采油工程科普讲座", "第二阶段；6月3日"),
        ],
    )
    sichuan = write_form(layout, [_entry("四川省石油学会", "油气科普进社区", "第一阶段；5月20日")])
    bot.send(GONGCHENG, "工程专委会筹备方案", at(5, 3), "请审阅。", ("方案.docx", gongcheng))
    bot.send(SICHUAN, "四川省石油学会筹备方案", at(5, 4), "请查收。", ("方案.docx", sichuan))
    assert all("已收到" in r.reply["Subject"] for r in bot.poll(at(5, 5)))

    experiment, blue, grey = photo(GREEN, dt.datetime(2021, 5, 12, 14, 0)), photo(BLUE), photo((90, 90, 90))
    dizhi_doc = summary_docx("地质科普进校园活动总结", "5月12日至14日走进三所中学。")
    bot.send(DIZHI, "地质科普进校园活动照片", at(6, 1), "照片先发，总结随后。",
             ("学生实验.jpg", experiment), ("IMG_0001.jpg", blue), ("img_0001.JPG", grey))  # fmt: skip
    bot.send(DIZHI, "地质科普进校园活动总结", at(6, 2), f"报道：{DIZHI_PRESS}",
             ("总结.docx", dizhi_doc), ("学生实验-再发.jpg", experiment))  # fmt: skip
    red, group, heic = photo(RED, dt.datetime(2021, 5, 28, 9, 30)), photo(GREEN, form="PNG"), photo(
        BLUE, dt.datetime(2021, 5, 28, 11, 0), "HEIC"
    )
    bj_doc = summary_docx(f"“{BJ[2]}”活动总结", "5月28日，我会举办报告会，150余人参加。")
    bot.send(BJ[:2], "北京石油学会活动总结", at(6, 10), f"公众号报道：{WECHAT}\n更多照片：{BAIDU} 提取码 k8s2",
             ("活动总结.docx", bj_doc), ("IMG_0001.jpg", red), ("IMG_0001(1).jpg", red), ("合影.png", group),
             ("IMG_0002.heic", heic), ("现场视频.mp4", MP4))  # fmt: skip
    open_day = photo((200, 200, 30), dt.datetime(2021, 5, 28, 10, 0))
    gc_doc = summary_docx("活动总结", "我委今年的活动圆满完成。")
    bot.send(GONGCHENG, "活动总结", at(6, 11), "见附件。", ("活动总结.docx", gc_doc), ("开放日.jpg", open_day))
    hall, sl_doc = photo((30, 200, 200)), summary_docx("总结", "6月6日开放日，接待300余人。")
    bot.send(SHENGLI, "活动总结", at(6, 12), "见附件。", ("总结.docx", sl_doc), ("展馆.jpg", hall))
    replies = bot.poll(at(6, 12, 11))
    assert len(replies) == 5

    dizhi, gc, bj, sl = "石油地质专业委员会/地质科普进校园", "石油工程专业委员会/多项活动", f"北京石油学会/{BJ[2]}", "胜利油田科技展览馆/未对应活动"
    sent = {
        f"{dizhi}/2021-05-12 14.00.00 学生实验.jpg": experiment,
        f"{dizhi}/2021-06-01 IMG_0001.jpg": blue,
        f"{dizhi}/2021-06-01 img_0001 (2).JPG": grey,  # the same name but for case: Windows would merge them
        f"{dizhi}/2021-06-02 总结.docx": dizhi_doc,
        f"{bj}/2021-06-10 活动总结.docx": bj_doc,
        f"{bj}/2021-05-28 09.30.00 IMG_0001.jpg": red,
        f"{bj}/2021-06-10 合影.png": group,
        f"{bj}/2021-05-28 11.00.00 IMG_0002.heic": heic,
        f"{bj}/2021-06-10 现场视频.mp4": MP4,
        f"{gc}/2021-06-11 活动总结.docx": gc_doc,
        f"{gc}/2021-05-28 10.00.00 开放日.jpg": open_day,
        f"{sl}/2021-06-12 总结.docx": sl_doc,
        f"{sl}/2021-06-12 展馆.jpg": hall,
    }
    with Session(bot.app.engine) as session:
        receipts = {subject: receipt or "" for subject, receipt, branch in _summaries(session)}
    return Round(bot, sent, receipts)


def _summaries(session: Session) -> list[Any]:
    query = select(MessageRow.subject, MessageRow.receipt, MessageRow.branch).where(MessageRow.deliverable == "summary")
    return list(session.execute(query.order_by(MessageRow.id)))


def _digest(bot: Bot, now: dt.datetime) -> Digest:
    with Session(bot.app.engine) as session:
        return current_digest(session, bot.app.ctx, now)


def test_the_ledger_records_which_activities_each_summary_reported_accepted_or_not(round_: Round) -> None:
    with Session(round_.bot.app.engine) as session:
        reported = session.execute(
            select(MessageRow.subject, MessageRow.verdict, ActivityRow.title)
            .join(SummaryActivityRow, SummaryActivityRow.message_pk == MessageRow.id)
            .join(ActivityRow, ActivityRow.id == SummaryActivityRow.activity_pk)
            .order_by(MessageRow.id, ActivityRow.id)
        ).all()
    assert [tuple(r) for r in reported] == [
        ("地质科普进校园活动照片", "needs_correction", "地质科普进校园"),  # no document yet: still its photos
        ("地质科普进校园活动总结", "accepted", "地质科普进校园"),
        ("北京石油学会活动总结", "accepted", BJ[2]),
        ("活动总结", "accepted", "钻井技术开放日"),
        ("活动总结", "accepted", "采油工程科普讲座"),
    ]


def test_the_digest_shows_each_activitys_progress_media_and_who_owes_a_summary(round_: Round) -> None:
    bot, receipt = round_.bot, round_.receipts
    digest = _digest(bot, DIGEST_AT)
    rendered = render_digest(digest, bot.app.services.letterhead.renderer, "汇总表.xlsx")
    section = rendered.text.split("【活动总结进展】")[1].split("【逾期报送】")[0]
    assert section.startswith("（已受理活动6项）\n  计划中0项，已举办待总结2项，已总结4项。")
    assert "已收到照片8张、视频1个、报道链接2个、网盘链接1个。" in section
    expected = [
        "  胜利油田科技展览馆",
        f"    - （未对应已受理活动的总结）：已收到总结，{_receipt(bot, '胜利油田科技展览馆')}；照片1张",
        "  石油工程专业委员会",
        f"    - 钻井技术开放日（5月28日—5月29日）：已总结，{_receipt(bot, '石油工程专业委员会')}；照片1张",
        f"    - 采油工程科普讲座（6月3日）：已总结，{_receipt(bot, '石油工程专业委员会')}；照片1张",
        "  北京石油学会",
        f"    - {BJ[2]}（5月28日）：已总结，{receipt['北京石油学会活动总结']}；照片3张，视频1个，报道1个，网盘1个",
        "  石油地质专业委员会",
        f"    - 地质科普进校园（5月12日—5月14日）：已总结，{receipt['地质科普进校园活动总结']}；照片3张，报道1个",
        "    - 青年地质工作者座谈会（6月8日）：已举办待总结；尚无照片、视频或链接",
    ]
    assert section.split("计入每一项。\n")[1].split("\n\n【已受理方案")[0].splitlines() == expected
    owed = section.split("【已受理方案、未报送总结】")[1]
    assert owed.startswith("（1家）\n  四川省石油学会（1项活动，1项已举办）：王玥，13912345678，010-62067126；scsyxh@example.org")
    assert "名单内另有 8 家没有已受理的筹备方案，不要求报送总结。" in owed
    assert "【活动总结未报送】" not in rendered.text  # the round's own list replaces the roster-wide one
    html = rendered.html
    assert ">活动总结进展（已受理活动6项）" in html and ">已受理方案、未报送总结（1家）" in html
    assert "照片3张，视频1个，报道1个，网盘1个</td>" in html and f">{BJ[2]}<br>" in html
    assert f'>已总结</span> · <span style="white-space:nowrap">{receipt["北京石油学会活动总结"]}</span>' in html
    assert html.count('colspan="2"') == 4  # one heading row per branch that sent a summary
    assert "“活动总结”为每项活动的进展、照片视频与链接" in html



def test_the_round_is_in_the_mail_from_the_plan_deadline_or_the_first_activity_over_or_summary(round_: Round) -> None:
    app = round_.bot.app
    with Session(app.engine) as session:
        snapshot = read_snapshot(session, app.roster, DIGEST_AT)
    unsummarised = tuple(replace(a, summary_pk=None) for a in snapshot.summaries.activities)
    quiet = replace(snapshot, summaries=replace(snapshot.summaries, activities=unsummarised, mails=(), media=()))
    # 5 May: the plan deadline (6 May) ahead, no activity over (the first is on 12 May), no summary.
    assert not build_digest(quiet, app.roster, app.campaign, at(5, 5, 12)).summaries.shown
    rendered = render_digest(build_digest(quiet, app.roster, app.campaign, at(5, 5, 12)), app.services.letterhead.renderer)
    assert "活动总结进展" not in rendered.text and "活动总结进展" not in rendered.html
    after = build_digest(quiet, app.roster, app.campaign, at(5, 7, 8))  # the plan deadline passed
    text = render_digest(after, app.services.letterhead.renderer).text
    assert "【活动总结进展】（已受理活动6项）\n  计划中6项，已举办待总结0项，已总结0项。" in text
    # 四川 owes its summary, but its activity (20 May) is not over and the deadline is 42 days off: counted.
    assert "【已受理方案、未报送总结】（1家）\n  活动总结距截止还有42天（6月18日24时）。其中 1 家的活动都还没有举办完毕" in text
    assert build_digest(snapshot, app.roster, app.campaign, at(5, 5, 12)).summaries.shown  # a summary came


def _receipt(bot: Bot, branch: str) -> str:
    with Session(bot.app.engine) as session:
        rows = [r for r in _summaries(session) if r.branch == branch]
    (row,) = rows
    return str(row.receipt)


def test_the_model_counts_each_activitys_media_as_the_ledger_has_them(round_: Round) -> None:
    """Every line of the round against the ledger's tables: the mails that reported the activity, their media."""
    bot = round_.bot
    lines = {(line.branch, line.title): line for line in _digest(bot, DIGEST_AT).summaries.lines}
    with Session(bot.app.engine) as session:
        current = session.execute(
            select(ActivityRow).where(ActivityRow.current.is_(True), ActivityRow.accepted.is_(True))
        ).scalars().all()
        progress = {(p.branch_key, p.title): p.progress for p in activity_progress(session, DIGEST_AT, ZONE)}
        for activity in current:
            line = lines.pop((activity.branch_key, activity.title))
            mails = session.execute(
                select(SummaryActivityRow.message_pk).where(SummaryActivityRow.activity_pk == activity.id)
            ).scalars().all()
            media = session.execute(select(MediaRow).where(MediaRow.message_pk.in_(mails))).scalars().all()
            assert line.progress == progress[(activity.branch_key, activity.title)]
            assert line.media.photos == len({m.sha256 for m in media if m.kind == "photo"})
            assert line.media.videos == len({m.sha256 for m in media if m.kind == "video"})
            assert set(line.media.press) | set(line.media.drive) == {m.name for m in media if m.kind == "link"}
            receipts = [session.get(MessageRow, pk) for pk in sorted(mails)]
            assert line.receipts == tuple(m.receipt for m in receipts if m is not None and m.receipt)
            if activity.summary_pk is not None:
                summary = session.get(MessageRow, activity.summary_pk)
                assert summary is not None and (line.receipt, line.summary) == (summary.receipt, "accepted")
    ((key, stray),) = lines.items()  # and the summary that reported no activity
    assert key == ("胜利油田科技展览馆", "") and stray.progress is None and stray.media.photos == 1


def test_the_workbooks_summary_sheet_is_the_ledgers_activities(round_: Round) -> None:
    bot = round_.bot
    digest = _digest(bot, DIGEST_AT)
    book = openpyxl.load_workbook(io.BytesIO(write_rollup(digest, bot.app.campaign)))
    assert book.sheetnames == ["汇总表", "活动总结", "报送情况", "统计", "工作人员处理记录", "单位地址（系统记下）"]
    sheet = book["活动总结"]
    rows = _sheet_rows(sheet)
    assert [r["序号"] for r in rows] == list(range(1, 8))
    with Session(bot.app.engine) as session:
        progress = {(p.branch_key, p.title): p for p in activity_progress(session, DIGEST_AT, ZONE)}
    assert len(progress) == 6
    by_key = {(r["报送单位"], r["主题活动名称"]): r for r in rows}
    for (branch, title), p in progress.items():
        row = by_key[(branch, title)]
        assert row["进展"] == wording.PROGRESS_NAMES[p.progress]
        assert row["活动时间/开始日期"].date() == p.start
    bj = by_key[("北京石油学会", BJ[2])]
    assert (bj["活动总结/回执号"], bj["活动总结/状态"]) == (round_.receipts["北京石油学会活动总结"], "已受理")
    assert bj["活动总结/收到时间"] == dt.datetime(2021, 6, 10, 10, 0)
    assert (bj["数量/照片"], bj["数量/视频"], bj["数量/报道链接"], bj["数量/网盘链接"]) == (3, 1, 1, 1)
    assert (bj["明细/报道链接地址"], bj["明细/网盘链接地址"]) == (WECHAT, BAIDU)
    # Each content once, under the name it first came with (the repeat IMG_0001(1).jpg is not listed).
    assert bj["明细/照片、视频与文件"].split("\n") == [
        "活动总结.docx",
        "IMG_0001.jpg",
        "合影.png",
        "IMG_0002.heic",
        "现场视频.mp4",
    ]
    dizhi = by_key[("石油地质专业委员会", "地质科普进校园")]
    both = f"{round_.receipts['地质科普进校园活动照片']}\n{round_.receipts['地质科普进校园活动总结']}"
    assert (dizhi["活动总结/全部来信回执号"], dizhi["数量/照片"]) == (both, 3)
    assert by_key[("石油地质专业委员会", "青年地质工作者座谈会")]["活动总结/回执号"] is None
    assert by_key[("四川省石油学会", "油气科普进社区")]["进展"] == "已举办待总结"
    stray = by_key[("胜利油田科技展览馆", "（未对应已受理活动的总结）")]
    assert (stray["进展"], stray["数量/照片"]) == ("已收到总结", 1)
    assert sheet["A2"].value.startswith("截至2021年6月16日 09:00　已受理活动6项：计划中0项，已举办待总结2项，已总结4项。")


def _sheet_rows(sheet: Any) -> list[dict[str, Any]]:
    names: list[str] = []
    group = ""
    for column in range(1, sheet.max_column + 1):
        top, bottom = sheet.cell(3, column).value, sheet.cell(4, column).value
        if bottom is None:
            names.append(str(top))
        else:
            group = str(top) if top is not None else group
            names.append(f"{group}/{bottom}")
    return [dict(zip(names, values, strict=True)) for values in sheet.iter_rows(min_row=5, values_only=True)]


def _settings_file(round_: Round) -> Path:
    return round_.bot.inbox.parent / "bot.toml"


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _run(round_: Round, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    args = ["--settings", str(_settings_file(round_)), "--now", "2021-06-16T09:00", "export", "--media", str(out)]
    code = main([*args, "--json"])
    said = json.loads(capsys.readouterr().out)
    return code, said["media"]


def test_export_writes_every_file_once_as_branch_activity_file_with_an_index(
    round_: Round, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "材料"
    code, said = _run(round_, out, capsys)
    assert code == 0
    tree = _tree(out)
    assert set(tree) == {*round_.sent, "索引.xlsx", ".subbot-export.json"}
    for path, data in round_.sent.items():
        assert tree[path] == data, path  # byte for byte what the branch mailed
    assert {f["path"] for f in said["files"]} == set(round_.sent)
    assert {f["outcome"] for f in said["files"]} == {"written"}
    taken = (out / "北京石油学会" / BJ[2] / "2021-05-28 09.30.00 IMG_0001.jpg").stat().st_mtime
    assert taken == dt.datetime(2021, 5, 28, 9, 30, tzinfo=ZONE).timestamp()  # dated when it was taken

    sheet = openpyxl.load_workbook(out / "索引.xlsx")["索引"]
    rows = _sheet_rows(sheet)
    with Session(round_.bot.app.engine) as session:
        media = session.execute(select(MediaRow)).scalars().all()
    assert len(rows) == len(media) == 18
    for row in rows:
        if row["类别"] in ("媒体报道", "网盘"):
            assert row["导出文件"] is None and row["原文件名或链接"] in (WECHAT, BAIDU, DIZHI_PRESS)
            continue
        written = out / row["导出文件"]
        assert hashlib.sha256(written.read_bytes()).hexdigest() == row["SHA-256"]
        assert row["大小（字节）"] == written.stat().st_size
    repeats = [r for r in rows if r["备注"] == "重复发送，只导出一次"]
    assert sorted(r["原文件名或链接"] for r in repeats) == ["IMG_0001(1).jpg", "学生实验-再发.jpg"]
    assert {r["导出文件"] for r in repeats} == {
        f"北京石油学会/{BJ[2]}/2021-05-28 09.30.00 IMG_0001.jpg",
        "石油地质专业委员会/地质科普进校园/2021-05-12 14.00.00 学生实验.jpg",
    }
    video = next(r for r in rows if r["类别"] == "视频")
    assert (video["原文件名或链接"], video["总结来信/回执号"]) == ("现场视频.mp4", round_.receipts["北京石油学会活动总结"])
    gc = [r for r in rows if r["单位"] == "石油工程专业委员会"]
    assert {r["活动"] for r in gc} == {"钻井技术开放日、采油工程科普讲座"}
    first_photos = next(r for r in rows if r["原文件名或链接"] == "学生实验.jpg")
    assert (first_photos["总结来信/状态"], first_photos["拍摄时间"]) == ("待修改", dt.datetime(2021, 5, 12, 14, 0))
    links = {sheet.cell(row, 6).hyperlink.target for row in range(5, sheet.max_row + 1) if sheet.cell(row, 6).hyperlink}
    assert links == {WECHAT, BAIDU, DIZHI_PRESS}
    files = {sheet.cell(row, 5).hyperlink.target for row in range(5, sheet.max_row + 1) if sheet.cell(row, 5).hyperlink}
    assert files == set(round_.sent)  # each opens its file, relative to the index


def test_export_run_again_is_the_same_tree_and_keeps_in_step_with_the_ledger(
    round_: Round, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "材料"
    assert _run(round_, out, capsys)[0] == 0
    first = _tree(out)
    code, said = _run(round_, out, capsys)
    assert code == 0 and {f["outcome"] for f in said["files"]} == {"unchanged"}
    assert _tree(out) == first  # the index and the list too, byte for byte

    # A file staff edited in place is put back; one an earlier export wrote and the ledger no longer places
    # there is removed, with its emptied folders; a copy a killed run left half-written is cleared.
    edited = out / "北京石油学会" / BJ[2] / "2021-06-10 合影.png"
    edited.write_bytes(b"rotated")
    stale = out / "旧单位" / "旧活动" / "旧照片.jpg"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    manifest = json.loads((out / ".subbot-export.json").read_text(encoding="utf-8"))
    manifest["files"]["旧单位/旧活动/旧照片.jpg"] = hashlib.sha256(b"old").hexdigest()
    (out / ".subbot-export.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    (edited.parent / f"x.jpg{PART}").write_bytes(b"half")
    code, said = _run(round_, out, capsys)
    assert code == 0 and said["removed"] == ["旧单位/旧活动/旧照片.jpg"]
    assert [f["path"] for f in said["files"] if f["outcome"] == "written"] == [f"北京石油学会/{BJ[2]}/2021-06-10 合影.png"]
    assert _tree(out) == first and not (out / "旧单位").exists()


def test_export_refuses_a_folder_it_did_not_write(round_: Round, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "文档"
    out.mkdir()
    (out / "工作计划.docx").write_bytes(b"staff's own")
    args = ["--settings", str(_settings_file(round_)), "export", "--media", str(out)]
    assert main(args) == 2
    assert "文件夹不是空的，也不是此前导出的材料文件夹" in capsys.readouterr().err
    assert _tree(out) == {"工作计划.docx": b"staff's own"}
    # An earlier export's folder where someone put a file at a name the export would now write: refused too.
    again = tmp_path / "材料"
    assert main([*args[:-1], str(again)]) == 0
    taken = again / "北京石油学会" / BJ[2] / "2021-06-10 合影.png"
    manifest = json.loads((again / ".subbot-export.json").read_text(encoding="utf-8"))
    del manifest["files"][taken.relative_to(again).as_posix()]
    (again / ".subbot-export.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    before = _tree(again)
    assert main([*args[:-1], str(again)]) == 2
    assert "不是此前导出写入的文件" in capsys.readouterr().err and _tree(again) == before


def test_export_of_a_lost_stored_file_says_so_and_writes_the_rest(
    round_: Round, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = round_.bot.settings.bot.data_dir
    with Session(round_.bot.app.engine) as session:
        video = session.execute(select(MediaRow).where(MediaRow.kind == "video")).scalar_one()
    assert video.stored_path is not None
    stored = data_dir / video.stored_path
    aside = tmp_path / "aside.mp4"
    shutil.move(stored, aside)
    try:
        code, said = _run(round_, tmp_path / "材料", capsys)
    finally:
        shutil.move(aside, stored)
    assert code == 1
    assert [f["path"] for f in said["files"] if f["outcome"] == "missing"] == [f"北京石油学会/{BJ[2]}/2021-06-10 现场视频.mp4"]
    rows = _sheet_rows(openpyxl.load_workbook(tmp_path / "材料" / "索引.xlsx")["索引"])
    lost = next(r for r in rows if r["类别"] == "视频")
    assert (lost["导出文件"], lost["备注"]) == (None, "数据目录中没有该文件，未导出")
    assert len(_tree(tmp_path / "材料")) == len(round_.sent) - 1 + 2


def test_export_takes_xlsx_and_media_together_and_needs_one(
    round_: Round, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--settings", str(_settings_file(round_)), "--now", "2021-06-16T09:00", "export"]
    assert main([*args, "--xlsx", str(tmp_path / "汇总表.xlsx"), "--media", str(tmp_path / "材料")]) == 0
    out = capsys.readouterr().out
    assert "汇总表已写入" in out and "总结材料已导出到" in out and "本次写入13个" in out
    assert openpyxl.load_workbook(tmp_path / "汇总表.xlsx")["活动总结"].max_row == 4 + 7
    with pytest.raises(SystemExit):
        main(args)
    assert "export 需要 --xlsx FILE.xlsx 或 --media DIR" in capsys.readouterr().err


# --- names, on their own ---------------------------------------------------------------------------


def test_names_are_safe_on_windows_and_linux() -> None:
    assert file_name("CON.jpg", ".jpg", "", "附件") == "_CON.jpg"  # a DOS device name, whatever its ending
    assert file_name("..\\..\\etc/passwd", ".bin", "", "附件") == "passwd"
    assert file_name('照片:1?.JPEG', ".jpg", "2021-05-28", "附件") == "2021-05-28 照片_1_.JPEG"
    assert file_name("活动总结.docx", ".jpg", "2021-05-28", "附件") == "2021-05-28 活动总结.docx.jpg"
    assert file_name("", ".mp4", "2021-06-10", "附件") == "2021-06-10 附件.mp4"
    assert folder_name("中国石油大学（北京）/科普基地", 60, "x") == "中国石油大学（北京）_科普基地"
    long = fit("长" * 200 + ".jpeg", 80)
    assert "…" in long and long.endswith(".jpeg") and len(long) <= 80 and len(long.encode()) <= MAX_BYTES
    # Cut in the middle: long titles that differ only at the end stay apart.
    stem = "“众心向党 自立自强”石油精神与科学家精神进校园、进社区、进企业系列科普宣讲活动暨青年科技工作者座谈会及油气勘探开发成果展览"
    first, second = folder_name(f"{stem}（第1场）", 60, "x"), folder_name(f"{stem}（第2场）", 60, "x")
    assert len(first) == 60 and first.endswith("（第1场）") and second.endswith("（第2场）")
    taken: set[str] = set()
    assert [unique(n, taken, 80) for n in ("a.jpg", "A.JPG", "a.jpg")] == ["a.jpg", "A (2).JPG", "a (3).jpg"]
    crowded = fit("长" * 79 + ".jpg", 80)
    again = unique(crowded, {crowded.casefold()}, 80)
    assert again.endswith(" (2).jpg") and len(again) <= 80 and len(again.encode()) <= MAX_BYTES


def test_the_migration_carries_earlier_accepted_summaries_into_the_new_table(tmp_path: Path) -> None:
    engine = open_engine(sqlite_url(tmp_path / "ledger.sqlite3"))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.execute(
            text(
                "INSERT INTO messages (id, sha256, message_id, raw_path, size, arrived_at, recorded_at, status, "
                "error, attempts, sender, sender_name, subject, kind, matched_by, late) VALUES "
                "(1, 'a', '', 'raw/a', 1, '2021-05-01', '2021-05-01', 'processed', '', 1, '', '', '', '', '', 0), "
                "(2, 'b', '', 'raw/b', 1, '2021-06-01', '2021-06-01', 'processed', '', 1, '', '', '', '', '', 0)"
            )
        )
        connection.execute(text("INSERT INTO documents VALUES (1, 1, 0, 'a.docx', 'docx', 'a', 1, 'accepted')"))
        connection.execute(
            text(
                "INSERT INTO activities (id, message_pk, document_pk, branch_key, title_key, version, current, "
                "accepted, title, data, summary_pk) VALUES (7, 1, 1, 'b', 't', 1, 1, 1, 't', '{}', 2), "
                "(8, 1, 1, 'b', 'u', 1, 1, 1, 'u', '{}', NULL)"
            )
        )
    migrate(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT message_pk, activity_pk FROM summary_activities")).all()
    assert [tuple(r) for r in rows] == [(2, 7)]
