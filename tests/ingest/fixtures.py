"""Access to the real webhook payloads in tests/fixtures/webhooks (see PROVENANCE.md there)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"


def fixture_bytes(relative: str) -> bytes:
    """The payload's exact bytes (signature tests need them unchanged)."""
    return (FIXTURES / relative).read_bytes()


def fixture(relative: str) -> Any:
    return json.loads(fixture_bytes(relative))


def all_fixtures() -> list[str]:
    return sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.json"))
