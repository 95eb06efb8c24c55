"""The campaign and its roster together: what every rule, reader and decision about a submission is judged against."""

from __future__ import annotations

from dataclasses import dataclass

from config.campaign import Campaign
from config.roster import Roster


@dataclass(frozen=True)
class Context:
    campaign: Campaign
    roster: Roster

    def label(self, key: str) -> str:
        """The field's name as printed on the form, in 「」 for messages."""
        return f"「{self.campaign.form.labels[key][0]}」"
