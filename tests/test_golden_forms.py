"""Every plan form in tests/fixtures/forms/ reads as the answer written beside it.

The forms and their answers come from tests/fixtures/make_forms.py; .doc/.wps/.odt go through
LibreOffice as in production (the warm server, bot/forms/convert/warm.py), so the suite needs `soffice` and
LibreOffice's Python with `uno` (`make test` installs both).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.forms.check import check_form, result_json
from bot.forms.convert import Converter, Office, converter
from config import Context

FORMS = Path(__file__).parent / "fixtures" / "forms"
ANSWER = ".expected.json"
CASES = sorted(path for path in FORMS.iterdir() if not path.name.endswith(ANSWER))
# Forms still read wrong, and why. Strict: once the reader gets one right, the test says to drop it here.
KNOWN_WRONG: dict[str, str] = {}


def _case(path: Path) -> Any:
    wrong = KNOWN_WRONG.get(path.name)
    return pytest.param(path, id=path.name, marks=[pytest.mark.xfail(strict=True, reason=wrong)] if wrong else [])


@pytest.fixture(scope="module")
def convert() -> Iterator[Converter]:
    convert = converter()
    assert isinstance(convert, Office), "LibreOffice and its Python with uno are needed; run `make system-deps`"
    yield convert
    convert.close()


@pytest.mark.parametrize("form", [_case(path) for path in CASES])
def test_golden_form(form: Path, ctx: Context, convert: Converter) -> None:
    expected = json.loads(form.with_suffix(ANSWER).read_text(encoding="utf-8"))

    got = result_json(check_form(form.read_bytes(), form.name, ctx, convert))

    assert got["activities"] == expected["activities"]
    assert _findings(got["findings"]) == _findings(expected["findings"])
    assert got["verdict"] == expected["verdict"]


def _findings(findings: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(f["activity"], f["field"], f["severity"], f["code"]) for f in findings}


def test_every_form_has_an_answer() -> None:
    answers = {path.name.removesuffix(ANSWER) for path in FORMS.glob(f"*{ANSWER}")}
    assert CASES
    assert sorted(path.stem for path in CASES) == sorted(answers)
