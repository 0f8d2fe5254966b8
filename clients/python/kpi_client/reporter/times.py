"""Instants given on the command line or by a CI variable."""

from __future__ import annotations

import argparse
import datetime as dt

#: Epoch numbers above this are milliseconds (Jenkins' currentBuild.startTimeInMillis).
_MILLISECONDS_FROM = 100_000_000_000


def parse_instant(text: str) -> dt.datetime:
    """ISO 8601 with a zone offset (`Z` allowed), or Unix epoch seconds or milliseconds."""
    value = text.strip()
    if value.isdigit():
        number = int(value)
        seconds = number / 1000 if number >= _MILLISECONDS_FROM else number
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an ISO 8601 time or epoch seconds") from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{text!r} has no zone offset: add Z or +HH:MM")
    return parsed


def instant_argument(text: str) -> dt.datetime:
    """parse_instant for argparse: a bad value is a usage error (exit 2)."""
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
