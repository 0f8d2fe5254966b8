"""Tests against real third-party components (Alertmanager; later Prometheus, PgBouncer,
replicas, a browser), marked `components`: .ci/run runs them in one of its two PostgreSQL passes
only (KPI_TEST_COMPONENTS=0 deselects them in the other)."""
