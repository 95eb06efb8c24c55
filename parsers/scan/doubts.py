"""Which fields of a scanned form a person should check: those whose OCR confidence is low.

Each value cell's lowest character confidence is paired with its label the way the form reader pairs
text with labels (a label seen again starts the next activity), and a field is doubtful when that
confidence is below UNCERTAIN_BELOW."""

from __future__ import annotations

from dataclasses import dataclass, field

from parsers.blocks import Paragraph
from parsers.form_reader import FormRead
from parsers.scan.labels import Labels
from parsers.scan.sheet import Placed

# PP-OCRv4's confidence of a character is the probability it gave it; a field's is its lowest over
# letters, digits and characters (punctuation left out). Misreads seen while building this scored
# 0.3–0.8 (remnants of a seal read as extra characters, 传真 as 传眞 at 0.83), while on the bench's
# pages (bench/bench_ocr.py) 220 of 224 fields read right had every character at 0.85 or more. So a
# field below 0.85 is listed for a person to check (「请人工核对」), at about 2% false alarms. What a
# confidence cannot show: a character left out (a digit dropped from a phone number) or a confident
# misreading; the campaign's rules still check every value's form. Ticks parsers.scan.ticks finds
# doubtful score 0.
UNCERTAIN_BELOW = 0.85
# The fields that are reported (a label key of the form; "contact" is the group label, whose value
# beside it is the contact's name).
_REPORTED = {"contact": "contact.name"}
_CORE = {"organiser", "title", "modules", "time"}


@dataclass
class _Draft:
    scores: dict[str, float] = field(default_factory=dict)
    # The 工作方案 was a cell of the table, so the paragraphs after it are not the plan.
    plan_in_table: bool = False

    def lower(self, key: str, score: float) -> None:
        self.scores[key] = min(self.scores.get(key, 1.0), score)


def uncertain_fields(placed: list[Placed], labels: Labels, form: FormRead) -> tuple[tuple[int, str], ...]:
    """(activity index, field key) of each doubtful field, the activities as `form` holds them."""
    drafts = [d for d in _drafts(placed, labels) if _CORE & d.scores.keys()]
    if form.blank_tables and len(drafts) == len(form.activities) + form.blank_tables:
        drafts = [d for d in drafts if any(score < 1.0 for score in d.scores.values())]
    return tuple(
        (index, _REPORTED.get(key, key))
        for index, draft in enumerate(drafts[: len(form.activities)])
        for key, score in draft.scores.items()
        if score < UNCERTAIN_BELOW
    )


def _drafts(placed: list[Placed], labels: Labels) -> list[_Draft]:
    """Per activity, each label key's lowest confidence over its value cells (and over the
    paragraphs after the table, for a 工作方案 written below it)."""
    drafts: list[_Draft] = []
    last: str | None = None
    table = -1
    for item in placed:
        block = item.block
        if isinstance(block, Paragraph):
            if drafts and not drafts[-1].plan_in_table:
                drafts[-1].lower("plan_text", item.scores[0])
            continue
        starts_table = block.table != table
        table = block.table
        for text, score in zip(block.cells, item.scores, strict=True):
            key = labels.field(text)
            if key is None:
                if drafts and last:
                    drafts[-1].lower(last, score)
                continue
            current = drafts[-1] if drafts else None
            if current is None or key in current.scores or (starts_table and key == "organiser" and current.scores):
                current = _Draft()
                drafts.append(current)
            current.lower(key, 1.0)
            current.plan_in_table |= key == "plan_text"
            last = key
            starts_table = False
    return drafts
