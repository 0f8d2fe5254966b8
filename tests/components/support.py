"""What tests of real components share: finding the component's program (a CI run fails
without it, a local run skips), running it as a child process that is always stopped, and
waiting for a condition with a deadline instead of fixed sleeps."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def program(*names: str, package: str) -> str:
    """The path of the first of `names` on PATH. Missing: a CI run fails (never skips), since
    .ci/run installs `package`; a local run skips, saying what to install."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    message = (
        f"{' or '.join(names)} not found on PATH: install the Debian package {package} "
        f"(apt-get install -y --no-install-recommends {package}; .ci/run does)"
    )
    if in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def running(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`args` as a child process writing to `log`; stopped (SIGTERM, then SIGKILL) on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)  # fmt: skip
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, within: float, what: str,
    explain: Callable[[], Awaitable[str]] | None = None,
) -> T:  # fmt: skip
    """The first truthy result of `check`, polled every 0.1 s for at most `within` seconds;
    past that, fails saying `what` was awaited and, if given, what `explain` finds."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() >= deadline:
            detail = await explain() if explain else ""
            raise AssertionError(f"after {within:.0f} s still waiting for {what}\n{detail}")
        await asyncio.sleep(0.1)
