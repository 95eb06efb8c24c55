"""The parsers' view of a campaign's form, built from the campaign configuration."""

from __future__ import annotations

from config import Campaign
from parsers.records import FormLayout


def form_layout(campaign: Campaign) -> FormLayout:
    form = campaign.form
    return FormLayout(
        labels=dict(form.labels),
        modules=form.modules,
        audiences=form.audiences,
        year=campaign.year,
        attachment_heading=form.attachment_heading,
        title=form.title,
        section_info=form.section_info,
        section_plan=form.section_plan,
        module_hint=form.module_hint,
        time_placeholder=form.time_placeholder,
        plan_instruction=form.plan_instruction,
    )
