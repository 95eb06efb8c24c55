"""Any form written by `write_form` and filled with generated values reads back to exactly those values."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.forms.check import activity_json
from bot.forms.layout import form_layout
from config import load_campaign
from parsers.form_writer import FormEntry, write_form
from parsers.plan import read_plan
from parsers.text import label_key

CAMPAIGN = load_campaign()
LAYOUT = form_layout(CAMPAIGN)
LABELS = {label_key(name) for names in LAYOUT.labels.values() for name in names}
# Common CJK characters, letters and digits: what branches type into a cell.
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
WORD_CHARS = st.one_of(CJK, st.sampled_from("ABCDEFGHabcdefgh0123456789（）《》-"))


def _text(min_size: int = 1, max_size: int = 20) -> st.SearchStrategy[str]:
    # A value that is itself a label (say "地址") would be read as one: branches do not write those.
    return st.text(WORD_CHARS, min_size=min_size, max_size=max_size).filter(lambda t: label_key(t) not in LABELS)


def _date_text(day: dt.date, style: int) -> str:
    return [
        f"{day.month}月{day.day}日",
        f"{day.month}.{day.day}",
        f"{day.month}/{day.day}",
        day.isoformat(),
        f"{day.year}年{day.month}月{day.day}日",
    ][style]


@st.composite
def entries(draw: st.DrawFn) -> tuple[FormEntry, dict[str, object]]:
    stage = draw(st.sampled_from(CAMPAIGN.stages))
    span = (stage.end - stage.start).days
    start = stage.start + dt.timedelta(days=draw(st.integers(0, span)))
    end = start + dt.timedelta(days=draw(st.integers(0, (stage.end - start).days)))
    style = draw(st.integers(0, 4))
    joiner = draw(st.sampled_from(["—", "–", "-", "~", "至", "到"]))
    stage_word = draw(st.sampled_from([f"第{'一二三'[stage.number - 1]}阶段", f"第{stage.number}阶段", str(stage.number)]))
    dates = _date_text(start, style) if start == end else f"{_date_text(start, style)}{joiner}{_date_text(end, style)}"
    people = draw(st.integers(1, 50_000))
    cells = {
        "organiser": draw(_text()),
        "title": draw(_text()),
        "co_organiser": draw(_text()),
        "time": f"{stage_word}；{dates}",
        "venue": draw(_text()),
        "scale": f"约{people}人",
        "contact.name": draw(_text(2, 4)),
        "contact.office_phone": f"010-{draw(st.integers(20000000, 89999999))}",
        "contact.mobile": f"1{draw(st.integers(3, 9))}{draw(st.integers(0, 999999999)):09d}",
        "contact.fax": draw(st.sampled_from(["", "010-62067126"])),
        "contact.email": f"{draw(st.from_regex(r'[a-z][a-z0-9]{1,10}', fullmatch=True))}@example.com",
        "address": draw(_text()),
    }
    modules = tuple(m for m in LAYOUT.modules if draw(st.booleans()))
    audiences = tuple(a for a in LAYOUT.audiences if draw(st.booleans()))
    plan_lines = draw(st.lists(_text(4, 40), min_size=1, max_size=4))
    tick = draw(st.sampled_from(["√", "✓", "✔", "V", "X", "是"]))
    entry = FormEntry(cells, modules, audiences, "\n".join(plan_lines), tick)
    expected = {
        "organiser": cells["organiser"],
        "title": cells["title"],
        "modules": list(modules),
        "co_organiser": cells["co_organiser"],
        "stage": stage.number,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "venue": cells["venue"],
        "audiences": list(audiences),
        "scale": cells["scale"],
        "scale_people": people,
        "contact": {key.removeprefix("contact."): cells[key] for key in cells if key.startswith("contact.")},
        "address": cells["address"],
        "plan_text": "\n".join(plan_lines),
    }
    return entry, expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(entries(), min_size=1, max_size=3))
def test_written_form_reads_back_exactly(filled: list[tuple[FormEntry, dict[str, object]]]) -> None:
    data = write_form(LAYOUT, [entry for entry, _ in filled])
    read = read_plan(data, "方案.docx", LAYOUT)
    assert read.unreadable is None
    assert [activity_json(a) for a in read.activities] == [expected for _, expected in filled]


def test_blank_form_reads_as_one_blank_table() -> None:
    read = read_plan(write_form(LAYOUT), "空白.docx", LAYOUT)
    assert read.activities == ()
    assert read.blank_tables == 1
