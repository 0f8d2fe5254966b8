"""The contract every source adapter (service/ingest/<tool>.py) fulfils."""

from __future__ import annotations

from typing import Protocol

from service.ingest.model import AdapterOptions, Delivery, Mapped


class Adapter(Protocol):
    #: The source kind this adapter serves, e.g. "github".
    KIND: str

    def event_type(self, delivery: Delivery) -> str:
        """The tool's name for what happened (from a header or the body), for the log."""
        ...

    def delivery_key(self, delivery: Delivery) -> str | None:
        """The tool's id for this delivery, the same on every retry; None if it has none."""
        ...

    def parse(self, delivery: Delivery, options: AdapterOptions) -> Mapped:
        """Events of the delivery. Raises Unsupported for valid deliveries the service does
        not use, PayloadError (with a JSON pointer) for malformed ones."""
        ...
