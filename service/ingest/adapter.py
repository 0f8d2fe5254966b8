"""The contracts every source package (service/ingest/sources/<kind>/) fulfils: its adapter
(adapter.py) and its replay identifiers (replay.py)."""

from __future__ import annotations

from typing import Protocol

from service.ingest.freshness import SignedTime
from service.ingest.model import AdapterOptions, Delivery, Mapped


class Adapter(Protocol):
    """A source tool's adapter: a module with these names.

    `event_type` is read before the payload is checked, for the delivery log: it never raises,
    whatever the headers and payload are ("unknown" on malformed input). Only `parse` reports
    a malformed payload.
    """

    #: The source kind this adapter serves, e.g. "github".
    KIND: str

    def event_type(self, delivery: Delivery) -> str:
        """The tool's name for what happened (from a header or the body), for the log.

        Never raises: "unknown" when the delivery does not say, or says it in a malformed way.
        """
        ...

    def parse(self, delivery: Delivery, options: AdapterOptions) -> Mapped:
        """Events of the delivery. Raises Unsupported for valid deliveries the service does
        not use, PayloadError (with a JSON pointer) for malformed ones."""
        ...


class ReplayIds(Protocol):
    """What makes a source's delivery the same as one received before, or too late: a module
    with these names.

    They are read before the payload is checked, to drop retries and replays and to refuse
    late ones: they never raise, whatever the headers and payload are. On malformed input (a
    body that is not an object, members missing or of the wrong type) they fall back to None
    or nothing.
    """

    def delivery_key(self, delivery: Delivery) -> str | None:
        """The tool's id for this delivery, the same on every retry; None if it has none.

        Never raises: None also when the parts the key is made of are missing or malformed.
        """
        ...

    def signed_key(self, delivery: Delivery) -> str | None:
        """The tool's id for what the delivery reports, read from its signed body (PagerDuty's
        event id): a delivery sent again under another delivery id is a duplicate by it.

        None for tools that do not sign the body or put no id in it. Never raises.
        """
        ...

    def signed_times(self, delivery: Delivery) -> list[SignedTime]:
        """The times the tool signed with the delivery (PagerDuty's event times), checked
        against the time it arrived (service/ingest/freshness.py).

        Empty for tools that sign none; a time missing or malformed is left out (`parse`
        reports it). Never raises.
        """
        ...
