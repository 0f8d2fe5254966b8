"""openapi/openapi.json under the two linters API tooling runs on it: Redocly's recommended
rules and Spectral's recommended OpenAPI ruleset (.spectral.yaml), at pinned releases (a new
release may add rules; the README's Development section runs the same ones)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.components.support import program
from tests.spec.common import ROOT

REDOCLY = "@redocly/cli@2.77.0"
SPECTRAL = "@stoplight/spectral-cli@6.16.3"
SPEC = "openapi/openapi.json"

pytestmark = pytest.mark.components


def _npx(*args: str) -> subprocess.CompletedProcess[str]:
    # Node.js 20.19 or newer with npx: Redocly's CLI needs it (the nodejs package of
    # NodeSource ships npx with node).
    npx = program("npx", package="nodejs")
    return subprocess.run(
        [npx, "--yes", *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip


def test_redocly_recommended_rules_find_no_error() -> None:
    result = _npx(REDOCLY, "lint", SPEC, "--format", "json")
    report: dict[str, Any] = json.loads(result.stdout)
    problems = [
        (p["ruleId"], p["severity"], p["location"][0]["pointer"]) for p in report["problems"]
    ]
    assert report["totals"]["errors"] == 0, problems
    # The only warnings: liveness and readiness answer no 4xx, so none is documented.
    assert problems == [
        ("operation-4xx-response", "warn", "#/paths/~1healthz/get/responses"),
        ("operation-4xx-response", "warn", "#/paths/~1readyz/get/responses"),
    ]
    assert result.returncode == 0, result.stderr


def test_spectral_recommended_ruleset_finds_nothing() -> None:
    result = _npx(SPECTRAL, "lint", SPEC, "--ruleset", ".spectral.yaml", "--format", "json",
                  "--quiet")  # fmt: skip
    findings = [
        (f["code"], f["severity"], ".".join(map(str, f["path"]))) for f in json.loads(result.stdout)
    ]
    # Severity 0 is an error, 1 a warning: there is neither, nor any hint.
    assert findings == []
    assert result.returncode == 0, result.stderr
