"""Bugs the contract tests found in code outside this suite's reach, each with a reproduction
and the generated requests (or answers) it accounts for.

The contract test does not send the requests a bug covers and does not check the answers it
explains, so that the rest of the operation is still checked. Every bug found so far is fixed
(each with a regression test near its code), so the list is empty; an entry is for a bug found
and not yet fixed, never a way to exclude one for good.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import schemathesis

from tests.spec.seed import Seeded


def _never(*_: Any) -> bool:
    return False


def _no_path_parameters(_: Seeded) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class KnownBug:
    operation: str  # schemathesis' label: "POST /v1/things/{id}"
    description: str  # what goes wrong, and the file it is in
    # The reproduction: a request to the operation (with the all-scopes token).
    path_parameters: Callable[[Seeded], dict[str, Any]] = _no_path_parameters
    body: Any = None  # a JSON body, if any
    headers: dict[str, str] = field(default_factory=dict)
    # Generated requests the bug would fail: not sent ...
    covers_request: Callable[[schemathesis.Case], bool] = _never
    # ... and answers it explains: not checked.
    covers_answer: Callable[[schemathesis.Case, schemathesis.Response], bool] = _never


KNOWN_BUGS: list[KnownBug] = []


def known_bugs(case: schemathesis.Case) -> list[KnownBug]:
    return [bug for bug in KNOWN_BUGS if bug.operation == case.operation.label]
