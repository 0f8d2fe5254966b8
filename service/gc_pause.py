"""Pausing Python's cyclic garbage collector around bulk validation."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: for code that builds thousands of objects that
    outlive it, such as a batch's validated points. Collections meanwhile would find nothing
    to free, yet every few of them walk the whole heap (about half the CPU of validating a
    5,000-point batch in a worker); one runs after instead. Across an await, the other tasks
    of the process go without collection as well: keep such a pause to work of bounded
    length (a JSON batch, from its validation to its commit)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
