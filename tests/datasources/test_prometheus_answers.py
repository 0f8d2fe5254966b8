"""Prometheus' answers to range queries, as the real server gave them (tests/fixtures/
prometheus/README.md says how each was captured), read into samples or refused with the
reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from service.datasources.answers import AnswerError, parse_range

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "prometheus"


def answer(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def at(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def test_one_series_gives_its_samples_by_instant() -> None:
    # Three hourly steps of sum(increase(...[1h])): 12 samples an hour adding 99 + 1 = 100
    # each, so 1,200 an hour.
    assert parse_range(200, answer("matrix_one_series.json")) == {
        at(1796547600): 1200.0,
        at(1796551200): 1200.0,
        at(1796554800): 1200.0,
    }


def test_a_query_matching_nothing_gives_no_samples() -> None:
    assert parse_range(200, answer("matrix_empty.json")) == {}


def test_not_a_number_is_read_as_nan_for_the_rules_to_refuse() -> None:
    samples = parse_range(200, answer("matrix_nan.json"))
    assert len(samples) == 3
    assert all(v != v for v in samples.values())  # NaN is the one value unequal to itself


def test_two_series_are_refused_asking_for_an_aggregation() -> None:
    with pytest.raises(AnswerError, match=r"gives 2 series; it must give one \(aggregate"):
        parse_range(200, answer("matrix_two_series.json"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("error_parse.json", "Prometheus answered 400: bad_data: 1:37: parse error: unclosed"),
        ("error_too_many_points.json", "bad_data: exceeded maximum resolution of 11,000"),
    ],
)
def test_errors_say_what_prometheus_said(name: str, expected: str) -> None:
    with pytest.raises(AnswerError, match=expected):
        parse_range(400, answer(name))


def test_an_instant_query_answer_is_not_a_range() -> None:
    with pytest.raises(AnswerError, match="expected a range result \\(matrix\\), got 'vector'"):
        parse_range(200, answer("vector.json"))


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (502, b"<html>Bad Gateway</html>", "Prometheus answered 502 without JSON"),
        (503, b'{"status":"success"}', "answered 503 without a result"),
        (200, b'{"status":"success","data":{"resultType":"matrix","result":'
              b'[{"metric":{},"values":[[1796547600,"many"]]}]}}',
         "a sample's value is not a number: 'many'"),
        (200, b'{"status":"success","data":{"resultType":"matrix","result":'
              b'[{"metric":{},"values":[["1796547600","1"]]}]}}',
         "a sample's time is not a number"),
        (200, b'{"status":"success","data":{"resultType":"matrix","result":'
              b'[{"metric":{},"values":[[1796547600,1]]}]}}',
         'a sample is not \\[time, "value"\\]'),
    ],
)  # fmt: skip
def test_answers_that_are_not_samples_are_refused(status: int, body: bytes, expected: str) -> None:
    with pytest.raises(AnswerError, match=expected):
        parse_range(status, body)
