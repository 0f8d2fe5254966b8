"""A progress bar on stderr for long CLI work, drawn by tqdm: count/total, percentage, rate
and ETA.

It is drawn only on a terminal: when stderr is not a TTY (CI logs, pipes, files) it writes
nothing at all, not even a summary line, so logs stay clean. `--no-progress` turns it off;
the environment variable KPI_PROGRESS=0 turns it off and KPI_PROGRESS=1 draws it even
without a terminal. tqdm redraws the line in place at most ten times a second and ends it
with a newline when the work is done; it is erased if the work fails. With no known total
it shows the count, the time elapsed and the rate. Work counted in units of unequal cost
(`counted=False`: the demo's weighted steps) shows the bar, the percentage and the ETA only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from tqdm import tqdm

#: Least time between two redraws, in seconds.
MIN_INTERVAL = 0.1
#: The weighted mode's line: tqdm's own without the count and the rate, which mean nothing
#: in units of unequal cost (before the total is known: 0 % and an empty bar).
WEIGHTED_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"
_ON = {"1", "true", "yes", "on"}
_OFF = {"0", "false", "no", "off"}

#: What long work reports: (done, total); a Progress's `update` is one.
ProgressCallback = Callable[[int, int], None]


def wanted(stream: TextIO, enabled: bool | None = None) -> bool:
    """Whether to draw: `enabled=False` (--no-progress) wins, then KPI_PROGRESS=0/1, then
    whether the stream is a terminal."""
    if enabled is False:
        return False
    setting = os.environ.get("KPI_PROGRESS", "").strip().lower()
    if setting in _OFF:
        return False
    if setting in _ON:
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    """One progress line. Use as a context manager, call `advance` or `update` as work is
    done; `echo` prints a line of output without breaking the bar."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        in_bytes: bool = False,
        counted: bool = True,
        width: int | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        # smoothing=0: the rate (and so the ETA) is the average since the start, steadier
        # than a moving average for the demo's steps of unequal cost.
        self.bar = tqdm(
            desc=label, total=total, file=self.stream,
            disable=not wanted(self.stream, enabled),
            mininterval=MIN_INTERVAL, miniters=1, smoothing=0,
            ncols=width, dynamic_ncols=width is None,
            unit="B" if in_bytes else "it", unit_scale=in_bytes,
            bar_format=None if counted else WEIGHTED_FORMAT,
        )  # fmt: skip

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(ok=exc_type is None)

    def advance(self, n: int = 1, *, postfix: str | None = None) -> None:
        self.update(self.done + n, postfix=postfix)

    def update(self, done: int, total: int | None = None, *, postfix: str | None = None) -> None:
        """Set the count (and the total, when it becomes known); redraw if it is time."""
        step, self.done = done - self.done, done
        if postfix is not None:
            self.bar.set_postfix_str(postfix, refresh=False)
        if total is not None and total != self.bar.total:
            self.bar.total = total
            self.bar.n += step
            self.bar.refresh()
        else:
            self.bar.update(step)

    def echo(self, text: str, file: TextIO | None = None) -> None:
        """Print a line (to stdout by default) above the bar, then redraw the bar."""
        tqdm.write(text, file=file if file is not None else sys.stdout)

    def close(self, *, ok: bool = True) -> None:
        """Draw the final line and end it (ok), or erase the bar (the work failed)."""
        self.bar.leave = ok
        self.bar.close()
