"""ruff and mypy --strict stay clean: run as part of the suite so CI enforces them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_lint_and_format_are_clean() -> None:
    lint = _run(str(BIN / "ruff"), "check", "service", "bench", "clients", "tests")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run(str(BIN / "ruff"), "format", "--check", "service", "bench", "clients", "tests")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict_is_clean() -> None:
    result = _run(str(BIN / "mypy"), "service", "bench")
    assert result.returncode == 0, result.stdout + result.stderr
