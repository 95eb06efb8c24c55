"""Who is reminded on which day: pure decisions over branch statuses and the 2021 campaign."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.jobs.reminders import reminders_due
from bot.ledger.status import BranchStatus
from config import Campaign

BEIJING = dt.timezone(dt.timedelta(hours=8))


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=BEIJING)


def status(branch: str, deliverable: str, state: str, known: bool = True) -> BranchStatus:
    return BranchStatus(branch, known, deliverable, state, 0 if state == "missing" else 1, False, None, "")


STATUSES = [
    status("甲", "plan", "missing"),
    status("乙", "plan", "needs_correction"),
    status("丙", "plan", "accepted"),
    status("丁", "plan", "unreadable"),
    status("（未知发件人）x@example.com", "plan", "needs_correction", known=False),
    status("甲", "summary", "missing"),
    status("乙", "summary", "missing"),
    status("丙", "summary", "missing"),
    status("丁", "summary", "missing"),
]


@pytest.mark.parametrize(("day", "days_left"), [("2021-05-03", 3), ("2021-05-05", 1)])
def test_plan_reminders_go_three_days_and_one_day_before_to_missing_and_uncorrected(
    campaign: Campaign, day: str, days_left: int
) -> None:
    due = reminders_due(STATUSES, campaign, at(day))
    assert [(r.branch, r.reason, r.deliverable, r.days_left) for r in due] == [
        ("甲", "missing", "plan", days_left),
        ("乙", "correction", "plan", days_left),
        ("丁", "correction", "plan", days_left),
    ]
    assert {r.day for r in due} == {dt.date.fromisoformat(day)}


@pytest.mark.parametrize("day", ["2021-05-01", "2021-05-04", "2021-05-06", "2021-05-07", "2021-05-20"])
def test_no_reminders_on_other_days_nor_after_the_deadline(campaign: Campaign, day: str) -> None:
    assert reminders_due(STATUSES, campaign, at(day)) == ()


def test_not_before_the_configured_hour(campaign: Campaign) -> None:
    assert reminders_due(STATUSES, campaign, at("2021-05-03", hour=8)) == ()
    # 01:30 UTC is 09:30 in Beijing: the campaign's timezone decides the day and the hour.
    assert len(reminders_due(STATUSES, campaign, dt.datetime(2021, 5, 3, 1, 30, tzinfo=dt.UTC))) == 3


def test_a_branch_already_reminded_today_is_not_reminded_again(campaign: Campaign) -> None:
    due = reminders_due(STATUSES, campaign, at("2021-05-03"), reminded_today={"甲", "丁"})
    assert [r.branch for r in due] == ["乙"]


def test_summary_reminders_only_to_branches_whose_plan_was_accepted(campaign: Campaign) -> None:
    due = reminders_due(STATUSES, campaign, at("2021-06-15"))
    assert [(r.branch, r.deliverable, r.days_left) for r in due] == [("丙", "summary", 3)]
    everyone = campaign.model_copy(
        update={"reminders": campaign.reminders.model_copy(update={"summary_needs_plan": False})}
    )
    assert [r.branch for r in reminders_due(STATUSES, everyone, at("2021-06-17"))] == ["甲", "乙", "丙", "丁"]


def test_after_the_deadline_only_when_configured_and_corrections_can_be_left_out(campaign: Campaign) -> None:
    policy = campaign.reminders.model_copy(update={"days_after": (1,), "corrections": False})
    late = campaign.model_copy(update={"reminders": policy})
    due = reminders_due(STATUSES, late, at("2021-05-07"))
    assert [(r.branch, r.reason, r.days_left) for r in due] == [("甲", "missing", -1)]
    assert reminders_due(STATUSES, late, at("2021-05-08")) == ()
