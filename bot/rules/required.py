"""Required fields are filled in; which are required is the campaign's choice."""

from __future__ import annotations

from bot.rules.base import finding
from bot.rules.findings import Finding
from config import Context
from parsers.records import Activity

# Fields with a rule of their own that also says when they are empty.
_OWN_RULES = {"modules", "audiences", "stage", "dates"}


def check_required(activity: Activity, ctx: Context) -> list[Finding]:
    values = {
        "organiser": activity.organiser,
        "title": activity.title,
        "co_organiser": activity.co_organiser,
        "venue": activity.venue,
        "scale": activity.scale,
        "contact.name": activity.contact.name,
        "contact.office_phone": activity.contact.office_phone,
        "contact.mobile": activity.contact.mobile,
        "contact.fax": activity.contact.fax,
        "contact.email": activity.contact.email,
        "address": activity.address,
        "plan_text": activity.plan_text,
    }
    return [
        finding(key, "missing_field", f"{ctx.label(key)}未填写，请补充")
        for key in ctx.campaign.required_fields()
        if key not in _OWN_RULES and not values[key].strip()
    ]
