"""A progress bar on stderr for long CLI work: count/total, percentage, rate and ETA.

It is drawn only on a terminal: when stderr is not a TTY (CI logs, pipes, files) it writes
nothing at all, not even a summary line, so logs stay clean. `--no-progress` turns it off;
the environment variable KPI_PROGRESS=0 turns it off and KPI_PROGRESS=1 draws it even
without a terminal. The line is redrawn in place with a carriage return at most ten times
a second, and ends with a newline when the work is done (or is erased if the work fails).
With no known total it shows a spinner, the count, the rate and the time elapsed. Work
counted in units of unequal cost (`counted=False`: the demo's weighted steps) shows the
bar, the percentage and the ETA only.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

#: Least time between two redraws, in seconds.
MIN_INTERVAL = 0.1
BAR_WIDTH = 24
#: No ETA before this much time has passed: the first rates are noise.
SETTLE_SECONDS = 1.0
SPINNER = "|/-\\"
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


def _count(n: float, in_bytes: bool) -> str:
    if not in_bytes:
        return f"{n:,.0f}"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _duration(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.postfix = ""
        self.stream = stream if stream is not None else sys.stderr
        self.active = wanted(self.stream, enabled)
        self.in_bytes = in_bytes
        self.counted = counted
        self.width = width
        self.clock = clock
        self.started = clock()
        self.last_draw: float | None = None
        self.drawn = 0  # length of the line on screen
        self.frame = 0

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
        self.done = done
        if total is not None:
            self.total = total
        if postfix is not None:
            self.postfix = postfix
        if not self.active:
            return
        now = self.clock()
        if self.last_draw is None or now - self.last_draw >= MIN_INTERVAL:
            self._draw(self.render(now))
            self.last_draw = now

    def echo(self, text: str, file: TextIO | None = None) -> None:
        """Print a line (to stdout by default) above the bar, then redraw the bar."""
        out = file if file is not None else sys.stdout
        if self.active and self.drawn:
            self._erase()
            out.write(text + "\n")
            out.flush()
            self._draw(self.render(self.clock()))
        else:
            out.write(text + "\n")

    def close(self, *, ok: bool = True) -> None:
        """Draw the final line and end it (ok), or erase the bar (the work failed)."""
        if not self.active:
            return
        self.active = False
        if ok:
            self._draw(self.render(self.clock(), final=True))
            self.stream.write("\n")
        elif self.drawn:
            self._erase()
        self.stream.flush()

    def render(self, now: float, *, final: bool = False) -> str:
        """The line to show: label, bar (narrower or left out on a narrow terminal),
        count/total, percentage, rate and ETA; with no total, a spinner, count and rate."""
        elapsed = max(now - self.started, 0.0)
        rate = self.done / elapsed if elapsed > 0 else 0.0
        rate_text = f"{_count(rate, self.in_bytes)}/s"
        share: float | None = None
        if self.total:
            share = min(self.done / self.total, 1.0)
            parts = []
            if self.counted:
                parts.append(
                    f"{_count(self.done, self.in_bytes)}/{_count(self.total, self.in_bytes)}"
                )
            parts.append(f"{share * 100:5.1f}%")
            if self.counted:
                parts.append(rate_text)
            if final:
                parts.append(f"in {_duration(elapsed)}")
            elif rate > 0 and elapsed >= SETTLE_SECONDS:
                parts.append(f"ETA {_duration(max(self.total - self.done, 0) / rate)}")
            else:
                parts.append("ETA -:--")
        else:
            parts = [] if final else [SPINNER[self.frame % len(SPINNER)]]
            self.frame += not final
            parts.append(_count(self.done, self.in_bytes))
            parts.append(rate_text)
            parts.append(f"{'in' if final else 'elapsed'} {_duration(elapsed)}")
        if self.postfix:
            parts.append(self.postfix)
        text = " ".join([self.label, *parts])
        if share is not None:
            # What is left of the line (one column short of the width) holds the bar.
            room = min(BAR_WIDTH, self._columns() - 1 - len(text) - 3)
            if room >= 5:
                filled = int(share * room)  # rounded down: full only when all is done
                text = " ".join(
                    [self.label, "[" + "#" * filled + "." * (room - filled) + "]", *parts]
                )
        return text

    def _columns(self) -> int:
        if self.width is not None:
            return self.width
        return shutil.get_terminal_size(fallback=(80, 24)).columns

    def _draw(self, line: str) -> None:
        # One character short of the width: a full line would wrap and break the redraw.
        line = line[: max(self._columns() - 1, 10)]
        self.stream.write("\r" + line + " " * max(self.drawn - len(line), 0))
        self.stream.flush()
        self.drawn = len(line)

    def _erase(self) -> None:
        self.stream.write("\r" + " " * self.drawn + "\r")
        self.drawn = 0
