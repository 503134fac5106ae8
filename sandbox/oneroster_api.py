"""OneRoster 1.2 Rostering REST endpoints and the shared OAuth 2 token endpoint."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from truancy.sandbox.auth import TokenStore, credentials_match, parse_token_request
from truancy.sandbox.oneroster_serve import quirky_error, serve_collection, serve_related, throttled
from truancy.sandbox.quirks import QuirkSettings
from truancy.sandbox.roster import BASE_PATH, COLLECTION_SINGULAR, Record
from truancy.sandbox.roster_query import apply_filter, field_paths, parse_filter, sort_records

SCOPE_PREFIX = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ROSTER_SCOPES = frozenset(
    f"{SCOPE_PREFIX}{name}"
    for name in ("roster-core.readonly", "roster.readonly", "roster-demographics.readonly")
)
# Scopes that cover every rostering endpoint served here (demographics alone does not).
_ROSTERING_READ = frozenset(f"{SCOPE_PREFIX}{name}" for name in ("roster-core.readonly", "roster.readonly"))


class RosterCollections:
    """The records of every collection, indexed for single reads, with their known field paths.

    Rostering data does not change while served, so filtered and sorted results are cached:
    a client paging through a filtered collection costs one filter pass, not one per page.
    """

    def __init__(self, collections: dict[str, list[Record]]) -> None:
        self.records = collections
        self.by_id = {name: {r["sourcedId"]: r for r in records} for name, records in collections.items()}
        self.fields = {name: field_paths(records) for name, records in collections.items()}
        self.query = lru_cache(maxsize=32)(self._query)

    def changed(self) -> None:
        """Call after records were edited, added or removed: drops indexes and cached results."""
        self.by_id = {name: {r["sourcedId"]: r for r in records} for name, records in self.records.items()}
        self.query.cache_clear()

    def _query(self, collection: str, expression: str, sort: str, order_by: str) -> list[Record]:
        known = self.fields[collection]
        records = self.records[collection]
        if expression:
            records = apply_filter(records, parse_filter(expression, known))
        if sort:
            records = sort_records(records, sort, order_by, known)
        return records


def oneroster_router(
    roster: RosterCollections,
    tokens: TokenStore,
    client_id: str,
    client_secret: str,
    quirks: QuirkSettings | None = None,
) -> APIRouter:
    settings = quirks or QuirkSettings()
    router = APIRouter()

    @router.post("/oauth/token")
    async def token(request: Request) -> JSONResponse:
        grant = parse_token_request(request.headers.get("authorization"), await request.body())
        if not credentials_match(grant, client_id, client_secret):
            return JSONResponse(
                {"error": "invalid_client"}, 401, {"WWW-Authenticate": 'Basic realm="oneroster"'}
            )
        if grant.grant_type != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        requested = frozenset(grant.scope.split()) if grant.scope else ROSTER_SCOPES
        if not requested <= ROSTER_SCOPES:
            return JSONResponse({"error": "invalid_scope"}, 400)
        access_token = tokens.issue(requested)
        body = {"access_token": access_token, "token_type": "bearer", "expires_in": 3600}  # nosec B105 - a token type
        return JSONResponse(
            {**body, "scope": " ".join(sorted(requested))}, headers={"Cache-Control": "no-store"}
        )

    def authorise(request: Request) -> Response | None:
        grant = tokens.grant_for(request.headers.get("authorization"))
        if grant is None:
            return quirky_error(
                settings.current, 401, "unauthorisedrequest", "a valid bearer token is required"
            )
        if not grant.scopes & _ROSTERING_READ:
            return quirky_error(
                settings.current, 403, "forbidden", "the token's scopes do not cover rostering endpoints"
            )
        return None

    @router.get(BASE_PATH + "/{collection}")
    def collection(collection: str, request: Request) -> Response:
        refused = authorise(request)
        if refused is not None:
            return refused
        return throttled(settings) or serve_collection(roster, collection, request, settings.current)

    @router.get(BASE_PATH + "/{parent}/{parent_id}/{child}")
    def related(parent: str, parent_id: str, child: str, request: Request) -> Response:
        refused = authorise(request)
        if refused is not None:
            return refused
        return throttled(settings) or serve_related(
            roster, parent, parent_id, child, request, settings.current
        )

    @router.get(BASE_PATH + "/{collection}/{sourced_id}")
    def single(collection: str, sourced_id: str, request: Request) -> Response:
        refused = authorise(request)
        if refused is not None:
            return refused
        record: Any = roster.by_id.get(collection, {}).get(sourced_id)
        if record is None:
            return quirky_error(
                settings.current, 404, "unknownobject", f"no {collection} record with that sourcedId"
            )
        return JSONResponse({COLLECTION_SINGULAR[collection]: record})

    return router
