"""Per-request GraphQL context: the caller, the database and fresh DataLoaders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from service.auth import Principal
from service.clock import Clock
from service.db import Database
from service.graphql.loaders import Loaders


@dataclass
class Context:
    request: Request
    response: Any
    db: Database
    principal: Principal
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.db)

    def now(self) -> dt.datetime:
        """The app's clock: the instant metrics are measured up to."""
        clock: Clock = self.request.app.state.clock
        return clock()
