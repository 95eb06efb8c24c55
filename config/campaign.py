"""The campaign as data: deadlines, stages, form wording and limits, loaded from a TOML file."""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from config.errors import ConfigError

FORM_FIELDS = (
    "organiser",
    "title",
    "modules",
    "co_organiser",
    "stage",
    "dates",
    "venue",
    "audiences",
    "scale",
    "contact.name",
    "contact.office_phone",
    "contact.mobile",
    "contact.fax",
    "contact.email",
    "address",
    "plan_text",
)

# Labelled cells of the form: the fields, plus the two that carry several (time, the contact group).
LABEL_KEYS = (*(f for f in FORM_FIELDS if f not in ("stage", "dates")), "time", "contact")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Deadlines(_Frozen):
    plan: dt.date
    summary: dt.date


class Stage(_Frozen):
    number: Annotated[int, Field(ge=1)]
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Stage:
        if self.start > self.end:
            raise ValueError(f"第{self.number}阶段的开始日期 {self.start} 晚于结束日期 {self.end}")
        return self


class FormSpec(_Frozen):
    modules: tuple[str, ...] = Field(min_length=1)
    audiences: tuple[str, ...] = Field(min_length=1)
    plan_text_max_chars: Annotated[int, Field(gt=0)]
    optional_fields: tuple[str, ...] = ()
    attachment_heading: str
    title: str
    section_info: str
    section_plan: str
    module_hint: str
    time_placeholder: str
    plan_instruction: str
    labels: dict[str, tuple[str, ...]]

    @field_validator("optional_fields")
    @classmethod
    def _known_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in FORM_FIELDS]
        if unknown:
            raise ValueError(f"未知字段 {unknown}，可用字段为 {list(FORM_FIELDS)}")
        return value

    @field_validator("labels")
    @classmethod
    def _all_labels(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        wanted = {*LABEL_KEYS}
        missing = sorted(wanted - value.keys())
        extra = sorted(value.keys() - wanted)
        if missing or extra:
            raise ValueError(f"缺少 {missing}，多余 {extra}；应恰好包含 {sorted(wanted)}")
        empty = [key for key, names in value.items() if not names]
        if empty:
            raise ValueError(f"{empty} 至少要有一个标签")
        return value


class Deliverables(_Frozen):
    summary_words: tuple[str, ...] = Field(min_length=1)


class Office(_Frozen):
    name: str


class Reminders(_Frozen):
    """When branches are reminded: whole days before a deadline day (0 = on the day itself), optionally
    days after it, from `at` o'clock in the campaign's timezone."""

    days_before: tuple[Annotated[int, Field(ge=0)], ...] = (3, 1)
    days_after: tuple[Annotated[int, Field(ge=1)], ...] = ()
    corrections: bool = True  # also remind branches whose correction is outstanding
    summary_needs_plan: bool = True  # summaries are asked only of branches with an accepted plan
    at: dt.time = dt.time(9, 0)


class Conversation(_Frozen):
    """Mail that is not a submission: a question or any other message for a person is held for staff; the
    branch gets a short note that it was passed on, unless this is off."""

    notify_forwarded: bool = True


class Campaign(_Frozen):
    name: str
    short_name: str
    timezone: str
    deadlines: Deadlines
    deliverables: Deliverables
    stages: tuple[Stage, ...] = Field(min_length=1)
    form: FormSpec
    office: Office
    reminders: Reminders = Reminders()
    conversation: Conversation = Conversation()

    @field_validator("timezone")
    @classmethod
    def _real_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"未知时区 {value!r}") from exc
        return value

    @field_validator("stages")
    @classmethod
    def _numbered(cls, value: tuple[Stage, ...]) -> tuple[Stage, ...]:
        numbers = [stage.number for stage in value]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"阶段编号应从1起连续排列，实际为 {numbers}")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def year(self) -> int:
        """The year a date written without one belongs to."""
        return self.stages[0].start.year

    def stage(self, number: int) -> Stage | None:
        return next((stage for stage in self.stages if stage.number == number), None)

    def deadline(self, deliverable: str) -> dt.datetime:
        """The first instant that is late: midnight after the deadline day, in the campaign's timezone."""
        return dt.datetime.combine(self.last_day(deliverable) + dt.timedelta(days=1), dt.time(0, 0), tzinfo=self.zone)

    def last_day(self, deliverable: str) -> dt.date:
        """The deadline day itself: on time until its 24:00."""
        return self.deadlines.plan if deliverable == "plan" else self.deadlines.summary

    def required_fields(self) -> tuple[str, ...]:
        return tuple(name for name in FORM_FIELDS if name not in self.form.optional_fields)


def default_campaign_path() -> Path:
    return Path(str(resources.files("config").joinpath("campaign.toml")))


def load_campaign(path: Path | None = None) -> Campaign:
    """Read and validate a campaign file; every problem names the file and the key."""
    path = path or default_campaign_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(path, "", f"无法读取：{exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"TOML 格式错误：{exc}") from exc
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(根)"
        raise ConfigError(path, key, _explain(first["type"], first["msg"])) from exc


def _explain(kind: str, message: str) -> str:
    known = {
        "missing": "缺少此项",
        "extra_forbidden": "不认识此项（拼写错误？）",
        "date_from_datetime_parsing": "应为日期，如 2021-05-06",
        "date_parsing": "应为日期，如 2021-05-06",
        "date_type": "应为日期，如 2021-05-06",
        "too_short": "不能为空",
    }
    return known.get(kind, message.removeprefix("Value error, "))
