"""KPI_TEST_DATABASE_ONLY=1 deselects the tests that touch no PostgreSQL (.ci/run's pass on the
second server), and no test that reaches a database is among them: each test the selection
leaves out is read (its function, fixtures and the test helpers they call) for the names and
strings by which test code reaches a database, and one that mentions any must be marked
`database` or be listed below with the reason it reaches none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.embedded import EmbeddedPostgres
from tests.conftest import COLLECTED_ITEMS, touches_database
from tests.database_mentions import database_mentions, fixture_definitions

ROOT = Path(__file__).resolve().parent.parent

#: Tests that mention a database yet reach none, each with why: "file::function" (all its
#: parameter sets).
REACH_NO_DATABASE = {
    "tests/backstage/test_fact_retriever.py::test_the_retriever_type_checks_against_tech_insights":
        "runs npm's type check with the environment",
    "tests/bench/test_bench_ingest_bulk_scale.py::test_a_sweep_needs_batches_to_halve":
        "the benchmark refuses its arguments before connecting",
    "tests/bench/test_bench_ingest_bulk_scale.py::test_points_must_fit_the_ingest_window":
        "the same",
    "tests/clients/test_reporter.py::test_dry_run_shows_the_request_with_the_token_hidden":
        "`environ` is the CI variables handed to the reporter",
    "tests/clients/test_reporter.py::test_github_actions_defaults": "the same",
    "tests/clients/test_reporter.py::test_gitlab_ci_defaults": "the same",
    "tests/clients/test_reporter.py::test_incident_and_observation_requests": "the same",
    "tests/clients/test_reporter.py::test_jenkins_defaults": "the same",
    "tests/clients/test_reporter.py::test_no_ci_needs_an_external_id": "the same",
    "tests/clients/test_reporter.py::test_usage_errors_exit_2": "the same",
    "tests/components/test_openapi_linters.py::test_redocly_recommended_rules_find_no_error":
        "runs the linter with the environment",
    "tests/components/test_openapi_linters.py::test_spectral_recommended_ruleset_finds_nothing":
        "the same",
    "tests/components/test_selection.py::test_components_are_collected_otherwise":
        "a pytest that only collects",
    "tests/components/test_selection.py::test_components_are_deselected_when_the_variable_says_0":
        "the same",
    "tests/reliability/test_database_errors.py::test_a_connection_lost_on_release_neither_fails_committed_work_nor_hides_errors":
        "a pool stand-in whose connection is a string",
    "tests/reliability/test_database_errors.py::test_a_missing_socket_file_is_database_unavailable":
        "connects to a socket file that is not there",
    "tests/reliability/test_database_errors.py::test_a_refused_connection_is_database_unavailable_without_the_password":
        "connects to a free port",
    "tests/reliability/test_database_errors.py::test_connect_gives_up_after_the_connect_timeout":
        "connects to a listener that never answers",
    "tests/reliability/test_database_errors.py::test_creating_the_pool_against_no_database_is_database_unavailable":
        "connects to a free port",
    "tests/reliability/test_database_errors.py::test_the_app_does_not_start_without_its_database":
        "the app's database is a free port",
    "tests/rest/test_prometheus.py::test_kpi_serve_gives_its_workers_a_shared_metrics_dir":
        "reads the metrics directory variable",
    "tests/rest/test_prometheus.py::test_workers_answer_together_in_multiprocess_mode":
        "its processes count metrics, with no app",
    "tests/rest/test_request_ids.py::test_an_unexpected_error_is_a_500_problem_with_the_request_id":
        "the app's database is a stand-in that fails",
    "tests/rest/test_scopes.py::test_every_route_is_a_declared_endpoint":
        "reads the app's routes without starting it",
    "tests/security/test_bad_input_matrix.py::test_the_matrix_is_big_and_ids_are_unique":
        "counts the cases; the other tests of the file send them",
    "tests/test_architecture.py::test_layer_table_places_modules_where_the_walkthrough_says":
        "`service.cli` is a module name in the table",
    "tests/test_db_url.py::test_hosts_are_read_in_the_order_they_are_tried":
        "reads URLs, with no connection",
    "tests/test_db_url.py::test_a_host_prints_as_it_is_written": "the same",
    "tests/test_db_url.py::test_several_hosts_ask_for_the_writable_one_unless_told_otherwise":
        "the same, with the environment's PGTARGETSESSIONATTRS",
    "tests/test_db_url.py::test_several_replicas_ask_for_a_standby":
        "reads URLs, with no connection",
    "tests/test_db_url.py::test_a_failed_connect_names_every_host_tried_and_no_password":
        "connects to free ports",
    "tests/test_read_routing.py::test_replicas_are_named_in_the_order_of_the_setting_and_split_on_whitespace":
        "reads the setting's URLs, with no connection",
    "tests/test_first_run.py::test_the_network_guard_notices_lookups_and_connections_off_the_machine":
        "its process opens sockets, with no app",
    "tests/test_database_selection.py::test_the_reader_follows_helpers_and_reads_strings":
        "reads functions that are never run",
    "tests/test_database_selection.py::test_the_variable_deselects_the_tests_touching_no_database_and_says_so":
        "a pytest that only collects",
}  # fmt: skip


def _key(item: pytest.Function) -> str:
    return f"{item.nodeid.split('::')[0]}::{item.originalname}"


def test_no_test_left_out_mentions_a_database(request: pytest.FixtureRequest) -> None:
    collected = request.config.stash[COLLECTED_ITEMS]
    assert request.node in collected
    wrongly_left_out = {}
    for item in collected:
        if touches_database(item):
            continue
        assert isinstance(item, pytest.Function)
        if _key(item) in REACH_NO_DATABASE:
            continue
        if found := database_mentions(item.function, fixture_definitions(item)):
            wrongly_left_out[item.nodeid] = sorted(found)
    assert not wrongly_left_out, (
        "mark these tests @pytest.mark.database, or list them in REACH_NO_DATABASE with the "
        f"reason they reach no database: {wrongly_left_out}"
    )


@pytest.mark.parametrize("key", sorted(REACH_NO_DATABASE))
def test_each_listed_test_exists(key: str) -> None:
    path, function = key.split("::")
    source = (ROOT / path).read_text()
    assert f"def {function}(" in source, f"{key} is gone: take it off REACH_NO_DATABASE"


# What the reader finds, on functions that are never run ------------------------------------------


def _helper_starting_a_server(directory: Path) -> None:
    with EmbeddedPostgres(directory):
        pass


def _through_a_helper() -> None:
    _helper_starting_a_server(Path("unused"))


def _through_the_environment() -> dict[str, str]:
    return {"KPI_DATABASE_URL": "postgresql://postgres@127.0.0.1/x"}


def _touching_nothing(value: int) -> int:
    return value * 2


def test_the_reader_follows_helpers_and_reads_strings() -> None:
    assert database_mentions(_through_a_helper) == {"EmbeddedPostgres"}
    assert database_mentions(_through_the_environment) == {"KPI_DATABASE_URL", "postgresql://"}
    assert database_mentions(_touching_nothing) == set()
    assert database_mentions(_touching_nothing, [_through_a_helper]) == {"EmbeddedPostgres"}


def test_the_reader_finds_what_the_marked_tests_do() -> None:
    """The tests marked `database` (they start a server of their own) are found by the reader
    too: unmarked, the check above would fail on them."""
    from tests.reliability import test_database_outage
    from tests.test_demo_and_embedded import test_embedded_postgres_starts_migrates_and_stops

    outage = test_database_outage.test_requests_during_an_outage_get_503_and_the_pool_recovers
    assert "OwnPostgres" in database_mentions(outage, [test_database_outage.own_postgres])
    assert "EmbeddedPostgres" in database_mentions(test_embedded_postgres_starts_migrates_and_stops)


# The selection, as a run makes it ----------------------------------------------------------------

#: Three tests of tests/rest/test_cors.py read settings alone, two call the app with `client`;
#: the marked test starts a server of its own and uses no fixture.
SAMPLE = [
    "tests/rest/test_cors.py",
    "tests/test_demo_and_embedded.py::test_embedded_postgres_starts_migrates_and_stops",
]


def test_the_variable_deselects_the_tests_touching_no_database_and_says_so() -> None:
    """(Without the variable, nothing is deselected: the first pass of .ci/run runs them all.)"""
    env = {**os.environ, "KPI_TEST_DATABASE_ONLY": "1"}
    kept = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "--strict-markers",
         "-p", "no:cacheprovider", *SAMPLE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "deselected 3: touching no PostgreSQL (KPI_TEST_DATABASE_ONLY=1)" in kept.stdout
    assert "3/6 tests collected (3 deselected)" in kept.stdout, kept.stdout
    assert "test_cors.py::test_by_default_no_origin_is_allowed" in kept.stdout
    assert "test_embedded_postgres_starts_migrates_and_stops" in kept.stdout
