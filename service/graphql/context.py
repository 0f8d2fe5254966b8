"""Per-request GraphQL context: the caller, the database and fresh DataLoaders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from service.clock import Clock
from service.db import Database
from service.graphql.loaders import Loaders
from service.models.tokens import Principal


@dataclass
class Context:
    request: Request
    response: Any
    db: Database
    principal: Principal
    loaders: Loaders = field(init=False)
    #: GraphQL objects built once per request and shared wherever the same row appears
    #: (a KPI under every service it applies to, its targets, its statuses).
    nodes: dict[Any, Any] = field(init=False, default_factory=dict)
    _now: dt.datetime | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)

    def now(self) -> dt.datetime:
        """The instant metrics are measured up to: the app's clock, read once per request so
        every field of one answer agrees (and batches together)."""
        if self._now is None:
            clock: Clock = self.request.app.state.clock
            self._now = clock()
        return self._now
