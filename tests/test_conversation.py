"""What the bot does with a mail that carries no document (bot.intake.decide over parsers.intent), golden over
the real client mails in tests/fixtures/intent/; and which earlier activity a resent form's activity continues
(bot.intake.versions)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest

from bot.intake.decide import decide, route
from bot.intake.versions import continue_versions
from bot.summary.records import Planned
from config import Context
from config.campaign import Conversation
from parsers.message import parse_message
from parsers.records import Activity, Choices, Timing

MAILS = Path(__file__).parent / "fixtures" / "intent"
CASES = sorted(MAILS.glob("*.eml"))
ARRIVED = dt.datetime(2021, 5, 4, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
# What the bot does with each kind of mail without a document: (the decision's kind, its answer).
ACTIONS = {
    "thanks": ("thanks", "none"),
    "question": ("for_person", "forwarded"),
    "other": ("for_person", "forwarded"),
    "link": ("link", "link"),
    "claims_submission": ("submission", "correction"),
    "empty": ("submission", "correction"),
}


def test_there_are_golden_mails_of_every_kind() -> None:
    kinds = {json.loads(p.with_suffix(".expected.json").read_text("utf-8"))["kind"] for p in CASES}
    assert kinds == set(ACTIONS)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_a_mail_without_a_document_is_answered_as_what_it_is(path: Path, ctx: Context) -> None:
    expected = json.loads(path.with_suffix(".expected.json").read_text("utf-8"))
    mail = parse_message(path.read_bytes())
    decision = decide(mail, (), route(mail, (), ctx, ARRIVED), ctx, ARRIVED, 0, 10)
    assert (decision.kind, decision.reply) == ACTIONS[expected["kind"]], decision.reason
    if decision.kind != "submission":
        # Nothing a branch stands on: no verdict, no finding, no deliverable but the plan a link stands in for.
        assert decision.verdict is None and decision.findings == ()
        assert decision.deliverable == ("plan" if decision.kind == "link" else None)
    else:
        assert [f.finding.code for f in decision.findings] == ["no_attachment"]
    if decision.kind == "for_person":
        assert decision.excerpt == "\n".join(line for line in expected["text"].splitlines() if line.strip())[:300]


def test_the_note_to_a_branch_whose_mail_went_to_a_person_is_a_campaign_setting(ctx: Context) -> None:
    mail = parse_message((MAILS / "question-qq-third-stage.eml").read_bytes())
    silent = Conversation(notify_forwarded=False)
    quiet = replace(ctx, campaign=ctx.campaign.model_copy(update={"conversation": silent}))
    decision = decide(mail, (), route(mail, (), quiet, ARRIVED), quiet, ARRIVED, 0, 10)
    assert (decision.kind, decision.reply) == ("for_person", "none")


def test_the_daily_reply_cap_holds_for_notes_too(ctx: Context) -> None:
    mail = parse_message((MAILS / "link-baidu-pan.eml").read_bytes())
    decision = decide(mail, (), route(mail, (), ctx, ARRIVED), ctx, ARRIVED, 10, 10)
    assert (decision.kind, decision.reply) == ("link", "none") and "reply cap" in decision.reason


# --- activities across versions ------------------------------------------------------------------------------

MAY = dt.date(2021, 5, 28)
EARLIER = (
    Planned(1, "老科学家精神宣讲报告会", MAY, MAY, 1, "北京石油大厦报告厅", ("团结引领",)),
    Planned(2, "地质科普进校园", dt.date(2021, 5, 12), dt.date(2021, 5, 14), 2, "北京市第八中学", ("为民服务",)),
)


def _activity(title: str, start: dt.date, end: dt.date, venue: str, *modules: str) -> Activity:
    return Activity(
        title=title, timing=Timing("", 2, "", start, end), venue=venue, modules=Choices("", tuple(modules))
    )


def test_the_same_activities_resent_continue_their_earlier_versions() -> None:
    new = [
        _activity("地质科普进校园", dt.date(2021, 5, 12), dt.date(2021, 5, 14), "北京市第八中学", "为民服务"),
        _activity("老科学家精神宣讲报告会", MAY, MAY, "北京石油大厦报告厅", "团结引领"),
    ]
    result = continue_versions(EARLIER, new)
    assert result.continues == (EARLIER[1], EARLIER[0]) and result.withdrawn == ()


def test_a_renamed_activity_with_its_dates_venue_and_modules_is_the_same_activity() -> None:
    renamed = _activity("“众心向党”老科学家报告会", MAY, MAY, "北京石油大厦报告厅", "团结引领")
    result = continue_versions(EARLIER, [renamed])
    assert result.continues == (EARLIER[0],) and result.withdrawn == (EARLIER[1],)


def test_a_title_kept_with_a_date_moved_is_the_same_activity() -> None:
    moved = _activity("地质科普进校园活动", dt.date(2021, 6, 8), dt.date(2021, 6, 8), "北京四中", "为民服务")
    assert continue_versions(EARLIER, [moved]).continues == (EARLIER[1],)


def test_an_activity_unlike_any_earlier_one_is_new_and_the_earlier_ones_are_withdrawn() -> None:
    other = _activity("石油精神主题展览", dt.date(2021, 6, 10), dt.date(2021, 6, 20), "新疆石油博物馆", "表彰发布")
    result = continue_versions(EARLIER, [other])
    assert result.continues == (None,) and result.withdrawn == EARLIER


def test_each_earlier_activity_is_continued_at_most_once() -> None:
    twice = [
        _activity("地质科普进校园", dt.date(2021, 5, 12), dt.date(2021, 5, 14), "北京市第八中学", "为民服务"),
        _activity("地质科普进校园", dt.date(2021, 5, 12), dt.date(2021, 5, 14), "北京市第八中学", "为民服务"),
    ]
    result = continue_versions(EARLIER, twice)
    assert result.continues == (EARLIER[1], None) and result.withdrawn == (EARLIER[0],)
