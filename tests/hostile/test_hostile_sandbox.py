"""The sandbox: a file is read in a forked worker held to memory, CPU and wall-clock limits, and whatever
the worker does (answers, raises, runs out, dies) comes back to the parent as a value or an exception."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from test_bad_files import flate_bomb_pdf

from bot.forms.check import check_form
from bot.forms.sandbox import ChildError, Exhausted, Limits, check_limited, run_limited
from config import Context

FORMS = Path(__file__).resolve().parents[1] / "fixtures" / "forms"
SMALL = Limits(memory=256 << 20, cpu_seconds=2, wall_seconds=60)


class Unpicklable(Exception):
    def __init__(self, code: str, message: str) -> None:  # pickle calls this with one argument
        super().__init__(f"{code}: {message}")


def fail() -> None:
    raise ValueError("bad cell")


def fail_unpicklably() -> None:
    raise Unpicklable("corrupt", "zip")


def spin() -> int:
    total = 0
    while True:
        total += 1


def _vm_hwm_mib() -> float:
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s*(\d+) kB", text).group(1)) / 1024  # type: ignore[union-attr]


def test_a_form_read_in_the_child_equals_the_form_read_here(ctx: Context) -> None:
    data = (FORMS / "official-standard.docx").read_bytes()
    assert check_limited(data, "方案.docx", ctx, None) == check_form(data, "方案.docx", ctx, None)


def test_the_childs_exception_is_raised_here_with_its_traceback() -> None:
    with pytest.raises(ValueError, match="bad cell") as raised:
        run_limited(fail, limits=SMALL)
    assert any("in fail" in note for note in raised.value.__notes__)


def test_an_exception_pickle_cannot_carry_comes_back_as_text() -> None:
    with pytest.raises(ChildError, match="Unpicklable: corrupt: zip"):
        run_limited(fail_unpicklably, limits=SMALL)


def test_memory_past_the_limit_is_exhaustion_and_the_parent_keeps_its_size() -> None:
    before = _vm_hwm_mib()
    with pytest.raises(Exhausted) as raised:
        run_limited(bytearray, 1 << 30, limits=SMALL)
    assert raised.value.reason == "memory"
    assert _vm_hwm_mib() - before < 64


def test_cpu_past_the_limit_is_exhaustion() -> None:
    with pytest.raises(Exhausted) as raised:
        run_limited(spin, limits=Limits(cpu_seconds=1))
    assert raised.value.reason == "cpu"


def test_a_child_that_blocks_is_killed_at_the_wall_clock_limit() -> None:
    with pytest.raises(Exhausted) as raised:
        run_limited(time.sleep, 600, limits=Limits(wall_seconds=0.5))
    assert raised.value.reason == "time"


def test_a_child_that_dies_is_a_crash() -> None:
    with pytest.raises(Exhausted) as raised:
        run_limited(os._exit, 3, limits=SMALL)
    assert (raised.value.reason, raised.value.detail) == ("crash", "exited with status 3 and no result")


def test_a_large_result_comes_back_whole() -> None:
    assert run_limited(bytes, 8 << 20, limits=SMALL) == bytes(8 << 20)


def test_a_flate_bomb_pdf_is_unreadable_and_the_bot_stays_small(ctx: Context) -> None:
    before = _vm_hwm_mib()
    result = check_limited(flate_bomb_pdf(), "方案.pdf", ctx, None, SMALL)
    assert result.verdict == "unreadable"
    assert [f.code for f in result.findings] == ["too_large"]
    assert result.read.unreadable is not None and "MemoryError" in result.read.unreadable.detail
    assert _vm_hwm_mib() - before < 64
