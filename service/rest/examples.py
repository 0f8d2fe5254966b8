"""One example of each request body and answer of the REST API, by model: the OpenAPI document
shows it beside every operation that takes or returns the model (a list of a model shows a
list of its example). tests/test_openapi_examples.py checks each against its schema."""

from __future__ import annotations

from typing import Any, get_args, get_origin

from service.errors import ApiError
from service.models.audit import AuditEntry
from service.models.backstage import KPI_FACT_FIELDS, BackstageFacts, fact_name
from service.models.budgets import Budget, BudgetIn, BudgetIngestResult
from service.models.burn_alerts import BurnAlert, BurnPolicy, BurnPolicyIn
from service.models.catalog import (
    Kpi,
    KpiIn,
    Outcome,
    OutcomeIn,
    OutcomeLink,
    OutcomeLinkIn,
    Service,
    ServiceIn,
    ServiceLink,
    Target,
    TargetIn,
    Team,
    TeamIn,
)
from service.models.costs import Cost, CostIn, CostIngestResult
from service.models.data_sources import DataSource, DataSourceIn
from service.models.incidents import (
    Change,
    ChangeDetail,
    ChangeIn,
    Incident,
    IncidentDetail,
    IncidentEventIn,
    IncidentIn,
)
from service.models.initiatives import Initiative, InitiativeIn, InitiativeReview
from service.models.notifications import Notification
from service.models.observations import IngestResult, ObservationIn, Series
from service.models.reports import FailureClusters, GovernanceGap, Scorecard, ServiceReport
from service.models.reviews import QuarterlyReview
from service.models.sources import Source, SourceIn
from service.models.statuses import Escalation, EscalationAction, KpiStatus
from service.models.teams import DoraTrend, TeamFigures
from service.models.tokens import NewToken, TokenIn, TokenInfo
from service.rest import examples_gate
from service.rest.engine import EvaluateIn
from service.rest.health import Health, Readiness
from service.rest.webhooks import DeliveryDetail, ReplayReport
from service.store.deliveries import DeliveryRow
from service.store.rejections import WebhookRejections
from service.usecases.catalog_file import ApplyReport, CatalogFile
from service.usecases.ingestion_apply import DeliveryOutcome

TEAM_IN = {
    "slug": "payments", "name": "Payments", "email": "payments@example.com",
    "entity_ref": "group:default/payments", "parent": None,
}  # fmt: skip
SERVICE_IN = {
    "slug": "checkout", "name": "Checkout", "tier": 1, "team": "payments",
    "business_owner": "cfo@example.com", "technology_owner": "payments-lead@example.com",
    "revenue_per_hour": 52000.0, "users": 180000, "outage_threshold": "sev2",
    "depends_on": ["identity", "payments-api"], "attributes": {"vendor": "acme"},
    "entity_ref": "component:default/checkout",
}  # fmt: skip
FACTS = {
    "service_availability_status": "met", "service_availability_value": 99.97,
    "service_availability_target": 99.95, "service_availability_unit": "percent",
    "service_availability_period_start": "2026-10-01T00:00:00Z",
    "service_availability_period_end": "2026-11-01T00:00:00Z",
}  # fmt: skip
OUTCOME_IN = {
    "slug": "protect-revenue", "name": "Protect revenue",
    "description": "Sales never stop because of technology.", "owner": "cfo@example.com",
}  # fmt: skip
KPI_IN = {
    "key": "service_availability", "name": "Business service availability",
    "strategic_question": "Are critical services dependable?",
    "business_impact": "Every hour of checkout downtime loses about 52,000 EUR of revenue.",
    "unit": "percent", "direction": "higher_is_better", "aggregation": None,
    "kind": "builtin", "metric": "availability", "filter": None, "availability_kpi": None,
    "numerator": None, "denominator": None, "cadence": "monthly", "time_zone": None,
    "business_owner": "coo@example.com", "technology_owner": "cto@example.com",
    "board_level": True, "tags": ["it", "reliability"],
    "escalation_path": [
        {"who": "Service owner on call", "channel": "webhook",
         "address": "https://hooks.example.com/kpi/availability", "after_breached_periods": 1,
         "after_unacknowledged_minutes": 60},
        {"who": "CTO", "channel": "email", "address": "cto@example.com",
         "after_breached_periods": 2, "after_unacknowledged_minutes": None},
    ],
    "prometheus": None,
}  # fmt: skip
TARGET_IN = {
    "kpi": "service_availability", "service": None, "tier": 1, "value": 99.95,
    "warning": 99.97, "effective_from": "2026-01-01", "effective_to": None,
}  # fmt: skip
OUTCOME_LINK_IN = {"weight": 3.0, "rationale": "Downtime of tier-1 services stops sales."}
OBSERVATION_IN = {
    "kpi": "patch_compliance", "service": "erp", "ts": "2026-11-02T09:00:00+01:00",
    "value": 96.4, "dimensions": {"region": "eu"}, "source": "patch-scanner",
}  # fmt: skip
COST_IN = {
    "service": "checkout", "category": "cloud", "period_start": "2026-10-01",
    "period_end": "2026-11-01", "amount": 9120.5, "currency": "EUR", "note": None,
    "source": "finance", "initiative": None,
}  # fmt: skip
INITIATIVE_KPI_IN = {
    "kpi": "service_availability", "service": "checkout", "expected_change": 0.2,
    "expected_by": "2026-09-30", "rationale": "Fewer outages from unpatched hosts.",
}  # fmt: skip
INITIATIVE_IN = {
    "key": "cloud-migration", "name": "Move checkout to the cloud", "owner": "cto@example.com",
    "sponsor": "cfo@example.com", "status": "delivered", "started_on": "2026-04-10",
    "delivered_on": "2026-06-20", "budget": 250000.0, "currency": "EUR", "review_periods": 3,
    "services": ["checkout"], "kpis": [INITIATIVE_KPI_IN],
}  # fmt: skip
REVIEW_WINDOW = {
    "start": "2026-01-01T00:00:00Z", "end": "2026-04-01T00:00:00Z", "mean": 99.2,
    "periods_with_data": 3, "ended": True,
}  # fmt: skip
INCIDENT_IN = {
    "source": "api", "external_id": "INC-4711", "service": "checkout", "severity": "sev2",
    "priority": "P2", "status": "resolved", "title": "Checkout returns 502 for card payments",
    "url": "https://itsm.example.com/incidents/INC-4711",
    "started_at": "2026-10-19T02:20:00Z", "detected_at": "2026-10-19T02:30:25Z",
    "acknowledged_at": "2026-10-19T02:40:06Z", "resolved_at": "2026-10-19T02:48:12Z",
    "reopened_at": None, "users_affected": 170, "cost_estimate": None,
    "problem_key": "checkout-card-gateway", "caused_by": "deploy-2026-10-18-3",
}  # fmt: skip
INCIDENT = {
    "id": 42, **{k: v for k, v in INCIDENT_IN.items() if k != "reopened_at"},
    "caused_by_change_id": 455, "link_kind": "explicit",
}  # fmt: skip
TIMELINE = [
    {"at": "2026-10-19T02:30:25Z", "what": "triggered",
     "event_key": "triggered:2026-10-19T02:30:25Z", "recorded_at": "2026-10-19T02:30:26Z",
     "delivery_id": 901},
    {"at": "2026-10-19T02:48:12Z", "what": "resolved",
     "event_key": "resolved:2026-10-19T02:48:12Z", "recorded_at": "2026-10-19T02:48:13Z",
     "delivery_id": 902},
]  # fmt: skip
CHANGE_IN = {
    "source": "api", "external_id": "deploy-2026-10-18-3", "service": "checkout",
    "environment": "production", "kind": "deploy", "status": "success",
    "started_at": "2026-10-18T14:52:28Z", "finished_at": "2026-10-18T15:04:28Z",
    "commit_sha": "f6e5203ca2379e6fd47345345aea635257632e1e",
    "commits": [{"sha": "f6e5203ca2379e6fd47345345aea635257632e1e",
                 "committed_at": "2026-10-17T06:53:40Z"}],
    "title": "Release 2026-10-18", "url": "https://ci.example.com/checkout/pipelines/3120",
    "labels": {"risk": "high"},
}  # fmt: skip
CHANGE = {
    "id": 455, **{k: v for k, v in CHANGE_IN.items() if k != "commits"},
    "is_production": True, "commit_time": "2026-10-17T06:53:40Z",
    "rolled_back_change_id": None, "rollback_link_kind": None,
}  # fmt: skip
SOURCE_IN = {
    "name": "alertmanager", "kind": "alertmanager", "secret": "a-long-random-secret",
    "username": None, "severity_map": {"critical": "sev1", "warning": "sev3"},
    "service_rules": [{"match": {"service": "checkout"}, "service": "checkout"}],
    "production_envs": ["production", "prod"], "incident_issue_types": ["incident"],
    "infer_links": True, "infer_window_minutes": 240, "open_to_api": False, "options": {},
    "team": None,
}  # fmt: skip
SOURCE = {
    "id": 6, **{k: v for k, v in SOURCE_IN.items() if k != "secret"}, "has_secret": True,
    "webhook_path": "/v1/webhooks/alertmanager",
}  # fmt: skip
DELIVERY_ROW = {
    "id": 556, "source": "alertmanager", "delivery_key": None, "event_type": "firing",
    "received_at": "2026-11-02T09:00:04Z", "status": "unmapped",
    "detail": "no service rule matches the labels {'service': 'billing'}", "applied_at": None,
    "attempts": 1, "body_bytes": 1043,
}  # fmt: skip
STATUS = {
    "kpi": "service_availability", "service": "checkout", "cadence": "monthly",
    "period_start": "2026-10-01T00:00:00Z", "period_end": "2026-11-01T00:00:00Z",
    "value": 99.9368, "target": 99.95, "warning": 99.97, "target_scope": "tier",
    "status": "breached", "driver": None, "previous_value": 100.0, "trend": "worsening",
    "complete": True, "evaluated_at": "2026-11-02T00:00:00Z",
}  # fmt: skip
WINDOW = {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z", "complete": True}
MTTR = {"n": 1, "mean": 17.77, "median": 17.77, "p90": 17.77}
TOKEN_INFO = {
    "id": 3, "name": "payments-ci", "scopes": ["ingest"], "team": "payments",
    "read_scope": "all", "created_at": "2026-11-02T09:00:00Z", "revoked_at": None,
}  # fmt: skip

#: Each model's example, as sent or as answered.
# fmt: off
BURN_POLICY_IN = {
    "objective": 0.999,
    "rules": [
        {"name": "page_fast", "severity": "page", "burn_rate": 14.4,
         "long_window_minutes": 60, "short_window_minutes": 5},
        {"name": "page_slow", "severity": "page", "burn_rate": 6.0,
         "long_window_minutes": 360, "short_window_minutes": 30},
        {"name": "ticket", "severity": "ticket", "burn_rate": 1.0,
         "long_window_minutes": 4320, "short_window_minutes": 360},
    ],
}  # fmt: skip

EXAMPLES: dict[Any, Any] = {
    TeamIn: TEAM_IN,
    Team: {**TEAM_IN, "id": 2, "parent": "retail"},
    ServiceIn: {**SERVICE_IN, "team_since": "2026-10-01T00:00:00Z"},
    Service: {**SERVICE_IN, "id": 3},
    OutcomeIn: OUTCOME_IN,
    Outcome: {**OUTCOME_IN, "id": 1},
    KpiIn: KPI_IN,
    Kpi: {**KPI_IN, "id": 1},
    TargetIn: TARGET_IN,
    Target: {**TARGET_IN, "id": 1},
    OutcomeLinkIn: OUTCOME_LINK_IN,
    OutcomeLink: {**OUTCOME_LINK_IN, "kpi": "service_availability", "outcome": "protect-revenue"},
    ServiceLink: {"kpi": "service_availability", "service": "checkout"},
    ObservationIn: OBSERVATION_IN,
    IngestResult: {"points": 1, "inserted": 1, "updated": 0, "unchanged": 0},
    Series: {
        "kpi": "service_availability",
        "service": "checkout",
        "team": None,
        "tier": None,
        "grain": "month",
        "aggregation": None,
        "unit": "percent",
        "points": [
            {"bucket": "2026-09-01T00:00:00Z", "value": 100.0, "count": 0, "complete": True},
            {"bucket": "2026-10-01T00:00:00Z", "value": 99.9368, "count": 1, "complete": True},
        ],
    },
    CostIn: COST_IN,
    Cost: {**COST_IN, "id": 12},
    CostIngestResult: {"records": 1, "inserted": 1, "updated": 0, "unchanged": 0},
    BudgetIn: {**COST_IN, "amount": 9500.0, "note": "FY27 plan"},
    Budget: {**COST_IN, "amount": 9500.0, "note": "FY27 plan", "id": 3},
    BudgetIngestResult: {"records": 1, "inserted": 1, "updated": 0, "unchanged": 0},
    BurnPolicyIn: BURN_POLICY_IN,
    BurnPolicy: {**BURN_POLICY_IN, "kpi": "service_availability"},
    BurnAlert: {
        "id": 12,
        "kpi": "service_availability",
        "rule": "page_fast",
        "severity": "page",
        "state": "resolved",
        "threshold": 14.4,
        "long_window_minutes": 60,
        "short_window_minutes": 5,
        "objective": 0.999,
        "fired_at": "2026-11-04T10:00:52Z",
        "long_burn_rate": 14.4444,
        "short_burn_rate": 173.3333,
        "resolved_at": "2026-11-04T10:34:56Z",
        "resolved_long_burn_rate": 500.0,
        "resolved_short_burn_rate": 13.3333,
    },
    BackstageFacts: {
        "fact_schema": {
            name: {"type": kind.value, "description": text}
            for name, kind, text in (
                (fact_name("service_availability", field), kind, text)
                for field, kind, text in KPI_FACT_FIELDS
            )
        },
        "entities": [
            {
                "entity": {"kind": "component", "namespace": "default", "name": "checkout"},
                "entity_ref": "component:default/checkout",
                "service": "checkout",
                "facts": FACTS,
            }
        ],
    },
    InitiativeIn: INITIATIVE_IN,
    Initiative: {**INITIATIVE_IN, "id": 1},
    InitiativeReview: {
        "initiative": "cloud-migration",
        "status": "delivered",
        "started_on": "2026-04-10",
        "delivered_on": "2026-06-20",
        "spend": {
            "budget": 250000.0,
            "currency": "EUR",
            "spent": 35000.5,
            "remaining": 214999.5,
            "percent_spent": 14.0002,
            "other_currencies": [],
        },
        "kpis": [
            {
                "kpi": "service_availability",
                "service": "checkout",
                "cadence": "monthly",
                "expected_change": 0.2,
                "expected_by": "2026-09-30",
                "baseline": REVIEW_WINDOW,
                "after": {
                    **REVIEW_WINDOW,
                    "start": "2026-07-01T00:00:00Z",
                    "end": "2026-10-01T00:00:00Z",
                    "mean": 99.6,
                },
                "change": 0.4,
                "met": True,
                "caveat": None,
            }
        ],
    },
    KpiStatus: STATUS,
    Scorecard: {
        "on": "2026-11-02T09:00:00Z",
        "items": [
            {
                **{k: v for k, v in STATUS.items() if k != "service"},
                "name": "Business service availability",
                "unit": "percent",
                "target": None,
                "warning": None,
                "target_scope": "services",
                "driver": {
                    "service": "checkout",
                    "value": 99.9368,
                    "target": 99.95,
                    "target_scope": "tier",
                },
                "business_owner": "coo@example.com",
                "technology_owner": "cto@example.com",
            }
        ],
        "board_level": 1,
        "warnings": [],
    },
    Escalation: {
        "id": 18,
        "kpi": "service_availability",
        "service": "checkout",
        "state": "acknowledged",
        "opened_at": "2026-11-02T00:00:00Z",
        "opened_period": "2026-10-01T00:00:00Z",
        "last_period": "2026-10-01T00:00:00Z",
        "breached_periods": 1,
        "steps_fired": 1,
        "acknowledged_at": "2026-11-02T08:12:00Z",
        "acknowledged_by": "checkout-lead@example.com",
        "resolved_at": None,
        "resolved_by": None,
        "resolution": None,
        "events": [
            {
                "kind": "opened",
                "position": None,
                "at": "2026-11-02T00:00:00Z",
                "detail": "breached in the period from 2026-10-01",
            },
            {
                "kind": "step",
                "position": 1,
                "at": "2026-11-02T00:00:00Z",
                "detail": "Service owner on call via webhook hooks.example.com",
            },
            {
                "kind": "acknowledged",
                "position": None,
                "at": "2026-11-02T08:12:00Z",
                "detail": "Card gateway fix deployed",
            },
        ],
    },
    EscalationAction: {"by": "checkout-lead@example.com", "note": "Card gateway fix deployed"},
    ServiceReport: {
        "service": "checkout",
        "availability": {
            "window": WINDOW,
            "availability": 99.9368,
            "outage_minutes": 28.2,
            "planned_downtime_minutes": 45.0,
            "outage_incidents": 1,
            "target": 99.95,
            "target_scope": "tier",
            "target_kpi": "service_availability",
            "error_budget_remaining": -26.33,
            "burn_rate": 1.2633,
        },
        "incidents": {
            "window": WINDOW,
            "overall": {
                "severity": None,
                "service": None,
                "incidents": 1,
                "mttd": MTTR,
                "mtta": MTTR,
                "mttr": MTTR,
                "time_to_restore": MTTR,
            },
            "by_severity": [],
            "by_service": [],
            "recurrence_rate": 0.0,
            "users_affected": 170.0,
            "downtime_cost": 24436.74,
        },
        "dora": {
            "window": WINDOW,
            "deployments": 11,
            "deployments_per_week": {"value": 2.48, "band": "high"},
            "lead_time": {"value": 12.2, "band": "elite"},
            "change_failure_rate": {"value": 0.0, "band": "elite"},
            "recovery_time": {"value": None, "band": None},
            "rework_rate": 0.0,
        },
        "spend": {
            "window": WINDOW,
            "currencies": [
                {
                    "currency": "EUR",
                    "total": 15734.23,
                    "by_category": [
                        {"category": "cloud", "amount": 10310.33},
                        {"category": "licences", "amount": 5423.9},
                    ],
                }
            ],
        },
    },
    GovernanceGap: {"kpi": "revenue_growth", "missing": ["target", "technology_owner"]},
    FailureClusters: {
        "window": WINDOW,
        "by": "service",
        "name": None,
        "order": "failures",
        "changes": 11,
        "failures": 1,
        "change_failure_rate": 9.09,
        "incidents": 1,
        "restore_hours": 0.47,
        "clusters": [
            {
                "key": "checkout",
                "changes": 11,
                "failures": 1,
                "change_failure_rate": 9.09,
                "share_of_failures": 100.0,
                "incidents": 1,
                "resolved_incidents": 1,
                "restore_hours": 0.47,
                "share_of_restore_time": 100.0,
                "mean_time_to_restore": 28.2,
            }
        ],
    },
    IncidentIn: INCIDENT_IN,
    Incident: INCIDENT,
    IncidentDetail: {**INCIDENT, "timeline": TIMELINE},
    IncidentEventIn: {
        "step": "acknowledged",
        "occurred_at": "2026-10-19T02:40:06Z",
        "event_id": "ack-1",
        "severity": None,
        "priority": None,
        "title": None,
        "users_affected": None,
        "cost_estimate": None,
        "problem_key": None,
        "caused_by": None,
        "note": "Payments on call is looking at the card gateway",
    },
    ChangeIn: CHANGE_IN,
    Change: CHANGE,
    ChangeDetail: {
        **CHANGE,
        "timeline": [
            {
                "at": "2026-10-18T15:04:28Z",
                "what": "success",
                "event_key": "success:2026-10-18T15:04:28Z",
                "recorded_at": "2026-10-18T15:04:29Z",
                "delivery_id": 880,
            }
        ],
        "incidents": [42],
        "reverted_by": None,
        "reverts": None,
    },
    DeliveryOutcome: {
        "delivery_id": 557,
        "status": "applied",
        "detail": None,
        "incidents": [42],
        "changes": [],
        "commits": 0,
    },
    SourceIn: SOURCE_IN,
    Source: SOURCE,
    DeliveryRow: DELIVERY_ROW,
    DeliveryDetail: {
        **DELIVERY_ROW,
        "body_bytes": 71,
        "headers": {"content-type": "application/json", "user-agent": "Alertmanager/0.28.1"},
        "body": '{"version":"4","status":"firing","receiver":"kpi","alerts":[]}',
    },
    WebhookRejections: {
        "source": "github",
        "kind": "github",
        "reason": "bad-signature",
        "count": 3,
        "first_at": "2026-11-02T08:00:00Z",
        "last_at": "2026-11-02T08:59:00Z",
        "samples": [
            {
                "received_at": "2026-11-02T08:59:00Z",
                "client": "203.0.113.7",
                "headers": {
                    "user-agent": "GitHub-Hookshot/8d1e3f5",
                    "x-github-event": "deployment_status",
                },
            }
        ],
    },
    ReplayReport: {"applied": [556], "still_unmapped": [561]},
    TokenIn: {"name": "payments-ci", "scopes": ["ingest"], "team": "payments", "read_scope": "all"},
    NewToken: {**TOKEN_INFO, "token": "kpi_3_q6Zk1u0mYbq0u3hT4d8G2xw9VfJ"},
    TokenInfo: TOKEN_INFO,
    AuditEntry: {
        "id": 7301,
        "at": "2026-11-02T09:14:05Z",
        "actor_token_id": 3,
        "actor_name": "catalog-admin",
        "via": "rest",
        "entity_kind": "team",
        "entity_key": "payments",
        "action": "update",
        "before": {"id": 4, **TEAM_IN, "email": None},
        "after": {"id": 4, **TEAM_IN},
        "file_name": None,
        "file_sha256": None,
    },
    CatalogFile: {
        "teams": [TEAM_IN],
        "services": [],
        "outcomes": [OUTCOME_IN],
        "kpis": [
            {
                **KPI_IN,
                "targets": [{k: v for k, v in TARGET_IN.items() if k != "kpi"}],
                "outcomes": [{**OUTCOME_LINK_IN, "outcome": "protect-revenue"}],
                "services": ["checkout"],
            }
        ],
        "sources": [],
    },
    ApplyReport: {
        "dry_run": True,
        "changes": [
            {"action": "create", "kind": "outcome", "key": "protect-revenue", "fields": {}},
            {
                "action": "update",
                "kind": "team",
                "key": "payments",
                "fields": {"email": [None, "payments@example.com"]},
            },
        ],
        "unchanged": 2,
    },
    EvaluateIn: {
        "kpi": "service_availability",
        "period": "2026-10-15T00:00:00Z",
        "cadence": "monthly",
    },
    Notification: {
        "id": 2,
        "escalation_id": 18,
        "position": 1,
        "message_id": "msg_36UFbjBSMHZw6TgiDHY8H-zm",
        "url": "https://hooks.example.com/kpi/availability",
        "event_type": "kpi.escalation.step",
        "payload": {
            "type": "kpi.escalation.step",
            "escalation_id": 18,
            "kpi": {
                "key": "service_availability",
                "name": "Business service availability",
                "unit": "percent",
                "direction": "higher_is_better",
            },
            "service": "checkout",
            "status": "breached",
            "value": 99.9368,
            "target": 99.95,
            "warning": 99.97,
            "breached_periods": 1,
            "period": {"start": "2026-10-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"},
            "step": {"who": "Service owner on call", "position": 1},
            "owners": {"business": "coo@example.com", "technology": "cto@example.com"},
        },
        "state": "delivered",
        "attempts": 1,
        "next_attempt_at": "2026-11-02T00:00:00Z",
        "delivered_at": "2026-11-02T00:00:01Z",
        "last_error": None,
        "created_at": "2026-11-02T00:00:00Z",
        "attempt_log": [
            {
                "id": 7,
                "at": "2026-11-02T00:00:01Z",
                "status_code": 204,
                "error": None,
                "duration_ms": 83.0,
            }
        ],
    },
    Health: {"status": "ok"},
    Readiness: {
        "status": "ready",
        "databases": [
            {"name": "primary", "reachable": True, "lag_bytes": None, "used": None},
            {"name": "replica1", "reachable": True, "lag_bytes": 184, "used": True},
        ],
    },
}
# fmt: on
EXAMPLES.update(examples_gate.EXAMPLES)

#: The quarter of the review's example.
QUARTER_WINDOW = {"start": "2026-07-01T00:00:00Z", "end": "2026-10-01T00:00:00Z",
                  "complete": True}  # fmt: skip


def _in_quarter(example: Any) -> Any:
    """`example` with each report window (October) made the review's quarter."""
    if example == WINDOW:
        return QUARTER_WINDOW
    if isinstance(example, dict):
        return {k: _in_quarter(v) for k, v in example.items()}
    if isinstance(example, list):
        return [_in_quarter(v) for v in example]
    return example


def _kpi_trend(item: dict[str, Any]) -> dict[str, Any]:
    return {"status": item, "trend": EXAMPLES[Series]["points"]}


EXAMPLES[TeamFigures] = {
    "team": "retail",
    "availability": {
        "window": WINDOW, "availability": 99.9812, "weighted_availability": 99.9741,
        "service_minutes": 150000.0, "outage_minutes": 28.2, "outage_incidents": 1,
        "services": 3,
    },
    "incidents": EXAMPLES[ServiceReport]["incidents"],
    "dora": EXAMPLES[ServiceReport]["dora"],
    "spend": {
        "window": WINDOW,
        "currencies": [{"currency": "EUR", "total": 15734.23, "per_user": 0.0874,
                        "by_category": [{"category": "cloud", "amount": 10310.33},
                                        {"category": "licences", "amount": 5423.9}]}],
        "users": 180000.0,
    },
}  # fmt: skip
EXAMPLES[DoraTrend] = {
    "team": "retail", "grain": "month",
    "buckets": [EXAMPLES[ServiceReport]["dora"]],
}  # fmt: skip

EXAMPLES[QuarterlyReview] = _in_quarter({
    "quarter": "2026-Q3", "start": "2026-07-01T00:00:00Z", "end": "2026-10-01T00:00:00Z",
    "generated_at": "2026-11-02T09:00:00Z",
    "board": [_kpi_trend(EXAMPLES[Scorecard]["items"][0])], "board_warnings": [],
    "tiers": [{"tier": 1, "downtime_cost": 24436.74, "services": [EXAMPLES[ServiceReport]]}],
    "incidents": EXAMPLES[ServiceReport]["incidents"], "dora": EXAMPLES[ServiceReport]["dora"],
    "clusters_by_service": EXAMPLES[FailureClusters], "clusters_by_vendor": None,
    "spend": EXAMPLES[ServiceReport]["spend"], "budget": [], "unit_costs": [],
    "initiatives": [{"name": "Cloud migration", "review": EXAMPLES[InitiativeReview]}],
    "governance_gaps": [EXAMPLES[GovernanceGap]], "open_escalations": [EXAMPLES[Escalation]],
})  # fmt: skip


def example_of(tp: Any) -> Any:
    """The example of a model, or of a list of it; None for a type without one."""
    if get_origin(tp) is list:
        (item,) = get_args(tp)
        inner = example_of(item)
        return None if inner is None else [inner]
    return EXAMPLES.get(tp)


#: What each error status answers, as the problem's detail (and its bad fields).
DATA_SOURCE_IN = {
    "name": "prometheus-eu",
    "kind": "prometheus",
    "url": "https://prometheus.example.com",
    "auth": "bearer",
    "username": None,
    "secret": "glsa_9c1f7e2b4d",
}
EXAMPLES[DataSourceIn] = DATA_SOURCE_IN
EXAMPLES[DataSource] = {
    **{k: v for k, v in DATA_SOURCE_IN.items() if k != "secret"},
    "id": 1, "has_secret": True, "queries_ok": 1440, "queries_failed": 1,
    "last_success_at": "2026-12-06T10:01:00Z",
    "last_error": "good-events query: Prometheus answered 503: unavailable: TSDB not ready",
    "last_error_at": "2026-12-06T09:01:00Z",
    "slis": [{
        "kpi": "checkout_success", "next_bucket": "2026-12-06T10:00:00Z",
        "last_run_at": "2026-12-06T10:01:00Z", "points": 720, "gaps": 0, "last_problem": None,
        "last_problem_at": None,
    }],
}  # fmt: skip


PROBLEM_DETAILS: dict[int, str] = {
    202: "no service rule of source alertmanager matches the labels {'service': 'billing'}",
    400: "the body is not valid JSON: expected value at line 1 column 1",
    401: "missing or invalid bearer token",
    403: "this operation needs the admin scope",
    404: "no KPI 'service_availabilty'",
    406: "format 'xlsx' is not offered: use json or csv",
    408: "the body stopped arriving for 30 s; nothing of it was stored",
    409: "a team with slug 'payments' already exists",
    413: "the body is over the 8388608-byte limit",
    415: "Content-Type must be one of application/json, not 'text/plain'",
    422: "invalid fields: 0.ts",
    429: "over the token's rate limit; retry after 1 s",
    503: "database not reachable: ConnectionRefusedError",
}


def problem_example(status: int) -> dict[str, Any]:
    """A problem+json answer of `status`, as the service's error classes write it."""
    (kind,) = {c for c in _error_classes(ApiError) if c.status == status}
    body: dict[str, Any] = kind(PROBLEM_DETAILS[status]).body()
    if status == 422:
        body["errors"] = [
            {"pointer": "#/0/ts", "field": "0.ts", "detail": "give a time zone offset"}
        ]
    if status == 406:
        body["errors"] = [
            {"pointer": "#/format", "field": "format", "detail": PROBLEM_DETAILS[status]}
        ]
    return body


def _error_classes(base: type[ApiError]) -> set[type[ApiError]]:
    """Each error class below `base` that sets a status of its own."""
    found: set[type[ApiError]] = set()
    for sub in base.__subclasses__():
        if "status" in vars(sub):
            found.add(sub)
        found |= _error_classes(sub)
    return found
