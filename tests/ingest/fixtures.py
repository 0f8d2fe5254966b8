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
    """Every payload file, relative to the fixtures folder."""
    return sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.json"))


def shared_fixtures() -> list[str]:
    """The published payloads of the shared table (PROVENANCE.md at the top); a folder with a
    PROVENANCE.md of its own holds payloads written for one source's tests, which cover them."""
    return [f for f in all_fixtures() if not _own_set((FIXTURES / f).parent)]


def _own_set(folder: Path) -> bool:
    while folder != FIXTURES:
        if (folder / "PROVENANCE.md").exists():
            return True
        folder = folder.parent
    return False


def fixture_set(folder: str) -> list[str]:
    """The payloads of a folder with its own PROVENANCE.md, relative to the fixtures' root."""
    return sorted(str(p.relative_to(FIXTURES)) for p in (FIXTURES / folder).glob("*.json"))
