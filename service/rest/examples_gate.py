"""Examples of the maintenance window and deploy gate bodies and answers (merged into
service/rest/examples.py EXAMPLES)."""

from __future__ import annotations

from typing import Any

from service.models.deploy_gate import (
    ChangeAnnotation,
    DeployGate,
    ErrorBudgetPolicy,
    ErrorBudgetPolicyIn,
    GateOverrideIn,
)
from service.models.maintenance import MaintenanceWindow, MaintenanceWindowIn

WINDOW_IN = {
    "starts_at": "2026-11-10T02:00:00Z", "ends_at": "2026-11-10T05:00:00Z",
    "reason": "PostgreSQL 17 upgrade (CHG-2231)",
}  # fmt: skip
POLICY_IN = {
    "freeze_when_budget_exhausted": True, "kpi": "service_availability", "window_days": 30,
    "passing_change_types": ["hotfix", "rollback"],
}  # fmt: skip
POLICY = {**POLICY_IN, "service": "checkout"}
GATE = {
    "service": "checkout", "change_type": "deploy", "decision": "freeze",
    "reason": "error budget exhausted: production changes are frozen until it recovers "
    "(types that pass: hotfix, rollback)",
    "policy": POLICY,
    "budget": {
        "target": 99.95, "window": "30d", "window_start": "2026-11-01T00:00:00Z",
        "window_end": "2026-12-01T00:00:00Z", "allowed_downtime_minutes": 21.6,
        "spent_minutes": 30.0, "remaining_minutes": -8.4, "remaining": -38.8889,
        "planned_downtime_minutes": 90.0,
    },
}  # fmt: skip
OVERRIDE_IN = {
    "reason": "CVE-2026-1234 fix", "change_type": "deploy",
    "reference": "https://ci.example.com/checkout/runs/4711",
}  # fmt: skip

EXAMPLES: dict[Any, Any] = {
    MaintenanceWindowIn: WINDOW_IN,
    MaintenanceWindow: {
        **WINDOW_IN, "id": 7, "service": "checkout", "created_by": "platform-admin",
        "created_at": "2026-10-20T12:00:00Z",
    },
    ErrorBudgetPolicyIn: POLICY_IN,
    ErrorBudgetPolicy: POLICY,
    DeployGate: GATE,
    GateOverrideIn: OVERRIDE_IN,
    ChangeAnnotation: {
        **OVERRIDE_IN, "id": 3, "service": "checkout", "kind": "gate_override", "gate": GATE,
        "created_by": "ci-checkout", "created_at": "2026-12-01T00:00:00Z",
    },
}  # fmt: skip
