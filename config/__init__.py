"""Settings and campaign files: loaded once, validated, passed down."""

from config.campaign import Campaign, Stage, load_campaign
from config.errors import ConfigError
from config.roster import Branch, Roster, RosterProblem, RosterReport, RosterSource, check_roster, load_roster

__all__ = [
    "Branch",
    "Campaign",
    "ConfigError",
    "Roster",
    "RosterProblem",
    "RosterReport",
    "RosterSource",
    "Stage",
    "check_roster",
    "load_campaign",
    "load_roster",
]
