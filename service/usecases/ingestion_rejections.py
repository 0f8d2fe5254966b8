"""Webhook deliveries that do not prove their source, or come too late, refused and kept as a
bounded record.

Anyone who knows a webhook URL can post to it, so what such a delivery leaves behind must not
grow with what is sent: not a row in the delivery log each, but a count per source and reason
(updated in place) and the last few of them as samples, with their headers cut short and no
body. Reasons: `signature` (the signature or token did not verify) and `timestamp` (it did,
but the time the tool signed lies outside the tolerance of the arrival: a replay). A source's
signature rejections are recorded while its rate limit lasts (service/webhook_guard.py); past
it they are answered 429 and left to the metrics. Nothing of a rejected delivery claims its
delivery key, so the genuine delivery that follows is applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

from service.db import Connection
from service.errors import LateDelivery, Unauthorized
from service.models.sources import Source
from service.store import rejections as store
from service.webhook_guard import WebhookGuard

#: The reason recorded for a signature or token that did not verify.
SIGNATURE = "signature"
#: The reason recorded for a signed delivery whose signed time lies outside the tolerance of
#: its arrival (service/ingest/freshness.py): most likely a captured delivery replayed.
TIMESTAMP = "timestamp"
#: Samples kept per source and reason unless KPI_WEBHOOK_REJECTION_SAMPLES says otherwise.
DEFAULT_SAMPLES = 20
#: What a sample keeps of the headers: the first SAMPLE_HEADERS of them, names and values cut
#: to these lengths: under 2 KB of plain text, so that a sample is kept in its table's page
#: rather than in TOAST.
SAMPLE_HEADERS = 12
SAMPLE_NAME_CHARS = 40
SAMPLE_VALUE_CHARS = 100
#: The key under which a sample says how many headers it left out.
LEFT_OUT = "(left out)"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sample_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers as a sample keeps them: the first few, each cut short, and how many more
    there were. `headers` must already be without those carrying secrets."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        if len(kept) == SAMPLE_HEADERS:
            break
        kept[_cut(name, SAMPLE_NAME_CHARS)] = _cut(value, SAMPLE_VALUE_CHARS)
    if len(headers) > len(kept):
        kept[LEFT_OUT] = f"{len(headers) - len(kept)} more headers"
    return kept


@dataclass(frozen=True)
class Rejections:
    """How the webhook pipeline refuses a delivery that does not prove its source."""

    samples: int = DEFAULT_SAMPLES
    guard: WebhookGuard | None = None

    async def refuse(
        self, con: Connection, src: Source, headers: Mapping[str, str], client: str | None
    ) -> NoReturn:
        """Record the rejection (in its own transaction) and raise the 401; a 429 instead,
        recording nothing, once the source is over its limit of rejections."""
        if self.guard is not None:
            await self.guard.check_source_rejection(con, src.id, src.name)
        async with con.transaction():
            await store.record_webhook_rejection(
                con, source_id=src.id, reason=SIGNATURE, client=client,
                headers=sample_headers(headers), samples=self.samples,
            )  # fmt: skip
        raise Unauthorized(f"the delivery is not signed with source {src.name!r}'s secret")

    async def refuse_late(
        self, con: Connection, src: Source, headers: Mapping[str, str], client: str | None,
        problem: LateDelivery,
    ) -> NoReturn:  # fmt: skip
        """Record a delivery whose signature verifies but whose signed time is outside the
        tolerance (in its own transaction), and raise `problem`. Its signature proved the
        source, so the source's limit of rejections is not spent: the record stays bounded
        all the same."""
        async with con.transaction():
            await store.record_webhook_rejection(
                con, source_id=src.id, reason=TIMESTAMP, client=client,
                headers=sample_headers(headers), samples=self.samples,
            )  # fmt: skip
        raise problem
