"""A roster file as staff keep it — a CSV in UTF-8 or GB18030 as Excel saves it, or an .xlsx — read into rows of
cells under the roster's four columns; what the cells mean is config.roster's business."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError

from config.errors import ConfigError

COLUMNS = ("name", "kind", "emails", "aliases")
# The header a column may carry: the English names of the shipped roster, and what staff write in Chinese.
HEADERS: Mapping[str, tuple[str, ...]] = {
    "name": ("name", "单位名称", "名称", "单位"),
    "kind": ("kind", "类型", "类别", "单位类型"),
    "emails": ("emails", "email", "邮箱", "电子邮箱", "邮箱地址", "电子邮件"),
    "aliases": ("aliases", "别名", "简称"),
}
HEADER_SEARCH_ROWS = 10  # a title or a note above the header is skipped, this far down
_NOTE = re.compile(r"\(.*?\)|\[.*?\]|\*")
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # .xls, and any Excel file saved with a password
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# openpyxl reports a malformed package with whatever its zip or XML layer raised: each means "not a workbook".
_XLSX_ERRORS = (zipfile.BadZipFile, zlib.error, KeyError, IndexError, ValueError, TypeError, ParseError, EOFError)


class RosterFileError(ConfigError):
    """A roster file that cannot be read as a table; `code` names why (unreadable, encoding, format, header)."""

    def __init__(self, path: Path | str, key: str, problem: str, code: str) -> None:
        super().__init__(path, key, problem)
        self.code = code


@dataclass(frozen=True)
class RosterRow:
    number: int  # the row as the spreadsheet numbers it: the file's first line or row is 1
    cells: Mapping[str, str]  # column (name, kind, emails, aliases) -> the cell's text, stripped


@dataclass(frozen=True)
class RosterTable:
    headers: Mapping[str, str]  # column -> its header as written in the file, to name it back to staff
    rows: tuple[RosterRow, ...]  # every row below the header with something in one of the four columns


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RosterFileError(path, "", f"无法读取：{exc.strerror or exc}", "unreadable") from exc


def read_table(data: bytes, path: Path) -> RosterTable:
    """The table in a roster file's bytes; `path` names it in errors and its suffix is only a tie-breaker."""
    if data.startswith(_ZIP):
        return _table(path, _xlsx_rows(data, path))
    if data.startswith(_OLE):
        raise RosterFileError(path, "", "这是 .xls 或加了密码的 Excel 文件：请另存为 .xlsx（不加密）或 CSV", "format")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise RosterFileError(path, "", "不是有效的 .xlsx 文件（文件可能不完整）", "format")
    return _table(path, _csv_rows(decode_csv(data, path), path))


def decode_csv(data: bytes, path: Path) -> str:
    """UTF-8 (Excel's "CSV UTF-8" adds a BOM), else GB18030 (its plain "CSV" on a Chinese Windows; GBK is a
    subset): UTF-8 is tried first and strictly, since GBK text is almost never valid UTF-8 but not the reverse."""
    if data.startswith(_UTF16_BOMS):
        raise RosterFileError(
            path, "", "这是 UTF-16 文本（Excel 的“Unicode 文本”）：请另存为“CSV UTF-8”或 .xlsx", "encoding"
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text
    raise RosterFileError(path, "", "既不是 UTF-8 也不是 GBK/GB18030 编码的 CSV 文件，也不是 .xlsx 文件", "encoding")


def _looks_like_text(text: str) -> bool:
    """GB18030 decodes much binary without complaint; control characters say it was not text."""
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text)


def _csv_rows(text: str, path: Path) -> list[Sequence[object]]:
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:  # a cell past the csv module's size limit: not a roster anyone typed
        raise RosterFileError(path, "", f"不是可读的 CSV 文件（{exc}）", "format") from exc


def _xlsx_rows(data: bytes, path: Path) -> list[Sequence[object]]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():  # Excel's extensions openpyxl drops (data validation...) are not our concern
            warnings.simplefilter("ignore", UserWarning)
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]
            finally:
                book.close()
    except _XLSX_ERRORS as exc:
        raise RosterFileError(path, "", f"不是有效的 .xlsx 文件（{type(exc).__name__}: {exc}）", "format") from exc


def _table(path: Path, rows: Iterable[Sequence[object]]) -> RosterTable:
    found: dict[str, int] | None = None
    headers: dict[str, str] = {}
    out: list[RosterRow] = []
    for number, row in enumerate(rows, start=1):
        cells = [_text(value) for value in row]
        if found is None:
            if number > HEADER_SEARCH_ROWS:
                break
            found, headers = _header(path, cells)
            continue
        picked = {column: cells[i] if i < len(cells) else "" for column, i in found.items()}
        if any(picked.values()):
            out.append(RosterRow(number, picked))
    if found is None:
        raise RosterFileError(path, "表头", f"找不到表头：应有 {_named(COLUMNS)} 四列", "header")
    return RosterTable(headers, tuple(out))


def _header(path: Path, cells: list[str]) -> tuple[dict[str, int] | None, dict[str, str]]:
    """The columns this row names, if it names any; it must then name all four, each once."""
    found: dict[str, int] = {}
    for i, cell in enumerate(cells):
        column = _column(cell)
        if column is None:
            continue  # a column of notes or contacts beside the roster: ignored
        if column in found:
            raise RosterFileError(path, "表头", f"“{cells[found[column]]}”和“{cell}”是同一列", "header")
        found[column] = i
    if not found:
        return None, {}
    missing = [column for column in COLUMNS if column not in found]
    if missing:
        raise RosterFileError(path, "表头", f"缺少列 {_named(missing)}；应有 {','.join(COLUMNS)} 四列", "header")
    return found, {column: cells[i] for column, i in found.items()}


def _named(columns: Sequence[str]) -> str:
    return "、".join(f"{column}（{'/'.join(HEADERS[column][1:])}）" for column in columns)


def _column(header: str) -> str | None:
    """The column a header names; a note in brackets or a required-mark (“邮箱（多个用分号分隔）*”) is ignored."""
    key = _NOTE.sub("", "".join(unicodedata.normalize("NFKC", header).lower().split()))
    return next((column for column, names in HEADERS.items() if key in names), None)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()
