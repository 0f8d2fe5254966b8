"""KPI_TEST_COMPONENTS=0 deselects the tests marked `components` (they are not collected as
skipped: the pass that leaves them out says so in its summary); unset, it selects them. The
marker is registered, so --strict-markers accepts it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
MARKED = "tests/components/test_alertmanager.py"


def _collect(setting: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KPI_TEST_COMPONENTS"}
    if setting is not None:
        env["KPI_TEST_COMPONENTS"] = setting
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "--strict-markers",
         "-p", "no:cacheprovider", MARKED],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_components_are_deselected_when_the_variable_says_0() -> None:
    result = _collect("0")
    assert "1 deselected" in result.stdout, result.stdout + result.stderr
    assert "test_fire_resolve" not in result.stdout


def test_components_are_collected_otherwise() -> None:
    result = _collect(None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_alertmanager.py::test_fire_resolve" in result.stdout
    assert "deselected" not in result.stdout
