"""PagerDuty's replay identifiers: the webhook id header, the ids and times in the signed body."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from service.ingest.freshness import SignedTime
from service.ingest.sources.pagerduty import replay as pagerduty_replay
from tests.ingest.fixtures import fixture
from tests.ingest.sources.pagerduty.test_adapter import TRIGGERED, V2_TRIGGER, delivery, utc


def test_delivery_key_prefers_the_webhook_id_header() -> None:
    given = delivery(fixture(TRIGGERED), {"x-webhook-id": "a6e5d9ba-0e33-4aa5-a3bf-2d3b4c6d5e7f"})
    assert pagerduty_replay.delivery_key(given) == "a6e5d9ba-0e33-4aa5-a3bf-2d3b4c6d5e7f"


def test_signed_key_is_the_event_id_in_the_body_whatever_the_header_says() -> None:
    """X-Webhook-Id is not signed; the event id (v3) or message ids (v2) are."""
    given = delivery(fixture(TRIGGERED), {"x-webhook-id": "a fresh id"})
    assert pagerduty_replay.signed_key(given) == "01BZYIL05THJDFF2Y08X9SVMTU"
    v2 = fixture(V2_TRIGGER)
    assert pagerduty_replay.signed_key(delivery(v2)) == "69a7ced0-a2cd-11e7-a799-22000a15839c"
    second = {**copy.deepcopy(v2["messages"][0]), "id": "0aa-second"}
    both = {"messages": [v2["messages"][0], second]}
    # Sorted, so the same messages in another order are the same key.
    assert (
        pagerduty_replay.signed_key(delivery(both))
        == "0aa-second,69a7ced0-a2cd-11e7-a799-22000a15839c"
    )


@pytest.mark.parametrize(
    "payload", [[1, 2], "text", {}, {"event": {"id": ""}}, {"messages": [{"event": "x"}, 3]}]
)
def test_signed_key_and_times_of_garbage_do_not_raise(payload: Any) -> None:
    assert pagerduty_replay.signed_key(delivery(payload)) is None
    assert pagerduty_replay.signed_times(delivery(payload)) == []


def test_signed_times_are_the_event_times_with_their_pointers() -> None:
    assert pagerduty_replay.signed_times(delivery(fixture(TRIGGERED))) == [
        SignedTime("#/event/occurred_at", utc(2021, 6, 4, 13, 35, 29, 781000))
    ]
    v2 = fixture(V2_TRIGGER)
    later = {**copy.deepcopy(v2["messages"][0]), "created_on": "2017-09-26T15:20:00Z"}
    # A message that is not an object keeps its index; one without a time is left to parse.
    untimed = {k: v for k, v in v2["messages"][0].items() if k != "created_on"}
    payload = {"messages": [v2["messages"][0], "noise", later, untimed]}
    assert pagerduty_replay.signed_times(delivery(payload)) == [
        SignedTime("#/messages/0/created_on", utc(2017, 9, 26, 15, 14, 36)),
        SignedTime("#/messages/2/created_on", utc(2017, 9, 26, 15, 20)),
    ]
