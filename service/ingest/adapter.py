"""The contract every source adapter (service/ingest/sources/<kind>/) fulfils."""

from __future__ import annotations

from typing import Protocol

from service.ingest.freshness import SignedTime
from service.ingest.model import AdapterOptions, Delivery, Mapped


class Adapter(Protocol):
    """A source tool's adapter: a module with these names (registered in service/ingest/sources).

    `event_type`, `delivery_key`, `signed_key` and `signed_times` are read before the payload
    is checked, for the delivery log, to drop retries and replays and to refuse late ones:
    they never raise, whatever the headers and payload are. On malformed input (a body that
    is not an object, members missing or of the wrong type) they fall back to "unknown",
    None or nothing. Only `parse` reports a malformed payload.
    """

    #: The source kind this adapter serves, e.g. "github".
    KIND: str

    def event_type(self, delivery: Delivery) -> str:
        """The tool's name for what happened (from a header or the body), for the log.

        Never raises: "unknown" when the delivery does not say, or says it in a malformed way.
        """
        ...

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

    def parse(self, delivery: Delivery, options: AdapterOptions) -> Mapped:
        """Events of the delivery. Raises Unsupported for valid deliveries the service does
        not use, PayloadError (with a JSON pointer) for malformed ones."""
        ...
