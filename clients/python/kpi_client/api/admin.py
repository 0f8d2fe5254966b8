"""Catalog apply (KPIs as code), API tokens and the notification outbox."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Unpack

from kpi_client.api.collection import Collection
from kpi_client.models import ApplyReport, CatalogFile, NewToken, Notification, TokenIn, TokenInfo
from kpi_client.models.base import NotificationState, Scope
from kpi_client.operation import Body, Operation, Page, answer, encode, query, validated

TOKENS = Collection("/v1/tokens", TokenInfo, list[TokenInfo])


def apply_catalog(
    catalog: Body[CatalogFile],
    *,
    dry_run: bool = False,
    idempotency_key: str | None = None,
) -> Operation[ApplyReport]:
    """Creates or updates teams, services, outcomes, KPIs (with targets and links) and
    sources; never deletes. All or nothing; `dry_run` reports the changes and makes none."""
    body = encode(validated(CatalogFile, catalog, "catalog"))
    return Operation(
        "POST",
        "/v1/catalog/apply",
        answer(ApplyReport),
        query=query(dry_run=dry_run or None),
        body=body,
        idempotency_key=idempotency_key,
    )


def create_token(
    name: str,
    scopes: Sequence[Scope],
    *,
    team: str | None = None,
    read_scope: Literal["all", "team"] = "all",
    idempotency_key: str | None = None,
) -> Operation[NewToken]:
    """Creates an API token; its secret is in this answer only. The service does not keep
    the answer for a retry, so this call is retried only when it surely did not arrive.
    With `team`, the token writes only for that team's services (and its sub-teams'); with
    read_scope "team", it reads only them too."""
    fields: dict[str, object] = {"name": name, "scopes": list(scopes)}
    if team is not None:
        fields["team"] = team
    if read_scope != "all":
        fields["read_scope"] = read_scope
    body = encode(validated(TokenIn, fields))
    return Operation(
        "POST",
        TOKENS.path,
        answer(NewToken),
        body=body,
        idempotency_key=idempotency_key,
        replay_safe=False,
    )


def list_tokens() -> Operation[list[TokenInfo]]:
    """Every token, without secrets."""
    return TOKENS.list_all()


def revoke_token(token_id: int, *, idempotency_key: str | None = None) -> Operation[None]:
    return TOKENS.delete(token_id, idempotency_key)


def list_notifications(
    *, state: NotificationState | None = None, **page: Unpack[Page]
) -> Operation[list[Notification]]:
    """Notifications sent to webhook URLs, newest first, with every attempt."""
    params = query(state=state, **page)
    return Operation("GET", "/v1/notifications", answer(list[Notification]), query=params)
