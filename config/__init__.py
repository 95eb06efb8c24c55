"""Settings, the campaign and its roster: loaded once, validated with messages that name the file and the key,
passed down. Imports none of the project's other packages."""

from config.campaign import Campaign, Stage, load_campaign
from config.context import Context
from config.errors import ConfigError
from config.roster import Branch, Roster, RosterProblem, RosterReport, RosterSource, check_roster, load_roster

__all__ = [
    "Branch",
    "Campaign",
    "ConfigError",
    "Context",
    "Roster",
    "RosterProblem",
    "RosterReport",
    "RosterSource",
    "Stage",
    "check_roster",
    "load_campaign",
    "load_roster",
]
