"""The notification outbox, for admins: what was sent where, and every attempt."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.models.catalog import RowId
from service.models.enums import Scope
from service.models.notifications import Notification, NotificationState
from service.rest.endpoint import Call, Endpoint, on_connection
from service.usecases import notifications


# Its fields are the keywords of the use case the handler passes them to.
class NotificationQuery(BaseModel):
    state: NotificationState | None = None
    before_id: RowId | None = Field(
        default=None, alias="before", description="Page: ids below this."
    )
    limit: int = Field(default=100, ge=1, le=1000)


async def list_notifications(call: Call) -> list[Notification]:
    return await on_connection(call, notifications.list_notifications, **dict(call.query))


ENDPOINTS = [
    Endpoint("GET", "/v1/notifications", list_notifications, Scope.ADMIN,
             "Notifications sent to webhook URLs, newest first, with every attempt",
             "notifications", response=list[Notification], query=NotificationQuery,
             description="Each is signed per Standard Webhooks with the key that "
             "`kpi notify-secret` prints; webhook-id is message_id."),
]  # fmt: skip
