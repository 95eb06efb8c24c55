"""The sandbox's worker: forked once, it reads file after file, each under its own limits; whatever ends a job
badly (memory, CPU, wall clock, a crash, an exception) ends the worker too, and the next job gets a new one.
It is also replaced after a number of jobs or when it has grown, and holds nothing of the parent's open."""

from __future__ import annotations

import ctypes
import os
import pickle
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_bad_files import flate_bomb_pdf

from bot.forms.check import check_form
from bot.forms.sandbox import Exhausted, Limits, Reader, check_limited
from config import Context

ROOT = Path(__file__).resolve().parents[1]
FORMS = ROOT / "tests" / "fixtures" / "forms"
SMALL = Limits(memory=256 << 20, cpu_seconds=2, wall_seconds=60)
HOARD: list[bytearray] = []  # what a job leaves behind in the worker


def spin() -> None:
    while True:
        pass


def segfault() -> None:
    ctypes.string_at(0)


def burn(seconds: float) -> int:
    """CPU time, not wall-clock time: what RLIMIT_CPU counts."""
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return os.getpid()


def hoard(size: int) -> int:
    HOARD.append(bytearray(b"x" * size))  # touched, so resident
    return len(HOARD)


def hoarded() -> int:
    return len(HOARD)


def open_files() -> list[str]:
    fds = Path("/proc/self/fd")
    return [os.readlink(fd) for fd in fds.iterdir() if fd.exists()]


def _vm_hwm_mib() -> float:
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s*(\d+) kB", text).group(1)) / 1024  # type: ignore[union-attr]


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.fixture
def reader() -> Iterator[Reader]:
    reading = Reader()
    yield reading
    reading.close()


def test_jobs_after_jobs_are_read_by_one_worker(reader: Reader) -> None:
    pids = [reader.run(os.getpid, (), SMALL) for _ in range(5)]
    assert len(set(pids)) == 1
    assert pids[0] != os.getpid()


EXHAUSTING: list[tuple[str, Callable[..., object], tuple[object, ...], Limits, str]] = [
    ("memory bomb", bytearray, (1 << 30,), SMALL, "memory"),
    ("CPU loop", spin, (), Limits(cpu_seconds=1), "cpu"),
    ("sleep", time.sleep, (600,), Limits(wall_seconds=0.5), "time"),
    ("exit", os._exit, (3,), SMALL, "crash"),
    ("segfault", segfault, (), SMALL, "crash"),
]


@pytest.mark.parametrize(("what", "work", "args", "limits", "reason"), EXHAUSTING, ids=[e[0] for e in EXHAUSTING])
def test_an_exhausted_job_ends_its_worker_and_the_next_job_gets_a_new_one(
    reader: Reader, what: str, work: Callable[..., object], args: tuple[object, ...], limits: Limits, reason: str
) -> None:
    before = reader.run(os.getpid, (), SMALL)
    with pytest.raises(Exhausted) as raised:
        reader.run(work, args, limits)
    assert raised.value.reason == reason
    after = reader.run(os.getpid, (), SMALL)
    assert after != before
    assert _reaped(before)  # no zombie left behind
    assert reader.run(os.getpid, (), SMALL) == after


def test_a_segfault_names_its_signal(reader: Reader) -> None:
    with pytest.raises(Exhausted) as raised:
        reader.run(segfault, (), SMALL)
    assert raised.value.detail == "killed by SIGSEGV"


def test_the_exception_of_a_job_comes_back_as_itself_and_the_worker_is_replaced(reader: Reader) -> None:
    before = reader.run(os.getpid, (), SMALL)
    with pytest.raises(ValueError, match="invalid literal"):
        reader.run(int, ("七",), SMALL)
    assert reader.run(os.getpid, (), SMALL) != before


def test_work_that_cannot_be_sent_fails_in_the_caller(reader: Reader) -> None:
    with pytest.raises((pickle.PicklingError, AttributeError)):
        reader.run(lambda: 1, (), SMALL)
    assert reader.run(hoarded, (), SMALL) == 0


def test_each_job_has_its_own_cpu_seconds_not_the_workers_total(reader: Reader) -> None:
    pids = [reader.run(burn, (0.7,), Limits(cpu_seconds=1)) for _ in range(3)]  # 2.1 s in all
    assert len(set(pids)) == 1


def test_the_worker_is_replaced_after_max_jobs() -> None:
    reading = Reader(max_jobs=3)
    try:
        pids = [reading.run(os.getpid, (), SMALL) for _ in range(7)]
    finally:
        reading.close()
    assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4] == pids[5] != pids[6]
    assert _reaped(pids[0]) and _reaped(pids[3])


def test_what_a_job_leaves_behind_meets_the_next_until_the_worker_has_grown_too_much() -> None:
    reading = Reader(max_growth=64 << 20)
    try:
        assert reading.run(hoard, (1 << 20,), SMALL) == 1
        assert reading.run(hoarded, (), SMALL) == 1  # the trade-off of one worker for many files
        assert reading.run(hoard, (96 << 20,), SMALL) == 2
        assert reading.run(hoarded, (), SMALL) == 0  # a new worker, forked from a parent that hoards nothing
    finally:
        reading.close()
    assert HOARD == []


def test_the_worker_resets_the_signals_a_bot_handles(reader: Reader) -> None:
    assert reader.run(signal.getsignal, (signal.SIGINT,), SMALL) == signal.SIG_DFL
    assert reader.run(signal.getsignal, (signal.SIGTERM,), SMALL) == signal.SIG_DFL


def test_the_worker_holds_none_of_the_parents_open_files(reader: Reader, tmp_path: Path) -> None:
    ledger = sqlite3.connect(tmp_path / "ledger.db")
    try:
        ledger.execute("CREATE TABLE t (x)")
        ledger.commit()
        assert str(tmp_path / "ledger.db") in open_files()  # here, in the parent
        assert str(tmp_path / "ledger.db") not in reader.run(open_files, (), SMALL)
    finally:
        ledger.close()


def test_threads_take_turns_with_the_worker(reader: Reader) -> None:
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda n: reader.run(abs, (-n,), SMALL), range(40)))
    assert results == list(range(40))


def test_closing_ends_the_worker(reader: Reader) -> None:
    pid = reader.run(os.getpid, (), SMALL)
    reader.close()
    assert _reaped(pid)
    assert reader.run(os.getpid, (), SMALL) not in (pid, os.getpid())  # and a later job starts another


def test_the_worker_exits_when_its_parent_dies(tmp_path: Path) -> None:
    script = "import os, signal; from bot.forms.sandbox import run_limited; print(run_limited(os.getpid), flush=True); os.kill(os.getpid(), signal.SIGKILL)"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == -signal.SIGKILL
    worker = Path(f"/proc/{int(done.stdout)}/stat")
    deadline = time.monotonic() + 30
    while worker.exists() and worker.read_text().split(")")[-1].split()[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not worker.exists() or worker.read_text().split(")")[-1].split()[0] == "Z"


def test_a_path_is_read_by_the_worker(ctx: Context) -> None:
    path = FORMS / "official-standard.docx"
    assert check_limited(path, "方案.docx", ctx, None) == check_form(path.read_bytes(), "方案.docx", ctx, None)


def test_a_relative_path_is_the_callers_even_when_it_moved_since_the_worker_was_forked(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_limited(FORMS / "official-standard.docx", "方案.docx", ctx, None)  # the worker is forked here
    (tmp_path / "方案.docx").write_bytes((FORMS / "official-standard.docx").read_bytes())
    monkeypatch.chdir(tmp_path)
    assert check_limited(Path("方案.docx"), "方案.docx", ctx, None).verdict == "accepted"


def test_reading_a_path_counts_against_the_workers_memory(ctx: Context, tmp_path: Path) -> None:
    big = tmp_path / "方案.docx"
    with big.open("wb") as file:
        file.truncate(320 << 20)  # sparse: 320 MB of zeros that take no disk
    before = _vm_hwm_mib()
    result = check_limited(big, big.name, ctx, None, SMALL)
    assert [f.code for f in result.findings] == ["too_large"]
    assert result.read.unreadable is not None and "MemoryError" in result.read.unreadable.detail
    assert result.read.kind == "unknown"  # too big to sniff within the limits either
    assert _vm_hwm_mib() - before < 64


def test_a_path_the_worker_gives_up_on_is_still_named_by_kind(ctx: Context, tmp_path: Path) -> None:
    bomb = tmp_path / "方案.pdf"
    bomb.write_bytes(flate_bomb_pdf())
    result = check_limited(bomb, bomb.name, ctx, None, SMALL)
    assert result.verdict == "unreadable"
    assert (result.read.kind, [f.code for f in result.findings]) == ("pdf", ["too_large"])


def test_a_missing_path_raises_here_as_itself(ctx: Context, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        check_limited(tmp_path / "无.docx", "无.docx", ctx, None)
