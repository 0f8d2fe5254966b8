"""ruff, mypy --strict and a repeated-code check stay clean: run as part of the suite so CI
enforces them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

#: Checked with mypy --strict (the settings in pyproject.toml).
TYPED = ["service", "bench", "clients/python/kpi_client"]

#: The most pairs of repeated places (blocks of six or more lines that pylint's similarity
#: checker finds in two files or more) each directory may hold.
REPEATED_CODE_LIMITS = {"clients/python/kpi_client": 0}
MIN_REPEATED_LINES = 6
#: pylint's exit status bits for a fatal message and a usage error.
PYLINT_FAILED = 1 | 32


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_lint_and_format_are_clean() -> None:
    lint = _run(str(BIN / "ruff"), "check", "service", "bench", "clients", "tests")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run(str(BIN / "ruff"), "format", "--check", "service", "bench", "clients", "tests")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.parametrize("path", TYPED)
def test_mypy_strict_is_clean(path: str) -> None:
    result = _run(str(BIN / "mypy"), "--strict", path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("directory", "most"), REPEATED_CODE_LIMITS.items())
def test_repeated_code(directory: str, most: int) -> None:
    result = _run(
        str(BIN / "pylint"),
        "--disable=all",
        "--enable=duplicate-code",
        f"--min-similarity-lines={MIN_REPEATED_LINES}",
        "--score=n",
        directory,
    )
    assert result.returncode & PYLINT_FAILED == 0, result.stdout + result.stderr
    found = len(re.findall(r"R0801: Similar lines", result.stdout))
    assert found <= most, f"{found} repeated places in {directory}:\n{result.stdout}"
