"""Every operation of the checked-in openapi/openapi.json, called with generated requests
(valid and invalid) against the real app and Postgres, under every check schemathesis has (as
`schemathesis run --checks all`): no 5xx; every answer's status, content type, headers and
body are the ones the spec documents; valid requests are accepted and invalid ones refused;
authentication is enforced; methods the spec does not list are refused with an `Allow`.
Answers the API gives on purpose though a check counts them as failures are listed, each with
its reason, in accepted_deviations.py."""

from __future__ import annotations

import json
from typing import Any

import hypothesis.strategies as st
import schemathesis
from hypothesis import assume
from schemathesis.checks import CHECKS as CHECKS_REGISTRY
from schemathesis.checks import is_check_class, load_all_checks
from starlette.applications import Starlette

from tests.spec import seed as seeding
from tests.spec.accepted_deviations import ACCEPTED_DEVIATIONS, EVERY, accepted_deviations
from tests.spec.common import ROOT, config
from tests.spec.known_bugs import known_bugs

#: The webhook receiver gets more cases: each source kind parses deliveries its own way.
WEBHOOKS = {"include-name": "POST /v1/webhooks/{source}", "generation": {"max-examples": 60}}

SCHEMA = schemathesis.openapi.from_path(
    ROOT / "openapi" / "openapi.json", config=config(operations=[WEBHOOKS])
)

load_all_checks()
#: Every check schemathesis has, as `schemathesis run --checks all` runs them.
CHECKS = [check for check in CHECKS_REGISTRY.get_all() if not is_check_class(check)]


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """A JSON array as NDJSON, one item a line; anything else as one line."""
    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode()


@SCHEMA.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Generated path parameters, or ones naming seeded rows (so updates and reads of rows that
    exist are exercised too, not only 404s)."""
    seeded = seeding.SEEDED
    operation = context.operation
    if seeded is None or operation is None:
        return st.just(path_parameters)
    variants = seeded.variants(operation.path, path_parameters)
    if not variants:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), st.sampled_from(variants))


@SCHEMA.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    """The generated body, or the same naming seeded rows in its kpi, service, team ...
    fields (so that creates and updates get past the checks of their references)."""
    seeded = seeding.SEEDED
    variants = seeded.body_variants(body) if seeded is not None else []
    return st.one_of(st.just(body), st.sampled_from(variants)) if variants else st.just(body)


@SCHEMA.hook
def map_case(context: schemathesis.HookContext, case: schemathesis.Case) -> schemathesis.Case:
    """A replace (PUT) whose body names the row of its path (slug, key or name): the server
    refuses any other, so without this updates would hardly ever be reached."""
    if case.method.upper() == "PUT" and isinstance(case.body, dict):
        for name, value in case.path_parameters.items():
            if name in case.body and isinstance(value, str):
                case.body = {**case.body, name: value}
    return case


@SCHEMA.hook
def map_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any]
) -> dict[str, Any]:
    """Never revoke the token the suite runs with."""
    seeded = seeding.SEEDED
    if (
        seeded is not None
        and context.operation is not None
        and context.operation.path == "/v1/tokens/{id}"
        and path_parameters.get("id") == seeded.token_id
    ):
        return {**path_parameters, "id": seeded.known["spare_token"][0]}
    return path_parameters


def sends_its_own_credentials(case: schemathesis.Case) -> bool:
    """An invalid case whose invalid part is its Authorization header (missing or malformed):
    sent as generated, so the token of the suite does not make it valid again."""
    meta = case.meta
    return (
        meta is not None
        and meta.generation.mode.is_negative
        and any(m.parameter == "Authorization" for m in meta.phase.data.mutations)
    )


def checks_for(case: schemathesis.Case, response: schemathesis.Response) -> list[Any]:
    """Every check, but those whose failure on this answer an accepted deviation explains."""
    return [
        check
        for check in CHECKS
        if not any(d.explains(case, response) for d in accepted_deviations(case, check.__name__))
    ]


@SCHEMA.parametrize()
def test_openapi_contract(
    case: schemathesis.Case, spec_app: Starlette, bearer: dict[str, str]
) -> None:
    bugs = known_bugs(case)
    # Requests running into a bug already known (known_bugs.py) are not sent.
    assume(not any(bug.covers_request(case) for bug in bugs))
    headers = {} if sends_its_own_credentials(case) else dict(bearer)
    if case.operation.path == "/v1/webhooks/{source}":
        # A delivery signed as the tool would (the API token means nothing there).
        headers.update(seeding.source_auth(str(case.path_parameters.get("source"))))
    # The checks that send requests of their own (the same one without its token, with a
    # method the path does not have, ...) send them to the app too.
    case.operation.schema.app = spec_app
    response = case.call(app=spec_app, headers=headers)
    if not any(bug.covers_answer(case, response) for bug in bugs):
        case.validate_response(
            response,
            checks=checks_for(case, response),
            headers=headers,
            transport_kwargs={"app": spec_app},
        )


def test_every_check_runs_and_each_deviation_names_a_check_and_an_operation() -> None:
    names = {check.__name__ for check in CHECKS}
    assert {
        "not_a_server_error", "status_code_conformance", "content_type_conformance",
        "response_headers_conformance", "response_schema_conformance",
        "negative_data_rejection", "positive_data_acceptance", "missing_required_header",
        "unsupported_method", "allow_header_conformance", "use_after_free",
        "ensure_resource_availability", "ignored_auth",
    } <= names  # fmt: skip
    labels = {result.ok().label for result in SCHEMA.get_all_operations()}
    for deviation in ACCEPTED_DEVIATIONS:
        assert deviation.check in names, deviation
        assert set(deviation.operations) <= labels | {EVERY}, deviation
