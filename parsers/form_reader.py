"""Blocks to activities: find the form's labels in table rows, group them into one activity per
table ("一项一表"), and pair each with the 工作方案 text that follows it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import zip_longest

from parsers.blocks import Block, Paragraph, Row, Styled
from parsers.marks import read_choices
from parsers.numbers import read_people
from parsers.records import Activity, Contact, FormLayout
from parsers.text import clean, label_key, squash
from parsers.timing import read_timing

_ACTIVITY_MARKER = re.compile(r"^(?:活动|项目|表)[一二三四五六七八九十\d]+[:：.、]?$")
_INLINE = re.compile(r"^(?P<label>[^:：]{1,12})[:：]\s*(?P<value>.+)$", re.S)
_CELL_BREAK = "\t"
# The official table has sixteen labels; a table with fewer than this is not a copy of it.
_FORM_LABELS = 3
# An activity table has at least one of these; a reply slip or letterhead with only 联系人, 电话 and
# 地址 in a table is not one.
_CORE_LABELS = {"organiser", "title", "modules", "time"}
# A page number in a header or footer, as a PDF gives it: "3", "- 3 -", "第3页", "第3页共5页", "3/5".
_PAGE_NUMBER = re.compile(r"^[-—–]?(?:第?\d{1,3}页?(?:[,，]?共\d{1,3}页)?|\d{1,3}/\d{1,3})[-—–]?$")
_CONTACT_PARTS = ("contact.name", "contact.office_phone", "contact.mobile", "contact.fax", "contact.email")


@dataclass(frozen=True)
class Cells:
    """Where a field was read in one row: the row's `at`, its label's cell and its value's cells
    (indices into `Row.cells`); no label for a row that continues the field above, no value cell
    for a label with its value inline ("主办单位：…") or none at all."""

    row: int
    label: int | None
    values: tuple[int, ...]


@dataclass(frozen=True)
class Places:
    """Where one activity was read, by block `at`: each label key's cells, row by row; the blocks
    after the table that were read as its 工作方案 (none when the table's own cell held it); and the
    form's printed paragraphs after the table (二、工作方案 and its instruction), left out of it."""

    fields: Mapping[str, tuple[Cells, ...]]
    plan: tuple[int, ...]
    printed: tuple[int, ...]


@dataclass
class _Draft:
    """An activity being read: raw text per label key, in the order the labels appeared, and where."""

    fields: dict[str, str] = field(default_factory=dict)
    # The set-apart text of each field's cells (how some senders mark choices).
    styled: dict[str, list[Styled]] = field(default_factory=dict)
    paragraphs: list[str] = field(default_factory=list)
    last_key: str | None = None
    cells: dict[str, list[Cells]] = field(default_factory=dict)
    plan_at: list[int] = field(default_factory=list)
    printed_at: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class FormRead:
    activities: tuple[Activity, ...]
    blank_tables: int
    # Where each activity was read, in the same order (for annotating the document).
    places: tuple[Places, ...] = ()


def read_form(blocks: Iterable[Block], layout: FormLayout) -> FormRead:
    labels = _label_index(layout)
    boilerplate = _Boilerplate(layout)
    drafts: list[_Draft] = []
    rows = _Rows(drafts, labels)
    printed = (b for b in blocks if isinstance(b, Row) or not _PAGE_NUMBER.match(squash(b.text)))
    for group in _groups(_stitch(printed, labels)):
        if isinstance(group, Paragraph):
            if drafts and boilerplate.skips(group.text):
                drafts[-1].printed_at.append(group.at)
            elif drafts:
                drafts[-1].paragraphs.append(group.text.strip())
                drafts[-1].plan_at.append(group.at)
        elif not _is_form(group, labels):
            # A table of the sender's own inside the 工作方案 (an agenda, a budget): lines of the plan.
            for row in group if drafts else ():
                if line := _row_line(row):
                    drafts[-1].paragraphs.append(line)
                    drafts[-1].plan_at.append(row.at)
        else:
            boilerplate.reset()
            for row in group:
                rows.read(row)
    read = [(_activity(d, layout), _places(d)) for d in drafts if _CORE_LABELS & d.fields.keys()]
    kept = [(activity, places) for activity, places in read if not _is_blank(activity)]
    return FormRead(tuple(a for a, _ in kept), len(read) - len(kept), tuple(p for _, p in kept))


def _places(draft: _Draft) -> Places:
    from_cell = draft.fields.get("plan_text", "").replace(_CELL_BREAK, "").strip()
    return Places(
        {key: tuple(cells) for key, cells in draft.cells.items()},
        () if from_cell else tuple(draft.plan_at),
        tuple(draft.printed_at),
    )


class _Rows:
    """Reads the form's rows into drafts: a label seen again, or 主办单位名称 at the top of a new
    table, starts the next activity; a row without a label continues the field before it."""

    def __init__(self, drafts: list[_Draft], labels: dict[str, str]) -> None:
        self.drafts = drafts
        self.labels = labels
        self.table = 0
        self.head: str | None = None

    def read(self, row: Row) -> None:
        pairs = list(_pairs(row, self.labels))
        if not pairs:
            return
        starts_table = row.table != self.table
        self.table = row.table
        above, self.head = self.head, pairs[0][0]
        for index, (key, value, label, values, styled) in enumerate(pairs):
            current = self.drafts[-1] if self.drafts else None
            if key is None:
                if current and current.last_key:
                    current.fields[current.last_key] += "\n" + value
                    current.styled[current.last_key] += styled
                    current.cells[current.last_key].append(Cells(row.at, None, values))
                continue
            if index == 0 and key == above and current and value.strip() in ("", current.fields.get(key, "").strip()):
                # A label merged down several rows, copied into each of them (主办单位联系人).
                continue
            if current is None or key in current.fields or (starts_table and key == "organiser" and current.fields):
                current = _Draft()
                self.drafts.append(current)
            current.fields[key] = value
            current.styled[key] = list(styled)
            current.cells[key] = [Cells(row.at, label, values)]
            current.last_key = key
            starts_table = False


def _groups(blocks: Iterable[Block]) -> Iterator[Paragraph | list[Row]]:
    """Paragraphs with text, and the rows between them, together: a table that page breaks or
    empty paragraphs cut into several is still one table."""
    rows: list[Row] = []
    for block in blocks:
        if isinstance(block, Row):
            rows.append(block)
        elif block.text.strip():
            if rows:
                yield rows
                rows = []
            yield block
    if rows:
        yield rows


def _is_form(rows: list[Row], labels: dict[str, str]) -> bool:
    """The official table, or a piece of it: several labels, or the 工作方案 cell on its own."""
    found = [key for row in rows for cell in row.cells if (key := _label_of(cell, labels)[0])]
    return len(found) >= _FORM_LABELS or "plan_text" in found


def _row_line(row: Row) -> str:
    """A row of a table in the 工作方案 as a line; a one-cell table (a box round the text) keeps its lines."""
    cells = [cell for _, cell in _dedupe(row.cells) if cell.strip()]
    if len(cells) == 1:
        return "\n".join(line.strip() for line in cells[0].splitlines() if line.strip())
    return " ".join(clean(cell) for cell in cells)


def _is_blank(activity: Activity) -> bool:
    """Nothing written but the printed template: empty cells, empty brackets, empty 第__阶段."""
    timing = activity.timing
    written = (activity.modules.selected, activity.audiences.selected, timing.stage, timing.dates_text)
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


_Pair = tuple[str | None, str, int | None, tuple[int, ...], list[Styled]]


def _pairs(row: Row, labels: dict[str, str]) -> Iterable[_Pair]:
    """(label key, value, label cell, value cells, the value's set-apart text) of a row; key None for a
    value with no label before it, which continues the previous row (a table broken across pages, a label
    merged down several rows)."""
    key: str | None = None
    label: int | None = None
    values: list[str] = []
    at: list[int] = []
    styled: list[Styled] = []
    for indices, cell in _dedupe(row.cells):
        found, inline = _label_of(cell, labels)
        if found is None:
            values.append(cell)
            at.extend(indices)
            styled += row.styled_in(indices[0])
            continue
        if label is not None or values:
            yield key, _join(values), label, tuple(at), styled
        # An inline label's cell ("面向群体：…") keeps its look: the label holds no option to mark.
        key, label, values, at = found, indices[0], ([inline] if inline else []), []
        styled = list(row.styled_in(indices[0])) if inline else []
    if label is not None:
        yield key, _join(values), label, tuple(at), styled
    elif any(v.strip() for v in values):
        yield None, _join(values), None, tuple(at), styled


def _stitch(blocks: Iterable[Block], labels: dict[str, str]) -> Iterator[Block]:
    """Join a row that a PDF page break cut in two: the top half ends one table, the bottom half
    starts the next with no label of its own, and only together do their cells make sense: a label
    ("主题活动模" + "块"), a number ("13912345" + "678"), a value."""
    held: Row | None = None
    for block in blocks:
        if isinstance(block, Row) and held is not None and _continues(held, block, labels):
            cells = tuple(_glue(a, b) for a, b in zip_longest(held.cells, block.cells, fillvalue=""))
            styled = tuple(a + b for a, b in zip_longest(held.styled, block.styled, fillvalue=()))
            held = Row(cells, held.table, styled, held.at)
            continue
        if (
            isinstance(block, Row)
            and held is not None
            and held.table != block.table
            and _split_label(held, block, labels)
        ):
            # A label merged down several rows (主办单位联系人), its text cut between the rows by the break.
            yield Row((_glue(held.cells[0], block.cells[0]), *held.cells[1:]), held.table, held.styled, held.at)
            held = Row(("", *block.cells[1:]), block.table, ((), *block.styled[1:]), block.at)
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
    # The two halves may differ in cell count: each page's table is found on its own.
    if top.table == bottom.table or not any(cell.strip() for cell in bottom.cells):
        return False
    if any(_label_of(cell, labels)[0] for cell in bottom.cells):
        return False
    if not bottom.cells[0].strip():
        return any(cell.strip() for cell in top.cells)
    return _split_label(top, bottom, labels)


def _split_label(top: Row, bottom: Row, labels: dict[str, str]) -> bool:
    """The first cells make a label only together ("主办单位联" + "系人")."""
    if not top.cells or not bottom.cells or not top.cells[0].strip() or not bottom.cells[0].strip():
        return False
    parts = (top.cells[0], bottom.cells[0])
    return all(label_key(part) not in labels for part in parts) and label_key("".join(parts)) in labels


def _glue(top: str, bottom: str) -> str:
    return f"{top}\n{bottom}" if top.strip() and bottom.strip() else top + bottom


def _label_of(cell: str, labels: dict[str, str]) -> tuple[str | None, str]:
    found = labels.get(label_key(cell))
    if found:
        return found, ""
    inline = _INLINE.match(cell.strip())
    if inline and (found := labels.get(label_key(inline.group("label")))):
        return found, inline.group("value")
    return None, ""


def _dedupe(cells: tuple[str, ...]) -> list[tuple[tuple[int, ...], str]]:
    """Cells of a merged span that repeat the same text (PDF, WPS, copied rows) count once; each
    kept with the indices in the row of the cells it stands for."""
    out: list[tuple[tuple[int, ...], str]] = []
    for index, cell in enumerate(cells):
        if not out or cell != out[-1][1] or not cell.strip():
            out.append(((index,), cell))
        else:
            out[-1] = ((*out[-1][0], index), cell)
    return out


def _join(values: list[str]) -> str:
    # A tab between cells, so that cleaning, which joins a cell's wrapped lines without a space,
    # still parts the cells ("☐ 团结引领" "☐ 建家办事" must not become "☐ 团结引领☐ 建家办事").
    return _CELL_BREAK.join(v for v in values if v.strip())


class _Boilerplate:
    """The form's own printed text, left out of 工作方案: its headings (a colon added or not), and
    its title and instruction whole or as the run of lines a PDF wraps them into. A line that is only
    a piece of the instruction ("实施举措") is the sender's own subheading, not the instruction."""

    def __init__(self, layout: FormLayout) -> None:
        self.headings = {squash(t) for t in (layout.attachment_heading, layout.section_info, layout.section_plan)}
        self.texts = (squash(layout.plan_instruction), squash(layout.title))
        self.read = ""

    def reset(self) -> None:
        self.read = ""

    def skips(self, text: str) -> bool:
        key = squash(text)
        if not key:
            return True
        if key.rstrip(":") in self.headings or _ACTIVITY_MARKER.match(key):
            self.read = ""
            return True
        for start in (self.read + key, key) if self.read else (key,):
            if len(start) >= 4 and any(t.startswith(start) for t in self.texts):
                self.read = "" if start in self.texts else start
                return True
        self.read = ""
        return False


def _activity(draft: _Draft, layout: FormLayout) -> Activity:
    raw = draft.fields

    def value(key: str) -> str:
        return clean(raw.get(key, ""))

    plan_cell = raw.get("plan_text", "").replace(_CELL_BREAK, "\n").strip()
    plan = plan_cell if plan_cell else "\n".join(draft.paragraphs)
    scale = value("scale")
    return Activity(
        organiser=value("organiser"),
        title=value("title"),
        modules=read_choices(value("modules"), layout.modules, draft.styled.get("modules", ())),
        co_organiser=value("co_organiser"),
        timing=read_timing(value("time"), layout.year),
        venue=value("venue"),
        audiences=read_choices(value("audiences"), layout.audiences, draft.styled.get("audiences", ())),
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
    """A phone cell: lines broken by a PDF table's width join without spaces, but a line that starts
    a second number after a whole one ("13912345678" / "13812345678") starts a new number."""
    numbers: list[str] = []
    for line in text.replace(_CELL_BREAK, "\n").splitlines():
        line = line.strip()
        if line and numbers and not _starts_another(numbers[-1], line):
            numbers[-1] += line
        elif line:
            numbers.append(line)
    return clean("、".join(numbers))


def _starts_another(number: str, line: str) -> bool:
    # A wrapped line holds at least five digits unless it is a number's last; no number has over twelve.
    had, more = _digit_count(number), _digit_count(line)
    return had >= 7 and more >= 5 and had + more > 12 and number[-1] not in "-—－转(（"


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)
