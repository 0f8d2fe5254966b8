"""The webhook sources: one package per tool (adapter, replay identifiers, verification, secret
headers, README row), all registered here. `kpi export` writes the list of packages
(`packages.py`) from the folders of this package, and from SOURCES the source kinds of the
models, the client, the OpenAPI document, the README and the database's reference table
(`sql/migrations/repeatable/source_kinds.sql`): adding a tool is adding its package and its
tests, then running `kpi export` (see the README's Sources).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from service.ingest.proofs import Presented
from service.ingest.sources.definition import SourceDocs, WebhookSource
from service.ingest.sources.packages import PACKAGED_SOURCES

#: Every tool that sends webhooks, by kind, in the order they are documented.
SOURCES: Mapping[str, WebhookSource] = MappingProxyType({s.kind: s for s in PACKAGED_SOURCES})

#: The kind of the sources the generic endpoints write to (an API token, no webhooks).
API_KIND = "api"
API_DOCS = SourceDocs(
    sends="the generic endpoints below",
    proof="API token (`ingest`)",
    dedupe="`Idempotency-Key` header",
)

#: Every source kind a source may be registered with.
KINDS: tuple[str, ...] = (*SOURCES, API_KIND)

#: Headers that carry a secret whatever the source: never written to the delivery log.
_ALWAYS_SECRET = frozenset({"authorization", "proxy-authorization", "cookie"})
#: Headers never written to the delivery log: they carry secrets, or proofs made with them.
SECRET_HEADERS: frozenset[str] = _ALWAYS_SECRET.union(*(s.secret_headers for s in SOURCES.values()))


def security_schemes() -> dict[str, dict[str, Any]]:
    """The OpenAPI security schemes of the webhook receiver: every source's, each once."""
    schemes: dict[str, dict[str, Any]] = {}
    for source in SOURCES.values():
        schemes.update(source.security_schemes)
    return schemes


def source_for(kind: str) -> WebhookSource:
    """The webhook source of this kind (KeyError for `api`, which receives no webhooks)."""
    return SOURCES[kind]


def verify(
    kind: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    secret: str | None,
    username: str | None = None,
) -> bool:
    """Whether the delivery proves knowledge of the source's secret; no secret, no entry."""
    if not secret:
        return False
    return SOURCES[kind].verify(Presented(headers, query, body, secret, username))


def body_digest(kind: str, body: bytes) -> bytes | None:
    """SHA-256 of a body the source signs, None for sources whose bodies are not signed."""
    return hashlib.sha256(body).digest() if SOURCES[kind].signs_body else None


def loggable_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers without those carrying secrets, as the delivery log keeps them."""
    return {k: v for k, v in headers.items() if k not in SECRET_HEADERS}
