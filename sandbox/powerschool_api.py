"""PowerSchool endpoints: OAuth, PowerQueries and the database-extension tables."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from truancy.sandbox.auth import TokenStore, credentials_match, parse_token_request
from truancy.sandbox.extension_tables import ExtensionTables, TableError, parse_q, table_name
from truancy.sandbox.model import District
from truancy.sandbox.powerschool_queries import QUERIES, QueryArgumentError
from truancy.sandbox.responses import powerschool_error
from truancy.sandbox.staff import user_of

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class BadRequestError(ValueError):
    """Malformed input; the message tells the client what to send instead."""


def _page(request: Request) -> tuple[int, int]:
    """(offset, size) from PowerSchool's 1-based ``page`` and ``pagesize``."""
    try:
        page = int(request.query_params.get("page", "1"))
        size = int(request.query_params.get("pagesize", str(DEFAULT_PAGE_SIZE)))
    except ValueError as error:
        raise BadRequestError("page and pagesize must be integers") from error
    if page < 1 or size < 1:
        raise BadRequestError("page and pagesize must be at least 1")
    size = min(size, MAX_PAGE_SIZE)
    return (page - 1) * size, size


async def _json_object(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadRequestError("the request body is not valid JSON") from error
    if not isinstance(parsed, dict):
        raise BadRequestError("the request body must be a JSON object")
    return parsed


def _table_record(table: str, row: dict[str, str]) -> dict[str, Any]:
    return {"id": int(row["id"]), "name": table, "tables": {table: row}}


async def _table_columns(request: Request, table: str) -> dict[str, Any]:
    body = await _json_object(request)
    tables = body.get("tables")
    columns = tables.get(table, tables.get(table.upper())) if isinstance(tables, dict) else None
    if not isinstance(columns, dict):
        raise BadRequestError(f'the body must be {{"tables": {{"{table}": {{...columns...}}}}}}')
    return columns


SESSION_COOKIE = "JSESSIONID"
"""The signed-in user's browser session, as PowerSchool names it; plugin pages call the API with it."""
API_CLIENT = "truancy-sync API client"


def powerschool_router(
    district: District,
    tables: ExtensionTables,
    tokens: TokenStore,
    client_id: str,
    client_secret: str,
    sessions: TokenStore | None = None,
) -> APIRouter:
    """``sessions`` holds browser sessions: their cookie authorises same-origin calls from pages."""
    router = APIRouter()

    def caller(request: Request) -> str | None:
        """Who is calling: the API client (bearer token), the signed-in user ("Last, First"), or nobody."""
        if tokens.grant_for(request.headers.get("authorization")) is not None:
            return API_CLIENT
        cookie = request.cookies.get(SESSION_COOKIE)
        session = sessions.grant_for(f"Bearer {cookie}") if sessions is not None and cookie else None
        if session is None:
            return None
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.url.netloc}"
        if request.method != "GET" and origin is not None and origin != own:
            return None  # a session cookie never authorises another site's request
        return user_of(session.scopes).lastfirst

    @router.post("/oauth/access_token")
    async def token(request: Request) -> JSONResponse:
        grant = parse_token_request(request.headers.get("authorization"), await request.body())
        if not credentials_match(grant, client_id, client_secret):
            return JSONResponse({"error": "invalid_client"}, 401)
        if grant.grant_type != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        access_token = tokens.issue(frozenset())
        body = {"access_token": access_token, "token_type": "Bearer", "expires_in": "3600"}  # nosec B105 - a token type
        return JSONResponse(body)

    @router.api_route("/ws/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"])
    async def web_services(rest: str, request: Request) -> Response:
        who = caller(request)
        if who is None:
            return powerschool_error(401, "Authorization failed: a valid bearer token is required")
        try:
            return await _dispatch(rest.split("/"), request, who)
        except (BadRequestError, QueryArgumentError, TableError) as error:
            return powerschool_error(400, str(error))

    async def _dispatch(parts: list[str], request: Request, who: str) -> Response:
        method = request.method
        match parts:
            case ["schema", "query", name] if method == "POST":
                return await _query(name, request, count_only=False)
            case ["schema", "query", name, "count"] if method == "POST":
                return await _query(name, request, count_only=True)
            case ["schema", "table", raw_table, *rest]:
                try:
                    table = table_name(raw_table)
                except KeyError:
                    return powerschool_error(404, f"no extension table named {raw_table!r}")
                return await _table(table, rest, request, who)
        return powerschool_error(404, "no such resource")

    async def _query(name: str, request: Request, *, count_only: bool) -> Response:
        query = QUERIES.get(name)
        if query is None:
            return powerschool_error(404, f"no PowerQuery named {name!r} is installed")
        result = query(district, await _json_object(request))
        if count_only:
            return JSONResponse({"count": len(result.items)})
        start, size = _page(request)
        return JSONResponse({"name": name, "record": result.page(start, size)})

    async def _table(table: str, rest: list[str], request: Request, who: str) -> Response:
        method = request.method
        match rest:
            case [] if method == "GET":
                start, size = _page(request)
                rows = tables.select(table, parse_q(table, request.query_params.get("q")))
                page = rows[start : start + size]
                return JSONResponse({"name": table, "record": [_table_record(table, row) for row in page]})
            case ["count"] if method == "GET":
                rows = tables.select(table, parse_q(table, request.query_params.get("q")))
                return JSONResponse({"count": len(rows)})
            case [] if method == "POST":
                row_id = tables.insert(table, await _table_columns(request, table), who)
                return _write_result("INSERT", row_id, request)
        if len(rest) != 1 or not rest[0].isdigit():
            return powerschool_error(404, "no such resource")
        row_id = int(rest[0])
        try:
            if method == "GET":
                return JSONResponse(_table_record(table, tables.get(table, row_id)))
            if method == "PUT":
                tables.update(table, row_id, await _table_columns(request, table), who)
                return _write_result("UPDATE", row_id, request)
            if method == "DELETE":
                tables.delete(table, row_id)
                return Response(status_code=204)
        except KeyError:
            return powerschool_error(404, f"no row {row_id} in table {table.upper()}")
        return powerschool_error(405, f"{method} is not supported here")

    def _write_result(action: str, row_id: int, request: Request) -> JSONResponse:
        table_url = str(request.url.replace(query=None)).rstrip("/")
        ref = table_url if action == "UPDATE" else f"{table_url}/{row_id}"
        success = {"id": row_id, "ref": ref}
        return JSONResponse(
            {
                "result": {
                    "client_uid": None,
                    "status": "SUCCESS",
                    "action": action,
                    "success_message": success,
                }
            }
        )

    return router
