"""The warm LibreOffice (bot/forms/convert/warm.py) over real LibreOffice: it reads legacy forms as a LibreOffice
started per file does, is reused, comes back after dying or hanging, works from the sandbox's worker and
outlives it, and leaves no soffice behind. Each start costs a second or two, so the tests share one."""

from __future__ import annotations

import dataclasses
import io
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import cast

import pytest

from bot.forms.check import CheckResult, check_form, result_json
from bot.forms.convert import ConversionFailed, Office, convert_to_docx, converter, soffice_path
from bot.forms.convert.warm import office_python
from bot.forms.sandbox import check_file, check_limited
from bot.forms.worker import Limits, Reader
from config import Context

FORMS = Path(__file__).parent / "fixtures" / "forms"
LEGACY = ["lo-boxes.doc", "lo-several.wps", "lo-retyped.odt"]
BOXES = FORMS / "lo-boxes.doc"


def _soffice() -> str:
    soffice = soffice_path()
    assert soffice, "LibreOffice (soffice) is needed; run `make system-deps`"
    return soffice


def _open() -> Office:
    soffice = _soffice()
    python = office_python(soffice)
    assert python, "LibreOffice's Python (python3-uno) is needed; run `make system-deps`"
    return Office.open(soffice, python)


@pytest.fixture(scope="module")
def office() -> Iterator[Office]:
    office = _open()
    yield office
    office.close()


def _processes(office: Office) -> list[int]:
    """The processes of this office's server: the server and soffice name its folder on their command lines."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, ValueError):
            continue
        if entry.isdigit() and str(office.folder).encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


def _soffice_pid(office: Office) -> int:
    """soffice.bin itself (the `soffice` script runs it under oosplash)."""
    found = [p for p in _processes(office) if Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[0].endswith(b".bin")]
    assert found, "soffice runs beside the server"
    return found[0]


def _gone(office: Office, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while _processes(office) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _processes(office)


@pytest.mark.parametrize("name", LEGACY)
def test_warm_reads_as_cold(name: str, office: Office, ctx: Context) -> None:
    data = (FORMS / name).read_bytes()
    cold = result_json(check_form(data, name, ctx, partial(convert_to_docx, soffice=_soffice())))

    warm = result_json(check_form(data, name, ctx, office))

    assert warm == cold
    assert warm["activities"], "the form is read"


def test_server_is_reused(office: Office) -> None:
    office(BOXES.read_bytes(), "doc")
    pid = office.server_pid()

    started = time.monotonic()
    for _ in range(3):
        assert office(BOXES.read_bytes(), "doc").startswith(b"PK")

    assert office.server_pid() == pid
    assert (time.monotonic() - started) / 3 < 0.5


def test_conversions_at_once_take_turns(office: Office) -> None:
    office(BOXES.read_bytes(), "doc")
    pid = office.server_pid()
    files = [(FORMS / name).read_bytes() for name in LEGACY] * 2

    with ThreadPoolExecutor(4) as pool:  # as workers of one bot would, each in its own process
        converted = list(pool.map(office, files, [name.rsplit(".", 1)[1] for name in LEGACY] * 2))

    bodies = [zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml") for docx in converted]
    assert bodies[:3] == bodies[3:]  # each file came back as its own .docx, twice alike
    assert len(set(bodies[:3])) == 3
    assert office.server_pid() == pid


def test_a_file_it_cannot_open_fails_and_the_server_stays(office: Office) -> None:
    office(BOXES.read_bytes(), "doc")
    pid = office.server_pid()

    with pytest.raises(ConversionFailed, match="could not"):
        office(BOXES.read_bytes()[:2000], "doc")  # a cut .doc

    assert office.server_pid() == pid


def test_killed_server_is_started_again(office: Office) -> None:
    office(BOXES.read_bytes(), "doc")
    old = office.server_pid()
    assert old
    os.killpg(old, signal.SIGKILL)

    assert office(BOXES.read_bytes(), "doc").startswith(b"PK")

    assert office.server_pid() not in (None, old)


def test_soffice_that_died_between_files_is_started_again(office: Office) -> None:
    office(BOXES.read_bytes(), "doc")
    old = office.server_pid()
    os.kill(_soffice_pid(office), signal.SIGKILL)  # the server sees it stopped: the next file is not blamed

    assert office(BOXES.read_bytes(), "doc").startswith(b"PK")

    assert office.server_pid() not in (None, old)


def test_hung_conversion_fails_in_time_and_a_fresh_server_follows(office: Office) -> None:
    office(BOXES.read_bytes(), "doc")
    old = office.server_pid()
    assert old
    os.killpg(old, signal.SIGSTOP)  # LibreOffice stuck on a file
    hurried = dataclasses.replace(office, seconds=2.0)

    started = time.monotonic()
    with pytest.raises(ConversionFailed, match="took over 2s"):
        hurried(BOXES.read_bytes(), "doc")

    assert time.monotonic() - started < 4.0
    assert office.server_pid() is None
    assert not _processes(office), "the stuck server's whole group is killed"
    assert not [path for path in office.pipes() if path.exists()], "and the pipes it left in /tmp"
    assert office(BOXES.read_bytes(), "doc").startswith(b"PK")
    assert office.server_pid() not in (None, old)


def test_through_the_sandbox_worker_and_past_its_replacement(office: Office, ctx: Context) -> None:
    reader = Reader(max_jobs=1)  # a new worker for every file
    try:
        first = cast(CheckResult, reader.run(check_file, (BOXES, BOXES.name, ctx, office), Limits()))
        pid = office.server_pid()
        wps = FORMS / "lo-several.wps"
        second = cast(CheckResult, reader.run(check_file, (wps, wps.name, ctx, office), Limits()))
    finally:
        reader.close()

    assert first.read.activities and second.read.activities
    assert pid is not None and office.server_pid() == pid, "the server outlives the worker that started it"
    assert check_limited(BOXES, BOXES.name, ctx, office).verdict == "accepted"  # the bot's own worker


def test_retires_after_its_files_and_when_idle(office: Office) -> None:
    office(BOXES.read_bytes(), "doc")
    running = office.server_pid()
    assert running
    os.killpg(running, signal.SIGKILL)  # the next server is started with these settings
    brief = dataclasses.replace(office, max_conversions=2, idle_seconds=1.0)
    brief(BOXES.read_bytes(), "doc")
    first = brief.server_pid()
    brief(BOXES.read_bytes(), "doc")
    brief(BOXES.read_bytes(), "doc")
    second = brief.server_pid()

    assert first and second and first != second  # the first left after its second file, unasked

    assert _wait(lambda: brief.server_pid() is None, 6.0), "an idle server leaves"
    assert not (office.folder / "socket").exists()
    assert brief(BOXES.read_bytes(), "doc").startswith(b"PK")


def test_close_leaves_no_soffice() -> None:
    office = _open()
    office(BOXES.read_bytes(), "doc")
    assert len(_processes(office)) >= 2  # the server and soffice

    office.close()

    assert not _processes(office)
    assert not office.folder.exists()
    assert not [path for path in office.pipes() if path.exists()], "soffice's pipes in /tmp are gone"


def test_server_quits_when_its_bot_is_killed() -> None:
    soffice = _soffice()
    script = textwrap.dedent(f"""
        import os, signal
        from bot.forms.convert import Office
        office = Office.open({soffice!r}, {office_python(soffice)!r})
        office(open({str(BOXES)!r}, "rb").read(), "doc")
        print(office.folder, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    folder = Path(run.stdout.strip())
    assert folder.name.startswith("subbot-office-"), run.stderr
    orphan = Office(soffice, "", folder, 0)

    assert _gone(orphan), "the server saw its owner go and took soffice with it"
    assert not folder.exists()


def test_converts_cold_where_the_server_cannot_start(ctx: Context) -> None:
    office = dataclasses.replace(_open(), python=sys.executable)  # a Python without uno
    try:
        got = result_json(check_form(BOXES.read_bytes(), BOXES.name, ctx, office))

        assert got["activities"]
        assert (office.folder / "cold").exists(), "the warm server is not tried for every file"
        assert "no uno" in (office.folder / "server.log").read_text()
    finally:
        office.close()


def test_converter_is_warm_where_it_can_be() -> None:
    convert = converter()
    try:
        assert isinstance(convert, Office)
        assert convert.server_pid() is None, "nothing starts before the first legacy file"
        assert not isinstance(converter(warm=False), Office)
    finally:
        if isinstance(convert, Office):
            convert.close()


def _wait(condition: object, seconds: float) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())
