"""Blocks to activities: find the form's labels in table rows, group them into one activity per
table ("一项一表"), and pair each with the 工作方案 text that follows it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from parsers.blocks import Block, Paragraph, Row
from parsers.marks import read_choices
from parsers.numbers import read_people
from parsers.records import Activity, Contact, FormLayout
from parsers.schedule import read_schedule
from parsers.text import clean, label_key, squash

_ACTIVITY_MARKER = re.compile(r"^(?:活动|项目|表)[一二三四五六七八九十\d]+[:：.、]?$")
_INLINE = re.compile(r"^(?P<label>[^:：]{1,12})[:：]\s*(?P<value>.+)$", re.S)
_CONTACT_PARTS = ("contact.name", "contact.office_phone", "contact.mobile", "contact.fax", "contact.email")


@dataclass
class _Draft:
    """An activity being read: raw text per label key, in the order the labels appeared."""

    fields: dict[str, str] = field(default_factory=dict)
    paragraphs: list[str] = field(default_factory=list)
    last_key: str | None = None


@dataclass(frozen=True)
class FormRead:
    activities: tuple[Activity, ...]
    blank_tables: int


def read_form(blocks: Iterable[Block], layout: FormLayout) -> FormRead:
    labels = _label_index(layout)
    boilerplate = _boilerplate(layout)
    drafts: list[_Draft] = []
    table = 0
    for block in _stitch(blocks, labels):
        if isinstance(block, Paragraph):
            if drafts and _keep_paragraph(block.text, boilerplate):
                drafts[-1].paragraphs.append(block.text.strip())
            continue
        pairs = list(_pairs(block, labels))
        if not pairs:
            continue
        starts_table = block.table != table
        table = block.table
        for key, value in pairs:
            current = drafts[-1] if drafts else None
            if key is None:
                if current and current.last_key:
                    current.fields[current.last_key] += "\n" + value
                continue
            if current is None or key in current.fields or (starts_table and key == "organiser" and current.fields):
                current = _Draft()
                drafts.append(current)
            current.fields[key] = value
            current.last_key = key
            starts_table = False
    read = [_activity(d, layout) for d in drafts]
    kept = tuple(a for a in read if not _is_blank(a))
    return FormRead(kept, len(read) - len(kept))


def _is_blank(activity: Activity) -> bool:
    """Nothing written but the printed template: empty cells, empty brackets, empty 第__阶段."""
    schedule = activity.schedule
    written = (activity.modules.selected, activity.audiences.selected, schedule.stage, schedule.dates_text)
    texts = (
        activity.organiser,
        activity.title,
        activity.co_organiser,
        activity.venue,
        activity.scale,
        activity.address,
        activity.plan_text,
        *vars(activity.contact).values(),
    )
    return not any(written) and not any(texts)


def _label_index(layout: FormLayout) -> dict[str, str]:
    return {label_key(name): key for key, names in layout.labels.items() for name in names}


def _pairs(row: Row, labels: dict[str, str]) -> Iterable[tuple[str | None, str]]:
    """(label key, value) pairs of a row; key None for a value with no label before it, which
    continues the previous row (a table broken across pages, a label merged down several rows)."""
    cells = _dedupe(row.cells)
    key: str | None = None
    values: list[str] = []
    started = False
    for cell in cells:
        found, inline = _label_of(cell, labels)
        if found is None:
            values.append(cell)
            continue
        if started or values:
            yield key, _join(values)
        key, values, started = found, ([inline] if inline else []), True
    if started:
        yield key, _join(values)
    elif any(v.strip() for v in values):
        yield None, _join(values)


def _stitch(blocks: Iterable[Block], labels: dict[str, str]) -> Iterator[Block]:
    """Join a row that a PDF page break cut in two: the top half ends one table, the bottom half
    starts the next, and only together do their first cells make a label ("主题活动模" + "块")."""
    held: Row | None = None
    for block in blocks:
        if isinstance(block, Row) and held is not None and _continues(held, block, labels):
            held = Row(tuple(a + b for a, b in zip(held.cells, block.cells, strict=True)), held.table)
            continue
        if held is not None:
            yield held
            held = None
        if isinstance(block, Row):
            held = block
        else:
            yield block
    if held is not None:
        yield held


def _continues(top: Row, bottom: Row, labels: dict[str, str]) -> bool:
    if top.table == bottom.table or len(top.cells) != len(bottom.cells) or not bottom.cells[0].strip():
        return False
    if label_key(bottom.cells[0]) in labels:
        return False
    return label_key(top.cells[0] + bottom.cells[0]) in labels and label_key(top.cells[0]) not in labels


def _label_of(cell: str, labels: dict[str, str]) -> tuple[str | None, str]:
    found = labels.get(label_key(cell))
    if found:
        return found, ""
    inline = _INLINE.match(cell.strip())
    if inline and (found := labels.get(label_key(inline.group("label")))):
        return found, inline.group("value")
    return None, ""


def _dedupe(cells: tuple[str, ...]) -> list[str]:
    """Cells of a merged span that repeat the same text (PDF, WPS, copied rows) count once."""
    out: list[str] = []
    for cell in cells:
        if not out or cell != out[-1] or not cell.strip():
            out.append(cell)
    return out


def _join(values: list[str]) -> str:
    return "\n".join(v for v in values if v.strip())


def _boilerplate(layout: FormLayout) -> tuple[set[str], tuple[str, ...]]:
    headings = {squash(t) for t in (layout.attachment_heading, layout.section_info, layout.section_plan)}
    return headings, (squash(layout.plan_instruction), squash(layout.title))


def _keep_paragraph(text: str, boilerplate: tuple[set[str], tuple[str, ...]]) -> bool:
    """False for the form's own printed text, including a PDF's wrapped lines of the instruction."""
    key = squash(text)
    headings, long_texts = boilerplate
    if not key or key in headings or _ACTIVITY_MARKER.match(key):
        return False
    return not (len(key) >= 4 and any(key in long for long in long_texts))



def _activity(draft: _Draft, layout: FormLayout) -> Activity:
    raw = draft.fields

    def value(key: str) -> str:
        return clean(raw.get(key, ""))

    plan_cell = raw.get("plan_text", "").strip()
    plan = plan_cell if plan_cell else "\n".join(draft.paragraphs)
    scale = value("scale")
    return Activity(
        organiser=value("organiser"),
        title=value("title"),
        modules=read_choices(value("modules"), layout.modules),
        co_organiser=value("co_organiser"),
        schedule=read_schedule(value("time"), layout.year),
        venue=value("venue"),
        audiences=read_choices(value("audiences"), layout.audiences),
        scale=scale,
        scale_people=read_people(scale),
        contact=Contact(
            # A value right beside the group label 主办单位联系人 (no 姓名 cell) is the name.
            name=value("contact.name") or value("contact"),
            office_phone=_number(raw.get("contact.office_phone", "")),
            mobile=_number(raw.get("contact.mobile", "")),
            fax=_number(raw.get("contact.fax", "")),
            email=squash(raw.get("contact.email", "")),
        ),
        address=value("address"),
        plan_text=plan.strip(),
    )


def _number(text: str) -> str:
    """A phone cell: lines broken by a PDF table's width join without spaces."""
    return clean(text.replace("\n", ""))
