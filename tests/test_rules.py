"""Each rule on hand-made activities: what it finds, and the words it says it in."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bot.rules.choices import check_audiences, check_modules
from bot.rules.contact import check_email, check_fax, check_mobile, check_office_phone
from bot.rules.dates import check_dates, check_dates_in_stage, check_stage
from bot.rules.findings import Finding
from bot.rules.misc import check_organiser_known, check_plan_length, check_scale
from bot.rules.plan import check_plan
from bot.rules.required import check_required
from config import Context
from parsers.records import Activity, Choices, Contact, Timing

GOOD = Activity(
    organiser="北京石油学会",
    title="科学家精神报告会",
    modules=Choices("团结引领（√）", ("团结引领",)),
    co_organiser="无",
    timing=Timing("第二阶段；5月28日—5月30日", 2, "第二阶段", dt.date(2021, 5, 28), dt.date(2021, 5, 30)),
    venue="北京",
    audiences=Choices("科技工作者（√）", ("科技工作者",)),
    scale="约200人",
    scale_people=200,
    contact=Contact("叶楠", "010-62067126", "15011205685", "", "yenan@example.com"),
    address="北京市海淀区学院路20号",
    plan_text="报告会。",
)


def codes(found: list[Finding] | tuple[Finding, ...]) -> list[tuple[str, str, str]]:
    return [(f.field, f.severity, f.code) for f in found]


def test_a_good_activity_has_no_findings(ctx: Context) -> None:
    assert check_plan((GOOD,), ctx) == ()


def test_findings_name_the_activity_and_its_title(ctx: Context) -> None:
    bad = replace(GOOD, venue="")
    (found,) = check_plan((GOOD, bad), ctx)
    assert found.activity == 1
    assert found.message == "第2项活动「科学家精神报告会」：「拟举办地点」未填写，请补充"


def test_required_fields_follow_the_campaign(ctx: Context) -> None:
    empty = replace(GOOD, organiser="", contact=Contact())
    found = check_required(empty, ctx)
    assert codes(found) == [
        ("organiser", "error", "missing_field"),
        ("contact.name", "error", "missing_field"),
        ("contact.office_phone", "error", "missing_field"),
        ("contact.mobile", "error", "missing_field"),
        ("contact.email", "error", "missing_field"),
    ]  # fax is optional in the 2021 campaign


def test_no_module_ticked_shows_what_was_written(ctx: Context) -> None:
    (found,) = check_modules(replace(GOOD, modules=Choices("团结引领（ ）建家办事（ ）")), ctx)
    assert found.code == "none_ticked"
    assert "团结引领（ ）建家办事（ ）" in found.message


def test_an_unreadable_mark_is_reported(ctx: Context) -> None:
    (found,) = check_audiences(replace(GOOD, audiences=Choices("海外同行（？）", (), ("海外同行",))), ctx)
    assert (found.field, found.code) == ("audiences", "unclear_mark")


def test_dates_outside_their_stage_say_the_stage_window(ctx: Context) -> None:
    late = replace(GOOD, timing=Timing("第二阶段；6月8日", 2, "第二阶段", dt.date(2021, 6, 8), dt.date(2021, 6, 8)))
    (found,) = check_dates_in_stage(late, ctx)
    assert found.code == "dates_outside_stage"
    assert found.message.startswith("「拟举办时间」第二阶段为5月26日—6月5日，填写的6月8日不在该阶段内")
    assert "属于第三阶段" in found.message


@pytest.mark.parametrize(
    ("timing", "expected"),
    [
        (Timing("", dates_problem="missing"), ("start", "dates_missing")),
        (Timing("第二阶段 2月30日", 2, dates_problem="invalid", dates_text="2月30日"), ("start", "dates_invalid")),
        (Timing("第二阶段 下旬", 2, dates_problem="unparsed", dates_text="下旬"), ("start", "dates_unparsed")),
        (Timing("", 2, start=dt.date(2021, 6, 1), end=dt.date(2021, 5, 28)), ("end", "dates_reversed")),
    ],
)
def test_date_problems(ctx: Context, timing: Timing, expected: tuple[str, str]) -> None:
    (found,) = check_dates(replace(GOOD, timing=timing), ctx)
    assert (found.field, found.code) == expected


def test_stage_missing_or_unknown(ctx: Context) -> None:
    missing = replace(GOOD, timing=replace(GOOD.timing, stage=None))
    assert codes(check_stage(missing, ctx)) == [("stage", "error", "stage_missing")]
    assert "所填日期属于第二阶段" in check_stage(missing, ctx)[0].message
    unknown = replace(GOOD, timing=replace(GOOD.timing, stage=5, stage_text="第五阶段"))
    assert codes(check_stage(unknown, ctx)) == [("stage", "error", "stage_unknown")]
    assert check_dates_in_stage(unknown, ctx) == []


@pytest.mark.parametrize(
    ("mobile", "ok"),
    [("15011205685", True), ("150 1120 5685", True), ("+86 15011205685", True), ("010-62067126", False), ("1501120568", False)],
)
def test_mobile_is_a_mainland_number(ctx: Context, mobile: str, ok: bool) -> None:
    found = check_mobile(replace(GOOD, contact=replace(GOOD.contact, mobile=mobile)), ctx)
    assert (found == []) is ok


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("010-62067126", True),
        ("(0459)5678901", True),
        ("010-62067126转8001", True),
        ("010-62067126、15011205685", True),
        ("62067126", True),
        ("4008001234", True),
        ("12345", False),
        ("010-62067126、电话", False),
    ],
)
def test_office_phone_and_fax_look_like_phone_numbers(ctx: Context, phone: str, ok: bool) -> None:
    contact = replace(GOOD.contact, office_phone=phone, fax=phone)
    assert (check_office_phone(replace(GOOD, contact=contact), ctx) == []) is ok
    assert (check_fax(replace(GOOD, contact=contact), ctx) == []) is ok


def test_email_syntax(ctx: Context) -> None:
    assert check_email(GOOD, ctx) == []
    (found,) = check_email(replace(GOOD, contact=replace(GOOD.contact, email="yenan@cnpc")), ctx)
    assert (found.field, found.code) == ("contact.email", "bad_email")


def test_soft_rules_are_warnings(ctx: Context) -> None:
    vague = replace(GOOD, scale="线上直播", scale_people=None)
    assert codes(check_scale(vague, ctx)) == [("scale", "warning", "scale_without_number")]
    long = replace(GOOD, plan_text="字" * 501)
    assert codes(check_plan_length(long, ctx)) == [("plan_text", "warning", "plan_text_long")]
    assert check_plan_length(replace(GOOD, plan_text="字 " * 500), ctx) == []  # spaces do not count
    stranger = replace(GOOD, organiser="某某研究会")
    assert codes(check_organiser_known(stranger, ctx)) == [("organiser", "warning", "organiser_unknown")]
    assert check_organiser_known(replace(GOOD, organiser="北京市 石油学会"), ctx) == []  # an alias, spaced
