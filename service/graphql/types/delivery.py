"""The Delivery node: a webhook delivery as the delivery log holds it, with the log's own
fields (strawberry's pydantic integration reads them from the store's row).

Annotations here are evaluated at once (no postponed annotations), since the integration
tells private fields from exposed ones by the annotations as written."""

import datetime as dt

import strawberry
import strawberry.experimental.pydantic as from_model

from service.store.deliveries import DeliveryRow


@from_model.type(model=DeliveryRow, all_fields=True,
                 description="A webhook delivery as logged (admin only).")  # fmt: skip
class Delivery:
    applied_at: strawberry.Private[dt.datetime | None]
    body_bytes: strawberry.Private[int | None]
