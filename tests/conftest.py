"""Shared fixtures: the shipped campaign and roster, and paths the suite reads in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.forms.layout import form_layout
from config import Campaign, Context, Roster, load_campaign, load_roster
from parsers.records import FormLayout

pytest_plugins = ["servers.fixtures"]

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"  # real mail and documents of others, with their origins in NOTICE


@pytest.fixture(scope="session")
def campaign() -> Campaign:
    return load_campaign()


@pytest.fixture(scope="session")
def roster() -> Roster:
    return load_roster()


@pytest.fixture(scope="session")
def ctx(campaign: Campaign, roster: Roster) -> Context:
    return Context(campaign, roster)


@pytest.fixture(scope="session")
def layout(campaign: Campaign) -> FormLayout:
    return form_layout(campaign)
