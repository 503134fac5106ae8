"""OneRoster 1.2 Rostering REST endpoints and the shared OAuth 2 token endpoint."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from truancy.sandbox.auth import TokenStore, credentials_match, parse_token_request
from truancy.sandbox.responses import imsx_error
from truancy.sandbox.roster import BASE_PATH, COLLECTION_ENVELOPE, COLLECTION_SINGULAR, Record
from truancy.sandbox.roster_query import (
    QueryError,
    apply_filter,
    field_paths,
    paging,
    parse_filter,
    project,
    sort_records,
)

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

    def _query(self, collection: str, expression: str, sort: str, order_by: str) -> list[Record]:
        known = self.fields[collection]
        records = self.records[collection]
        if expression:
            records = apply_filter(records, parse_filter(expression, known))
        if sort:
            records = sort_records(records, sort, order_by, known)
        return records


def _links(request: Request, total: int, limit: int, offset: int) -> str:
    def link(start: int, rel: str) -> str:
        return f'<{request.url.include_query_params(limit=limit, offset=start)}>; rel="{rel}"'

    last = max(0, (total - 1) // limit * limit)
    links = [link(0, "first")]
    if offset > 0:
        links.append(link(max(0, offset - limit), "prev"))
    if offset + limit < total:
        links.append(link(offset + limit, "next"))
    links.append(link(last, "last"))
    return ", ".join(links)


def oneroster_router(
    roster: RosterCollections, tokens: TokenStore, client_id: str, client_secret: str
) -> APIRouter:
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
        body = {"access_token": access_token, "token_type": "bearer", "expires_in": 3600}
        return JSONResponse(
            {**body, "scope": " ".join(sorted(requested))}, headers={"Cache-Control": "no-store"}
        )

    def authorise(request: Request) -> Response | None:
        grant = tokens.grant_for(request.headers.get("authorization"))
        if grant is None:
            return imsx_error(401, "unauthorisedrequest", "a valid bearer token is required")
        if not grant.scopes & _ROSTERING_READ:
            return imsx_error(403, "forbidden", "the token's scopes do not cover rostering endpoints")
        return None

    @router.get(BASE_PATH + "/{collection}")
    def collection(collection: str, request: Request) -> Response:
        refused = authorise(request)
        if refused is not None:
            return refused
        if collection not in roster.records:
            return imsx_error(404, "unknownobject", f"no collection named {collection!r}")
        params = dict(request.query_params)
        try:
            limit, offset = paging(params.get("limit"), params.get("offset"))
            records = roster.query(
                collection, params.get("filter", ""), params.get("sort", ""), params.get("orderBy", "asc")
            )
            page = records[offset : offset + limit]
            if params.get("fields"):
                page = project(page, params["fields"], roster.fields[collection])
        except QueryError as error:
            return imsx_error(400, error.code_minor, str(error))
        headers = {"X-Total-Count": str(len(records)), "Link": _links(request, len(records), limit, offset)}
        return JSONResponse({COLLECTION_ENVELOPE.get(collection, collection): page}, headers=headers)

    @router.get(BASE_PATH + "/{collection}/{sourced_id}")
    def single(collection: str, sourced_id: str, request: Request) -> Response:
        refused = authorise(request)
        if refused is not None:
            return refused
        record: Any = roster.by_id.get(collection, {}).get(sourced_id)
        if record is None:
            return imsx_error(404, "unknownobject", f"no {collection} record with that sourcedId")
        return JSONResponse({COLLECTION_SINGULAR[collection]: record})

    return router
