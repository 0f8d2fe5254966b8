"""Token administration and the catalog-as-code endpoint."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.background import allow_list
from service.models.enums import Scope
from service.models.tokens import NewToken, TokenIn, TokenInfo
from service.rest.endpoint import Call, Endpoint, id_param
from service.usecases import catalog_file, tokens
from service.usecases.catalog_file import ApplyReport, CatalogFile


async def create_token(call: Call) -> NewToken:
    body: TokenIn = call.body
    async with call.transaction() as con:
        return await tokens.create_token(
            con, name=body.name, scopes=body.scopes, team=body.team, read_scope=body.read_scope
        )


async def list_tokens(call: Call) -> list[TokenInfo]:
    async with call.connection() as con:
        return await tokens.list_tokens(con)


async def revoke_token(call: Call) -> None:
    async with call.transaction() as con:
        await tokens.revoke_token(con, token_id=id_param(call))


class ApplyQuery(BaseModel):
    dry_run: bool = Field(default=False, description="Report the changes without making them.")


async def apply_catalog(call: Call) -> ApplyReport:
    """Create or update the catalog from a definition; applying it twice changes nothing."""
    async with call.transaction() as con:
        return await catalog_file.apply_catalog(
            con,
            call.body,
            dry_run=call.query.dry_run,
            now=call.now(),
            allow=allow_list(call.settings),
        )


ENDPOINTS = [
    Endpoint("POST", "/v1/tokens", create_token, Scope.ADMIN, "Create an API token", "admin",
             body=TokenIn, response=NewToken, status=201, errors=(413, 415, 422),
             description="The token is in this response only; the service keeps a hash. "
             "Idempotency-Key is not honoured here, so that the secret is never stored: a "
             "retried create makes a second token (list and revoke the spare).",
             idempotency="none"),
    Endpoint("GET", "/v1/tokens", list_tokens, Scope.ADMIN, "List API tokens (no secrets)",
             "admin", response=list[TokenInfo]),
    Endpoint("DELETE", "/v1/tokens/{id:int}", revoke_token, Scope.ADMIN,
             "Revoke an API token, at once", "admin", status=204, errors=(404,)),
    Endpoint("POST", "/v1/catalog/apply", apply_catalog, Scope.ADMIN,
             "Apply a catalog definition (KPIs as code)", "admin", body=CatalogFile,
             response=ApplyReport, query=ApplyQuery, errors=(404, 409, 413, 415, 422)),
]  # fmt: skip
