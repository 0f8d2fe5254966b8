"""When to send a request again, and how long to wait first.

Retried: connection failures and timeouts, 429 and 5xx answers, up to `max_attempts` sends
in all. The wait is exponential backoff with full jitter (a random time between 0 and
`backoff_base * 2 ** (attempt - 1)`, at most `backoff_max`), or the answer's Retry-After when
it gives one (at most `retry_after_max`).

A retry is safe because every write carries the same Idempotency-Key on each send (the
service answers a repeated key with the first answer), and observations and costs are keyed
by their content. Two cases are narrower: an operation whose answer the service does not keep
(`replay_safe=False`, token creation) and a stream whose body was already read are sent again
only when they surely were not applied: the connection was never made, or the answer was
429 or 503.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from collections.abc import Callable
from dataclasses import dataclass

import httpx

#: Failures where the request surely did not reach the service.
NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
#: Failures worth another try (the request may or may not have reached the service).
TRANSIENT: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
#: Answers the service gives before it applies anything.
NOT_APPLIED = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Full jitter: uniform between 0 and the exponential cap for this attempt (1-based)."""
        cap = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        return cap * rand()

    def delay(
        self,
        attempt: int,
        retry_after: str | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """Seconds to wait before the send after `attempt`."""
        asked = parse_retry_after(retry_after)
        if asked is not None:
            return min(asked, self.retry_after_max)
        return self.backoff(attempt, rand)


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Retry-After as seconds: a number of seconds, or an HTTP date; None if absent or bad."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def retry_error(error: Exception, *, may_resend: bool) -> bool:
    """Whether a failed send is worth another: `may_resend` says a request that may have
    arrived can be sent again."""
    if isinstance(error, NOT_SENT):
        return True
    return may_resend and isinstance(error, TRANSIENT)


def retry_status(status: int, *, may_resend: bool) -> bool:
    """Whether an answer's status is worth another send."""
    if status in NOT_APPLIED:
        return True
    return may_resend and status >= 500
