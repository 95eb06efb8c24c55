"""Text normalisation shared by the readers: width folding, labels, symbol fonts and wrapped lines."""

from __future__ import annotations

import re
import unicodedata

# Word writes ticks and boxes as symbol-font characters (w:sym, or Private Use Area code points in
# PDF text); these are the ones branch staff pick from Word's and WPS's symbol dialogs.
SYMBOL_CHARS = {
    0xF0FC: "✓",
    0xF0FB: "✗",
    0xF0FE: "☑",
    0xF0FD: "☒",
    0xF0A8: "☐",
    0xF06F: "☐",
    0xF078: "☒",
    0xF0A1: "○",
    0xF06C: "●",
    0xF06E: "■",
    0xF071: "☐",
    0xF0B2: "☐",
}
WINGDINGS2_CHARS = {0xF050: "✓", 0xF052: "☑", 0xF054: "☒", 0xF0A3: "☐", 0xF04F: "✗", 0xF053: "☒", 0xF0A2: "☐"}

_SPACES = re.compile(r"\s+")
_HINT = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]?$")
_ENUM = re.compile(r"^(?:[一二三四五六七八九十]+[、.．]|\d+[、.．)）])")
_CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef0-9\-—–]")


def symbol_char(font: str, code: int) -> str:
    """The character a w:sym (font, code) draws, or '' when it is not a known tick or box."""
    table = WINGDINGS2_CHARS if "2" in font else SYMBOL_CHARS
    code = code if code >= 0xF000 else code + 0xF000
    return table.get(code, "")


# Where the font is not known (PDF text, a w:t that LibreOffice or WPS wrote in a symbol font), both
# tables apply: they share no code point, and the glyphs either one means are the marks people use.
_ANY_SYMBOL_FONT = {**WINGDINGS2_CHARS, **SYMBOL_CHARS}


def fold_symbols(text: str) -> str:
    """Replace Private Use Area symbol-font code points by the ticks and boxes they draw."""
    if not any("\uf000" <= ch <= "\uf0ff" for ch in text):
        return text
    return "".join(_ANY_SYMBOL_FONT.get(ord(ch), ch) if "\uf000" <= ch <= "\uf0ff" else ch for ch in text)


def squash(text: str) -> str:
    """NFKC-folded text without any white space: for comparing labels and headings."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def label_key(text: str) -> str:
    """A cell's text as a label candidate: folded, no spaces, no enumeration, hint or trailing colon."""
    key = squash(text).rstrip(":")
    key = _ENUM.sub("", key)
    while True:
        stripped = _HINT.sub("", key).rstrip(":")
        if stripped == key or not stripped:
            return key.lower()
        key = stripped


def join_lines(text: str) -> str:
    """One value from a cell whose text wrapped: CJK and digits join directly, words with a space."""
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n")]
    out = ""
    for line in filter(None, lines):
        if out and not (_CJK.match(out[-1]) or _CJK.match(line[0])):
            out += " "
        out += line
    return out


def clean(text: str) -> str:
    """A field value as it should be stored: one line, single spaces, trimmed."""
    return _SPACES.sub(" ", join_lines(text)).strip()
