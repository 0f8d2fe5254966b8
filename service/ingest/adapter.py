"""The contract every source adapter (service/ingest/<tool>.py) fulfils."""

from __future__ import annotations

from typing import Protocol

from service.ingest.model import AdapterOptions, Delivery, Mapped


class Adapter(Protocol):
    """A source tool's adapter: a module with these names (see pipeline.adapter_for).

    `event_type` and `delivery_key` are read before the payload is checked, for the delivery
    log and to drop retries: they never raise, whatever the headers and payload are. On
    malformed input (a body that is not an object, members missing or of the wrong type)
    they fall back to "unknown" and None. Only `parse` reports a malformed payload.
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

    def parse(self, delivery: Delivery, options: AdapterOptions) -> Mapped:
        """Events of the delivery. Raises Unsupported for valid deliveries the service does
        not use, PayloadError (with a JSON pointer) for malformed ones."""
        ...
