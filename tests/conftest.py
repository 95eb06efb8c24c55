"""Shared fixtures: the shipped campaign and roster, and paths the suite reads in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.layout import form_layout
from bot.rules import Context
from config import Campaign, Roster, load_campaign, load_roster
from parsers.records import FormLayout

pytest_plugins = ["servers.fixtures"]

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"


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
