"""Answers a schemathesis check counts as failures but the API gives on purpose, each naming the
check, the operations and why.

Unlike known_bugs.py (bugs found and not yet fixed), these stay: the behaviour is deliberate
and documented. Each entry explains an answer only when `explains` recognises it, so the same
check still fails any other answer of the operation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import schemathesis

from tests.spec.seed import source_auth

#: Every operation of the spec.
EVERY = "*"


@dataclass(frozen=True)
class AcceptedDeviation:
    check: str  # the schemathesis check, by name
    operations: tuple[str, ...]  # schemathesis' labels ("POST /v1/teams"), or EVERY
    reason: str  # why the API answers so, and where that is documented
    explains: Callable[[schemathesis.Case, schemathesis.Response], bool]

    def covers(self, check: str, case: schemathesis.Case) -> bool:
        return check == self.check and (
            EVERY in self.operations or case.operation.label in self.operations
        )


#: What the service checks beyond what JSON Schema says, by the detail of its 422 errors.
RULES_BEYOND_THE_SCHEMA = {
    # A field naming a row (kpi, service, team ...): the row must exist and be of a kind the
    # operation takes.
    "reference": r"unknown (KPI|service|team|outcome|source|initiative|data source)\b"
    r"|is builtin: it is computed, not observed|is not a builtin availability KPI"
    r"|has no reporting cadence"
    # a burn-rate policy watches availability and ratio KPIs (README, Burn-rate alerts)
    r"|burn-rate alerts watch builtin availability KPIs|must be an observed KPI",
    # README, Security: names are kept in NFC, without control, format or unusual space
    # characters; Postgres cannot store NUL (U+0000) in text, so a key holding one names
    # nothing.
    "characters": r"must not be blank"
    r"|must not contain (invisible, control or unusual space characters"
    r"|control characters|the NUL character)|without the NUL character|mixes the scripts"
    r"|CharacterNotInRepertoireError",
    # README, Security: every date and time lies in [1970-01-01, 2200-01-01); the spec says
    # so in each description and as x-formatMinimum / x-formatExclusiveMaximum, which schemathesis
    # does not read. A period to evaluate must have started, a quarter to review ended.
    "time range": r"must be between 1970 and 2200|must be from 1970-01-01 to 2200-01-01"
    r"|the period has not started yet|has not ended yet: a review covers a closed quarter",
    # README, Security: the outbound URL rules of a webhook step.
    # README, Business calendars: a KPI's time zone is an IANA name the tz database knows.
    "time zone": r"is not an IANA time zone",
    "outbound URL": r"step's URL|has a port outside|is not a valid URL|needs a host"
    r"|must not carry credentials|in its usual form|must not contain spaces"
    # ... and of a data source, whose host must be public or in KPI_OUTBOUND_ALLOW.
    r"|the URL must be an http|the URL's host is a private, loopback",
    # Relations between fields of one request (or its path): an end after its start, one
    # field of several, a field another one makes required, a body naming its path's row, the
    # options a source's kind has.
    "related fields": r"\(options of \w+ sources\)$|give a service or a tier, not both"
    r"|the target value for this KPI's direction|must not be before \w+"
    r"|must be open when reopened_at is given|only allowed for error_budget_remaining"
    # ... and rows that would refer to themselves, in a cycle, or twice.
    r"|cannot refer to itself|cannot depend on itself|that is a cycle|is listed twice"
    r"|must be after (period_start|effective_from|from|starts_at)\b"
    r"|must be before to|the window must start before its end|give one of service, team"
    r"|required for an observed KPI|(required|only allowed) when kind is"
    r"|an email step needs an e-mail address"
    r"|source needs a secret to verify deliveries|must match the path"
    r"|only service_attribute and change_label take a name"
    r"|needs the name of the attribute or label"
    r"|budget and currency go together"
    # README, Team hierarchy and roll-ups: a change of team takes effect after the previous
    # one and not in the future; a DORA trend holds at most 400 buckets.
    r"|must not be in the future|when the previous team took it over"
    r"|a trend holds at most \d+|buckets; narrow the window"
    # README, Burn-rate alerts: a rule's short window is shorter than its long one, and a
    # policy names each rule once.
    r"|must be shorter than long_window_minutes|is named twice"
    # README, Access: a token limited to a team has no admin scope; reads limited to a team
    # need the team.
    r"|a token limited to a team cannot have the admin scope"
    r"|limiting reads to a team needs `team`"
    # README, SLIs from Prometheus: a data source's auth takes its username and secret; an
    # SLI's numerator and denominator are observed sums of its own.
    r"|(required|only allowed) for basic auth|not used without auth|required for bearer auth"
    r"|must be an observed KPI with aggregation sum|already writes into its numerator"
    r"|an SLI needs two KPIs",
}
_RULES = re.compile("|".join(f"(?:{rule})" for rule in RULES_BEYOND_THE_SCHEMA.values()))


def _refused_by_a_rule_beyond_the_schema(_: schemathesis.Case, r: schemathesis.Response) -> bool:
    """A 422 validation problem each of whose errors is one of RULES_BEYOND_THE_SCHEMA."""
    if r.status_code != 422:
        return False
    body: Any = r.json()
    if not isinstance(body, dict) or not str(body.get("type", "")).endswith("/validation"):
        return False
    details = [str(e.get("detail", "")) for e in body.get("errors") or []] or [
        str(body.get("detail", ""))
    ]
    return all(_RULES.search(detail) for detail in details)


#: What an Idempotency-Key may hold (the spec's pattern, and at most 255 characters).
_IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,255}")


def _key_valid_once_http_trims_it(case: schemathesis.Case, _: schemathesis.Response) -> bool:
    """An Idempotency-Key invalid only for the spaces or tabs around it."""
    key = (case.headers or {}).get("Idempotency-Key")
    return (
        isinstance(key, str)
        and key != key.strip(" \t")
        and _IDEMPOTENCY_KEY.fullmatch(key.strip(" \t")) is not None
    )


def _allows_get_and_post(_: schemathesis.Case, r: schemathesis.Response) -> bool:
    allowed = {m.strip() for m in r.headers.get("allow", [""])[0].split(",")}
    return r.status_code == 405 and allowed == {"GET", "HEAD", "POST"}


ACCEPTED_DEVIATIONS: list[AcceptedDeviation] = [
    AcceptedDeviation(
        check="negative_data_rejection",
        operations=(EVERY,),
        reason="Spaces and tabs around a header's value are not part of it (RFC 9110, 5.5): "
        "the HTTP server trims them before the service reads the header, so an "
        "Idempotency-Key invalid only for them is a valid key (met over HTTP, with "
        "`schemathesis run`).",
        explains=_key_valid_once_http_trims_it,
    ),
    AcceptedDeviation(
        check="positive_data_acceptance",
        operations=(EVERY,),
        reason="The spec gives each field's shape; the service also checks what JSON Schema "
        "cannot say (RULES_BEYOND_THE_SCHEMA: rows named must exist, text rules, the "
        "1970-2200 range, relations between fields) and answers 422 naming the field.",
        explains=_refused_by_a_rule_beyond_the_schema,
    ),
    AcceptedDeviation(
        check="positive_data_acceptance",
        operations=("POST /v1/webhooks/{source}",),
        reason="A delivery's body is in the sending tool's own format, which the spec leaves to "
        "the tool (any JSON object): a body that is not a valid delivery of the source's kind "
        "is a 422 naming the member at fault (README, What happens to a delivery).",
        explains=lambda _, r: (
            r.status_code == 422 and re.search(r"is not a valid \w+ delivery", r.text) is not None
        ),
    ),
    AcceptedDeviation(
        check="ignored_auth",
        operations=("POST /v1/webhooks/{source}",),
        reason="The webhook operation lists the credentials of every source kind as "
        "alternatives, and OpenAPI's security requirements are met by any one of them: the "
        "test sends each delivery with its source's own credential (seed.source_auth), so a "
        "delivery holding it is accepted whatever the generated credentials of the other kinds "
        "hold (README, Sources: each kind proves its deliveries its own way).",
        explains=lambda case, r: (
            r.status_code < 300 and bool(source_auth(str(case.path_parameters.get("source"))))
        ),
    ),
    AcceptedDeviation(
        check="unsupported_method",
        operations=("POST /graphql",),
        reason="GET /graphql is served (see allow_header_conformance): a GET without a "
        "query is a 400, not the 405 of a method the path does not have.",
        explains=lambda case, _: True,
    ),
    AcceptedDeviation(
        check="allow_header_conformance",
        operations=("POST /graphql",),
        reason="/graphql also answers GET (queries over GET, the explorer page for "
        "browsers), as the README says; the REST spec describes the graph's endpoint by "
        "its POST alone, the graph itself being described by schema.graphql.",
        explains=_allows_get_and_post,
    ),
]


def accepted_deviations(case: schemathesis.Case, check: str) -> list[AcceptedDeviation]:
    return [d for d in ACCEPTED_DEVIATIONS if d.covers(check, case)]
