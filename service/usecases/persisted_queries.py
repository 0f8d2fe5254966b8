"""Persisted GraphQL documents: automatic persisted queries as Apollo clients send them
(`extensions.persistedQuery.sha256Hash`), kept in Postgres so every worker shares them, and the
optional list of trusted documents a deployment may require instead."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

from service.db import Connection
from service.errors import BadRequest
from service.store import persisted_queries


class PersistedQueryNotFound(BadRequest):
    """A hash sent without its document, for a document not stored (or evicted): the client
    sends the document in full next (Apollo's protocol)."""


def sha256_hex(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def load_trusted_documents(path: Path) -> dict[str, str]:
    """A trusted documents manifest: a JSON object of SHA-256 (hex) to document, as GraphQL
    Code Generator's and Relay's persisted-documents outputs write it. Each hash is checked."""
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable JSON file of trusted documents: {exc}") from exc
    if not isinstance(manifest, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in manifest.items()
    ):
        raise ValueError(f"{path}: expected a JSON object of SHA-256 hash to document")
    documents = {k.removeprefix("sha256:"): v for k, v in manifest.items()}
    for digest, query in documents.items():
        if sha256_hex(query) != digest:
            raise ValueError(f"{path}: the document under {digest} does not hash to it")
    return documents


class PersistedDocuments:
    """The documents requests may name by hash, for one app: Postgres holds the automatic
    persisted queries every worker shares, this process the ones it read recently (a hit
    costs no round trip); or, when the deployment requires them, the trusted documents alone.
    """

    def __init__(self, *, keep: int, trusted: Mapping[str, str] | None = None) -> None:
        self.keep = keep
        self.trusted = trusted
        self.recent: OrderedDict[str, str] = OrderedDict()

    def remember(self, digest: str, query: str) -> None:
        self.recent[digest] = query
        self.recent.move_to_end(digest)
        while len(self.recent) > min(self.keep, 512):
            self.recent.popitem(last=False)

    async def document_to_run(
        self, con: Connection, *, query: str | None, sha256: str | None
    ) -> str | None:
        """The document a request runs: its own query, or the one stored under its hash (a
        lower-case hex SHA-256).

        With trusted documents required, only those run, by hash or in full. Otherwise a
        query sent with its hash is stored (at most `keep` documents, the least recently used
        evicted), after checking that it hashes to it.
        """
        if self.trusted is not None:
            return self.trusted_document(query, sha256)
        if sha256 is None:
            return query
        if query is not None:
            if sha256_hex(query) != sha256:
                raise BadRequest("provided sha does not match query")
            if sha256 not in self.recent:
                await persisted_queries.persist_query(con, sha256=sha256, query=query)
                await persisted_queries.evict_persisted_queries(con, keep=self.keep)
            self.remember(sha256, query)
            return query
        found = self.recent.get(sha256)
        if found is None:
            found = await persisted_queries.persisted_query(con, sha256=sha256)
            if found is None:
                raise PersistedQueryNotFound("PersistedQueryNotFound")
        self.remember(sha256, found)
        return found

    def trusted_document(self, query: str | None, sha256: str | None) -> str | None:
        assert self.trusted is not None
        if query is not None:
            if self.trusted.get(sha256 or sha256_hex(query)) != query:
                raise BadRequest("only trusted documents may run on this deployment")
            return query
        if sha256 is None:
            return None
        if sha256 not in self.trusted:
            raise PersistedQueryNotFound("PersistedQueryNotFound")
        return self.trusted[sha256]
