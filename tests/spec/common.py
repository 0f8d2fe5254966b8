"""What both contract test modules share: where the spec files are and how cases are drawn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import schemathesis

ROOT = Path(__file__).resolve().parents[2]

#: Generated cases per operation and generation mode (valid, invalid); the coverage phase adds
#: its deterministic boundary cases. For a longer hunt, raise KPI_SPEC_MAX_EXAMPLES or draw
#: other cases with another KPI_SPEC_SEED.
MAX_EXAMPLES = int(os.environ.get("KPI_SPEC_MAX_EXAMPLES", "20"))
SEED = int(os.environ.get("KPI_SPEC_SEED", "20261102"))


def config(**extra: Any) -> schemathesis.Config:
    """Bounded and repeatable: the same requests each run (fixed seed, derandomized, the same
    seeded data), and no example database written to disk."""
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"stateful": {"enabled": False}},
            **extra,
        }
    )
