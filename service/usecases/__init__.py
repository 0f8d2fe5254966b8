"""Use cases: one module of operations per domain (catalog, observations, costs, ingestion,
evaluation and escalation, notifications, reports ...), the only way the interfaces (REST,
GraphQL, the CLI, the background worker) change or compute anything. A use case takes a
connection and the injected `now`, checks what the domain requires, runs repositories from
service/store/ (which speak SQL and return typed models) and the pure rules of service/kpi/
and service/models/, and returns typed models; it never sees SQL text or a database row."""
