"""The form's printed words as OCR reads them: a label with a character misread still names its
field, and the title, headings and instruction still read as the form's own text."""

from __future__ import annotations

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from parsers.records import FormLayout
from parsers.text import label_key, squash

# A two-character label (姓名, 手机, 传真, 邮箱, 地址) with one character misread is taken for the
# label only when the model doubted that character: else "张明" could be read as a label.
_SHORT_LABEL_DOUBT = 0.95
# A line outside the tables is the form's title or instruction (not the sender's 工作方案) when it
# is at least this long and this similar to a stretch of it (rapidfuzz partial ratio, 0–100).
_BOILERPLATE_CHARS = 8
_BOILERPLATE_SCORE = 88.0
_HEADING_SCORE = 80.0


class Labels:
    def __init__(self, layout: FormLayout) -> None:
        self.keys = {label_key(name): key for key, names in layout.labels.items() for name in names}
        self.headings = [layout.attachment_heading, layout.section_info, layout.section_plan]
        self.printed = [_letters(layout.title), _letters(layout.plan_instruction)]

    def field(self, text: str) -> str | None:
        """The field a cell's text labels exactly (as the form reader will take it), or None."""
        return self.keys.get(label_key(text))

    def canonical(self, text: str, doubts: list[float]) -> str | None:
        """The label that `text` is, read with at most one character wrong (two in a long label), or
        None. `doubts` are the model's confidences of the text's characters."""
        key = label_key(text)
        if not key or key in self.keys or len(key) > 16 or any(ch.isdigit() or ch == "@" for ch in key):
            return None
        allowed = 1 if len(key) <= 6 else 2
        near = [name for name in self.keys if abs(len(name) - len(key)) <= 1 and Levenshtein.distance(name, key) <= allowed]
        if len(near) != 1:
            return None
        name = near[0]
        if len(name) <= 2 and (len(key) != len(name) or min(doubts, default=1.0) >= _SHORT_LABEL_DOUBT):
            return None
        return name

    def heading(self, text: str) -> str | None:
        """The form's heading a line is, read with a character or two wrong."""
        key = squash(text)
        for heading in self.headings:
            if fuzz.ratio(key, squash(heading)) >= _HEADING_SCORE:
                return heading
        return None

    def is_printed(self, text: str) -> bool:
        """A line of the form's title or of its instruction (which the form reader would drop when read
        exactly, as it drops them from a .docx)."""
        key = _letters(text)
        if len(key) < _BOILERPLATE_CHARS:
            return False
        return any(fuzz.partial_ratio(key, printed) >= _BOILERPLATE_SCORE for printed in self.printed)


def _letters(text: str) -> str:
    """Letters, digits and characters only: OCR reads the form's punctuation every which way (、 as 丶,
    ， as ；, quotes straight or curly)."""
    return "".join(ch for ch in squash(text) if ch.isalnum())
