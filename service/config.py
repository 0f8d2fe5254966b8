"""Settings read from the environment (prefix KPI_); nothing reads them at import time."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Largest JSON body accepted by any endpoint (NDJSON streams are bounded per line instead).
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
#: Highest GraphQL cost let through by default: a portal page of 100 services with their
#: KPIs, targets, latest status and outcomes fits, as do the README's examples.
DEFAULT_GRAPHQL_MAX_COST = 2_000_000

#: A duration in seconds, above zero.
Seconds = Annotated[float, Field(gt=0)]
#: An amount that cannot be negative.
NonNegative = Annotated[float, Field(ge=0)]
#: How many requests may come at once before a rate applies: at least one.
Burst = Annotated[float, Field(ge=1)]
#: A count of at least one.
Positive = Annotated[int, Field(ge=1)]


class Settings(BaseSettings):
    """Service settings; every field can be set as KPI_<NAME> in the environment. Each one's
    docstring is its description."""

    model_config = SettingsConfigDict(
        env_prefix="KPI_", extra="ignore", use_attribute_docstrings=True
    )

    database_url: SecretStr | None = None
    """Postgres URL; with none, an embedded Postgres is started."""
    database_migrate_url: SecretStr | None = None
    """Postgres URL that migrations and the `kpi` commands working on the database connect to,
    directly rather than through a pooler (by default KPI_DATABASE_URL)."""
    db_transaction_pooling: bool = False
    """KPI_DATABASE_URL goes through a pooler in transaction mode (PgBouncer): no prepared
    statements are kept and no settings are sent at connect; the role sets the schema, jit and
    work_mem (see the README's section on PgBouncer)."""
    database_read_url: SecretStr | None = None
    """Postgres URLs of streaming replicas of KPI_DATABASE_URL, separated by whitespace (a
    multi-host URL holds commas): GraphQL queries and REST reads of reports, series and lists
    go to one of them that is up and within KPI_REPLICA_MAX_LAG_BYTES, unless the calling
    token wrote something a replica has not replayed yet; everything else goes to the primary.
    With none, every statement goes to KPI_DATABASE_URL."""
    replica_max_lag_bytes: Annotated[int, Field(ge=0)] = 16 * 1024 * 1024
    """Most WAL bytes a replica's replay may be behind the primary's current position for
    reads to go to it; past it they go to the primary. 16 MiB is one WAL segment: a replica
    keeping up replays within a fraction of that (its lag measured every check is the WAL
    written since), while one stalled by a long query, a paused replay or a bulk load is past
    it within seconds under ingestion load."""
    replica_check_seconds: Seconds = 1
    """How often each server process measures each replica's replay position against the
    primary's (and finds a replica down or back)."""
    db_statement_cache_size: Annotated[int, Field(ge=0)] = 100
    """Prepared statements kept per connection (asyncpg's cache); 0 behind a pooler that does
    not carry prepared statements (PgBouncer before 1.21), as KPI_DB_TRANSACTION_POOLING
    implies."""
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("kpi-service")))
    """Where the embedded Postgres keeps its data."""
    db_schema: str = "public"
    """Postgres schema holding the tables."""
    pool_min_size: int = 2
    pool_max_size: int = 10
    db_connect_timeout_seconds: Seconds = 5
    """How long opening a database connection may take before it counts as failed (the
    database is unreachable)."""
    db_acquire_timeout_seconds: Seconds = 10
    """How long a request waits for a pooled connection (connecting included) before it is
    answered 503 with Retry-After."""
    db_command_timeout_seconds: NonNegative = 300
    """Longest one SQL statement on the server's pool (requests, background work) may run
    before it is cancelled; a request meeting it is answered 503 (0: no limit). It bounds a
    hang on a connection whose database vanished without closing it."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    body_read_timeout_seconds: Seconds = 15
    """Longest pause while a request body arrives; a client that stops sending for longer is
    answered 408 and what it sent is not stored."""
    max_batch_points: int = 10_000
    initiative_min_periods: Positive = 3
    """Fewest periods with data, before an initiative's start and after its delivery, for its
    review to compare them without a caveat."""
    max_ndjson_line_bytes: int = 64 * 1024
    observation_window_past_days: NonNegative = 90
    """How far back (days) a token without the admin scope may send observation points; older
    ones are a backfill, for an admin token or `kpi import`."""
    observation_window_future_days: NonNegative = 1
    """How far ahead (days) a token without the admin scope may send points."""
    observation_partition_years: Annotated[int, Field(ge=0, le=100)] = 5
    """Months from this many years before now to a year after get a partition of their own;
    points of other months share one default partition."""
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 5_000
    graphql_max_cost: Positive = DEFAULT_GRAPHQL_MAX_COST
    """Highest static cost of a GraphQL operation (each field 1 times the product of the page
    sizes of the lists enclosing it; a series its buckets); a query costing more is refused
    before it runs."""
    graphql_cost_per_request: Positive = 10_000
    """GraphQL cost counted as one request against the token's rate limit: a query costing N
    counts as ceil(N / this) requests (at least 1, at most a burst)."""
    graphql_deadline_seconds: Seconds = 10
    """Longest a GraphQL request may run; past it, its work is cancelled, its database
    connections handed back, and it is answered with a DEADLINE_EXCEEDED error."""
    graphql_persisted_queries_max: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000
    """Most documents kept for automatic persisted queries (shared by every worker in
    Postgres); past it, the least recently used are removed."""
    graphql_trusted_documents: Path | None = None
    """A JSON file of SHA-256 to GraphQL document (a persisted-documents manifest): when set,
    only these documents run, by hash or in full."""
    graphql_max_connections: Positive = 3
    """Most database connections one GraphQL request may hold at once."""
    log_level: str = "INFO"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Browser origins (comma-separated, e.g. https://portal.example.com) whose pages may call
    the API; none by default, so no cross-origin page can read it."""
    notify_secret: SecretStr | None = None
    """Key signing outgoing notifications (whsec_ + base64); with none, a key made once and
    kept in the database (`kpi notify-secret` prints it)."""
    notify_timeout_seconds: Seconds = 10
    """How long a notification's receiver has to answer."""
    outbound_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Hosts, addresses and CIDR networks (comma-separated) that notifications may be sent to
    although they are private, loopback or link-local; none by default."""
    demo_receiver_url: str | None = None
    """Set by `kpi serve --demo`: the URL of the notification receiver the demo serves
    (/demo/receiver); the demo's webhooks go there, and the outbound rules let them."""
    background: bool = True
    """Run KPI evaluation at period close and notification delivery in this process (one
    leader evaluates; every process delivers)."""
    rate_limit_per_second: NonNegative = 100
    """Requests a second each API token may send on average, counted across every server
    process in the database (0: no limit); past it, 429 with Retry-After."""
    rate_limit_burst: Burst = 500
    """Requests a token may send at once before the rate limit applies."""
    webhook_client_refusals_per_second: NonNegative = 1
    """Webhook requests a client address may have refused for not proving a source (401, 404,
    409), a second on average, counted across every server process; once its bucket is
    empty, every webhook request from it is answered 429 with Retry-After (0: no limit)."""
    webhook_client_refusals_burst: Burst = 30
    """Refused webhook requests a client address may make at once."""
    webhook_source_rejections_per_second: NonNegative = 2
    """Deliveries to one source that fail its signature check and are recorded, a second on
    average, counted across every server process; past it they are answered 429 and not
    recorded (0: no limit). Deliveries that verify are never limited."""
    webhook_source_rejections_burst: Burst = 100
    """Deliveries to one source that may fail its signature check at once."""
    webhook_rejection_samples: Annotated[int, Field(ge=0, le=1000)] = 20
    """Rejected deliveries kept as samples (headers cut short, no body) per source and reason;
    older ones are overwritten in turn."""
    webhook_event_time_tolerance_seconds: NonNegative = 86_400
    """How far from a webhook delivery's arrival a time the tool signs with it (PagerDuty's
    event time) may lie, either way; a delivery outside it is refused with a 422 naming the
    field, as a replay (0: not checked). A day covers PagerDuty's retries."""
    forwarded_allow_ips: str = "127.0.0.1"
    """Comma-separated addresses or networks of the proxies whose X-Forwarded-For and
    X-Forwarded-Proto are trusted for the client's address (uvicorn's forwarded_allow_ips;
    '*' trusts any peer)."""
    background_interval_seconds: Seconds = 30
    """Pause between background rounds."""
    leader_lease_seconds: Seconds = 90
    """How long the evaluating leader's lease lasts unless renewed (every round renews it):
    once a leader dies, another process leads within this long. Keep it above the pause
    between rounds."""
    fiscal_year_start_month: Annotated[int, Field(ge=1, le=12)] = 1
    """First month of the fiscal year (1 January ... 12 December), for the spend forecast."""
    run_rate_months: Annotated[int, Field(ge=1, le=24)] = 3
    """Whole months whose mean spend is the spend forecast's run rate."""
    time_zone: str = "UTC"
    """The organisation's time zone (an IANA name such as Europe/Berlin): reporting periods
    and series buckets start at its local midnights. A KPI may name a zone of its own."""
    week_start: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "monday"
    """The first day of a week, for weekly buckets and periods."""
    calendar_from: dt.date | None = None
    """The day (in the new zone) from which a changed calendar (zone, first day of the week,
    fiscal year's first month) applies; periods before it keep the calendar they had. With
    none, a change applies from the day the service first starts with it."""

    def database_read_urls(self) -> list[str]:
        """The replicas' URLs of KPI_DATABASE_READ_URL, in order (none when unset)."""
        if self.database_read_url is None:
            return []
        return self.database_read_url.get_secret_value().split()

    @field_validator("time_zone")
    @classmethod
    def _iana_zone(cls, value: str) -> str:
        if value != "UTC" and value not in zoneinfo.available_timezones():
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin")
        return value

    prometheus_backfill_days: Annotated[float, Field(ge=0, le=400)] = 30
    """Days of history a new (or changed) Prometheus SLI is evaluated for by its first
    rounds."""
    prometheus_delay_seconds: NonNegative = 60
    """How long after a bucket's end its Prometheus SLI is first asked for (scrapes and
    recording rules lag)."""
    prometheus_gap_after_seconds: NonNegative = 3600
    """How long after a bucket's end a Prometheus SLI keeps asking for a bucket without
    samples before leaving it as a gap."""
    prometheus_timeout_seconds: Seconds = 10
    """How long a Prometheus query may take before it counts as failed."""

    @field_validator("cors_origins", "outbound_allow", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value
