"""A .docx as blocks: the main document part is read from the package (after its bounds are checked) and its
body walked in document order. Only that part is parsed: opening every part with python-docx cost most of a
form's reading time. `open_docx` still gives a python-docx Document, for the annotator that writes one."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from lxml import etree

from parsers.blocks import Block, Paragraph, Row, Styled
from parsers.errors import UnreadableDocument
from parsers.package import check_package, read_member, read_members, repack
from parsers.text import symbol_char

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_P, _TBL, _TR, _TC, _SDT = (f"{{{W}}}{tag}" for tag in ("p", "tbl", "tr", "tc", "sdt"))
_T, _TAB, _BR, _CR, _SYM = (f"{{{W}}}{tag}" for tag in ("t", "tab", "br", "cr", "sym"))
_CHECKBOX, _W14_CHECKBOX = f"{{{W}}}checkBox", f"{{{W14}}}checkbox"
_TEXT_TAGS = (_T, _TAB, _BR, _CR, _SYM, _CHECKBOX)
_STRICT = {
    b"http://purl.oclc.org/ooxml/wordprocessingml/main": W.encode(),
    b"http://purl.oclc.org/ooxml/officeDocument/relationships": (
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ),
    b"http://purl.oclc.org/ooxml/drawingml/main": b"http://schemas.openxmlformats.org/drawingml/2006/main",
}
_ROOT_RELS = "_rels/.rels"


# As python-docx parses a part, so the walk sees the same elements whichever way the document was opened.
_PARSER = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
_OFFICE_DOCUMENT = "/officeDocument"  # the main part's relationship type ends so, in transitional and Strict
_INCOMPLETE = "Word 文件不完整（缺少正文等必要部分），无法读取"
_MALFORMED = "Word 文件已损坏或格式不正确，无法读取"


def read_docx_blocks(data: bytes) -> list[Block]:
    return body_blocks(_main_body(data))


def _main_body(data: bytes) -> Any:
    package = check_package(data)
    rels = read_member(package, _ROOT_RELS) or b""
    strict = any(namespace in rels for namespace in _STRICT)
    target = _main_target(_transitional(_ROOT_RELS, rels) if strict else rels)
    part = read_member(package, target) if target else None
    if part is None:
        raise UnreadableDocument("corrupt", _INCOMPLETE, f"no main document part ({target!r})")
    try:
        root = etree.fromstring(_transitional(target, part) if strict else part, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise UnreadableDocument("corrupt", _MALFORMED, repr(exc)) from exc
    body = root.find(f"{{{W}}}body") if root.tag == f"{{{W}}}document" else None
    if body is None:
        raise UnreadableDocument("corrupt", "Word 文件已损坏（没有正文部分），无法读取", f"root {root.tag!r}")
    return body


def _main_target(rels: bytes) -> str:
    """The package's main part, as its relationships name it ("word/document.xml"); "" if none does."""
    try:
        root = etree.fromstring(rels, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return ""
    for relationship in root:
        kind, target = str(relationship.get("Type", "")), str(relationship.get("Target", ""))
        if kind.endswith(_OFFICE_DOCUMENT) and relationship.get("TargetMode") != "External" and target:
            return target.lstrip("/")
    return ""


def body_blocks(body: Any, elements: list[Any] | None = None) -> list[Block]:
    """The body's rows and paragraphs in reading order, each block's `at` its index in the list.
    `elements`, when given, receives each block's w:tr or w:p at the same index; the body is left
    as it was found."""
    # Text boxes are written twice (mc:Choice and mc:Fallback); one copy is read, and the other is
    # put back after so that a document being annotated keeps it.
    removed = []
    for fallback in list(body.iter(f"{{{MC}}}Fallback")):
        parent = fallback.getparent()
        removed.append((parent, parent.index(fallback), fallback))
        parent.remove(fallback)
    try:
        return list(_walk(body, _Walk(elements)))
    finally:
        for parent, index, fallback in reversed(removed):
            parent.insert(index, fallback)


def open_docx(data: bytes) -> Any:
    """A python-docx Document of the bytes, after the package's bounds are checked."""
    members = read_members(check_package(data))
    if any(strict in members.get(_ROOT_RELS, b"") for strict in _STRICT):
        # ISO Strict OOXML: python-docx knows only the transitional namespaces, which mean the same.
        members = {name: _transitional(name, part) for name, part in members.items()}
    import docx  # loaded only to write: reading walks the main part alone

    try:
        # Repacked uncompressed: python-docx then inflates nothing the checks above have not bounded.
        document = docx.Document(io.BytesIO(repack(members)))
    except KeyError as exc:
        # The package lacks a part it must have (the document body, or the relationship to it).
        raise UnreadableDocument("corrupt", _INCOMPLETE, repr(exc)) from exc
    except (ValueError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        raise UnreadableDocument("corrupt", _MALFORMED, repr(exc)) from exc
    return document


def document_body(document: Any) -> Any:
    # Looked up rather than `document.element.body`: a hostile root element need not be w:document.
    body = document.element.find(f"{{{W}}}body")
    if body is None:
        raise UnreadableDocument("corrupt", "Word 文件已损坏（没有正文部分），无法读取", "no w:body")
    return body


def _transitional(name: str, part: bytes) -> bytes:
    if not name.endswith((".xml", ".rels")):
        return part
    for strict, transitional in _STRICT.items():
        part = part.replace(strict, transitional)
    return part


class _Walk:
    """Tables and blocks counted so far, and the elements they came from when someone wants them."""

    def __init__(self, elements: list[Any] | None) -> None:
        self.tables = 0
        self.blocks = 0
        self.elements = elements

    def next_table(self) -> int:
        self.tables += 1
        return self.tables

    def next_block(self, element: Any) -> int:
        if self.elements is not None:
            self.elements.append(element)
        self.blocks += 1
        return self.blocks - 1


def _walk(container: Any, walk: _Walk) -> Iterator[Block]:
    for child in container.iterchildren(_P, _TBL, _SDT):
        if child.tag == _P:
            yield Paragraph(paragraph_text(child), walk.next_block(child))
        elif child.tag == _SDT:
            for content in child.iterchildren(f"{{{W}}}sdtContent"):
                yield from _walk(content, walk)
        else:
            yield from _table(child, walk)


def _table(tbl: Any, walk: _Walk) -> Iterator[Block]:
    if tbl.find(f".//{_TC}/{_TBL}") is not None:
        # A layout table holding the real table: read what its cells hold as blocks of their own.
        for cell in tbl.iter(_TC):
            if cell.getparent().getparent() is tbl:
                yield from _walk(cell, walk)
        return
    number = walk.next_table()
    for tr in tbl.iter(_TR):
        cells = list(row_cells(tr))
        styled = tuple(_cell_styled(tc) for tc in cells)
        yield Row(tuple(_cell_text(tc) for tc in cells), number, styled, walk.next_block(tr))


def row_cells(tr: Any) -> Iterator[Any]:
    """A row's w:tc elements, one per cell of `Row.cells`."""
    return tr.iter(_TC)  # type: ignore[no-any-return]


def _continued(tc: Any) -> bool:
    merge = tc.find(f"{{{W}}}tcPr/{{{W}}}vMerge")
    return merge is not None and merge.get(f"{{{W}}}val", "continue") == "continue"


def _cell_text(tc: Any) -> str:
    if _continued(tc):
        return ""
    return "\n".join(paragraph_text(p) for p in tc.iter(_P))


def _cell_styled(tc: Any) -> tuple[Styled, ...]:
    """The cell's stretches of bold, highlighted, shaded or coloured text, each kind on its own; a
    shaded cell or paragraph shades all its text. Only direct formatting counts: a style applies to
    every option alike, so it marks none."""
    if _continued(tc):
        return ()
    whole = _shading(tc.find(f"{{{W}}}tcPr/{{{W}}}shd"))
    found: list[Styled] = []
    for p in tc.iter(_P):
        shaded = whole | _shading(p.find(f"{{{W}}}pPr/{{{W}}}shd"))
        stretches: dict[str, list[str]] = {}
        for el in p.iter(_T, _TAB, _SYM):
            kinds = shaded | _run_look(el.getparent())
            for how in [how for how in stretches if how not in kinds]:
                found.append(Styled(how, "".join(stretches.pop(how))))
            for how in kinds:
                stretches.setdefault(how, []).append(el.text or "" if el.tag == _T else " ")
        found += [Styled(how, "".join(text)) for how, text in stretches.items()]
    return tuple(styled for styled in found if styled.text.strip())


_OFF = ("0", "false", "off", "none")
_PLAIN_COLOURS = ("auto", "000000", "ffffff")


def _run_look(run: Any) -> frozenset[str]:
    rpr = run.find(f"{{{W}}}rPr") if run is not None else None
    if rpr is None:
        return frozenset()
    kinds: set[str] = set(_shading(rpr.find(f"{{{W}}}shd")))
    bold = rpr.find(f"{{{W}}}b")
    if bold is not None and bold.get(f"{{{W}}}val", "true").lower() not in _OFF:
        kinds.add("bold")
    highlight = rpr.find(f"{{{W}}}highlight")
    if highlight is not None and highlight.get(f"{{{W}}}val", "none").lower() not in _OFF:
        kinds.add("highlight")
    colour = rpr.find(f"{{{W}}}color")
    if colour is not None and colour.get(f"{{{W}}}val", "auto").lower() not in _PLAIN_COLOURS:
        kinds.add("colour")
    return frozenset(kinds)


def _shading(shd: Any) -> frozenset[str]:
    """A w:shd that paints a colour: a fill, or a solid pattern in a colour (WPS and Word write either)."""
    if shd is None or shd.get(f"{{{W}}}val", "clear") == "nil":
        return frozenset()
    fill = shd.get(f"{{{W}}}fill", "auto").lower()
    pattern = shd.get(f"{{{W}}}color", "auto").lower() if shd.get(f"{{{W}}}val") == "solid" else "auto"
    return frozenset({"shading"}) if fill not in _PLAIN_COLOURS or pattern not in _PLAIN_COLOURS else frozenset()


def paragraph_text(p: Any) -> str:
    parts: list[str] = []
    for el in p.iter(_TEXT_TAGS):
        tag = el.tag
        if tag == _T:
            parts.append(el.text or "")
        elif tag == _SYM:
            parts.append(symbol_char(el.get(f"{{{W}}}font", ""), _hex(el.get(f"{{{W}}}char", "0"))))
        elif tag == _CHECKBOX:
            parts.append("☑" if _legacy_checked(el) else "☐")
        else:
            parts.append("\n" if tag in (_BR, _CR) else " ")
    return "".join(parts)


def _hex(code: str) -> int:
    # A w:sym char that is not hex (a hand-edited or hostile file) draws nothing we know.
    try:
        return int(code, 16)
    except ValueError:
        return 0


def _legacy_checked(box: Any) -> bool:
    for name in ("checked", "default"):
        el = box.find(f"{{{W}}}{name}")
        if el is not None:
            return el.get(f"{{{W}}}val", "1") not in ("0", "false", "off")
    return False
