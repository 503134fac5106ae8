"""HTTP routes of the sandbox ODS/API, all under ``/edfi`` (the OneRoster API owns ``/oauth/token``).

Discovery at ``/edfi/``, tokens at ``/edfi/oauth/token``, resources at ``/edfi/data/v3/ed-fi/...``
with offset/limit (``totalCount`` → ``Total-Count``) and cursor paging (``/partitions``,
``pageToken``/``pageSize``, ``Next-Page-Token``), change queries at ``/edfi/changeQueries/v1/...``.
Test controls (key changes, switching snapshots or cursor paging off) sit under ``/_sandbox/edfi``.
"""

from __future__ import annotations

import json
import secrets
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from truancy.sandbox.auth import TokenStore, credentials_match, parse_token_request
from truancy.sandbox.edfi.collections import Record, Stored, in_window
from truancy.sandbox.edfi.ods import WRITABLE, EdFiOds, WriteRefusedError
from truancy.sandbox.edfi.schemas import ResourceSchemas
from truancy.sandbox.model import District

EDFI_BASE = "/edfi"
DATA = f"{EDFI_BASE}/data/v3/ed-fi"
CHANGES = f"{EDFI_BASE}/changeQueries/v1"
CONTROL = "/_sandbox/edfi"
MAX_LIMIT = 500
DEFAULT_LIMIT = 25
TOKEN_SECONDS = 1800


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
}


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
}


def _problem(status: int, problem_type: str, detail: str, errors: list[str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "correlationId": secrets.token_hex(8),
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status, media_type="application/problem+json")


def _json(payload: Any, headers: dict[str, str] | None = None, status: int = 200) -> Response:
    return Response(
        json.dumps(payload, separators=(",", ":")), status, headers, media_type="application/json"
    )


def _matches(body: Record, filters: dict[str, str]) -> bool:
    """Query-by-example on top-level fields and fields inside references, as the ODS/API allows."""
    for name, wanted in filters.items():
        values = [body.get(name)] + [
            value.get(name)
            for key, value in body.items()
            if key.endswith("Reference") and isinstance(value, dict)
        ]
        if not any(value is not None and str(value).lower() == wanted.lower() for value in values):
            return False
    return True


class _Settings:
    snapshots = True
    cursor_paging = True


def edfi_router(district: District, client_id: str, client_secret: str) -> APIRouter:
    ods = EdFiOds(district)
    schemas = ResourceSchemas()
    tokens = TokenStore()
    settings = _Settings()
    router = APIRouter()

    def refused(request: Request) -> Response | None:
        if tokens.grant_for(request.headers.get("authorization")) is None:
            return _problem(
                401,
                "urn:ed-fi:api:security:authentication",
                "Authorization denied. The access token is invalid or expired.",
            )
        if request.headers.get("use-snapshot", "").lower() == "true" and not settings.snapshots:
            return _problem(404, "urn:ed-fi:api:not-found:snapshot", "Snapshot not found.")
        return None

    def window(request: Request) -> tuple[int | None, int | None]:
        low, high = request.query_params.get("minChangeVersion"), request.query_params.get("maxChangeVersion")
        return (int(low) if low else None, int(high) if high else None)

    @router.get(EDFI_BASE + "/")
    def discovery(request: Request) -> Response:
        root = str(request.base_url).rstrip("/") + EDFI_BASE
        return _json(
            {
                "version": "7.3",
                "applicationName": "Ed-Fi ODS / API (truancy-sync sandbox)",
                "dataModels": [{"name": "Ed-Fi", "version": "5.0.0"}],
                "urls": {
                    "dependencies": f"{root}/metadata/data/v3/dependencies",
                    "openApiMetadata": f"{root}/metadata/",
                    "oauth": f"{root}/oauth/token",
                    "dataManagementApi": f"{root}/data/v3/",
                    "changeQueries": f"{root}/changeQueries/v1/",
                },
            }
        )

    @router.post(EDFI_BASE + "/oauth/token")
    async def token(request: Request) -> Response:
        grant = parse_token_request(request.headers.get("authorization"), await request.body())
        if grant.grant_type != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        if not credentials_match(grant, client_id, client_secret):
            return JSONResponse({"error": "invalid_client"}, 401)
        issued = tokens.issue(frozenset())
        body = {"access_token": issued, "expires_in": TOKEN_SECONDS, "token_type": "bearer"}  # nosec B105 - a token type
        return JSONResponse(body)

    @router.get(CHANGES + "/availableChangeVersions")
    def available(request: Request) -> Response:
        if (denied := refused(request)) is not None:
            return denied
        ods.refresh()
        return _json({"oldestChangeVersion": 0, "newestChangeVersion": ods.clock.newest})

    def collection_or_404(resource: str) -> Response | None:
        if resource not in ods.collections:
            return _problem(
                404, "urn:ed-fi:api:not-found", f"The resource '{resource}' is not published here."
            )
        if resource == "studentSchoolAttendanceEvents":
            ods.refresh()
        return None

    @router.get(DATA + "/{resource}/deletes")
    def deletes(resource: str, request: Request) -> Response:
        if (denied := refused(request) or collection_or_404(resource)) is not None:
            return denied
        entries = in_window(ods.collections[resource].tombstones, *window(request))
        return _page_of(entries, request)

    @router.get(DATA + "/{resource}/keyChanges")
    def key_changes(resource: str, request: Request) -> Response:
        if (denied := refused(request) or collection_or_404(resource)) is not None:
            return denied
        entries = in_window(ods.collections[resource].key_changes, *window(request))
        return _page_of(entries, request)

    @router.get(DATA + "/{resource}/partitions")
    def partitions(resource: str, request: Request) -> Response:
        if (denied := refused(request) or collection_or_404(resource)) is not None:
            return denied
        if not settings.cursor_paging:
            return _problem(404, "urn:ed-fi:api:not-found", "Cursor paging is not available.")
        count = max(1, int(request.query_params.get("number", "1")))
        total = len(_selected(ods, resource, request))
        size = -(-total // count) if total else 1
        return _json({"pageTokens": [_token(offset) for offset in range(0, max(total, 1), size)][:count]})

    @router.get(DATA + "/{resource}")
    def read(resource: str, request: Request) -> Response:
        if (denied := refused(request) or collection_or_404(resource)) is not None:
            return denied
        query = request.query_params
        selected = _selected(ods, resource, request)
        if "pageToken" in query:
            if not settings.cursor_paging:
                return _problem(400, "urn:ed-fi:api:bad-request:parameter", "pageToken is not supported.")
            offset, limit = _offset_of(query["pageToken"]), int(query.get("pageSize", str(DEFAULT_LIMIT)))
        else:
            offset, limit = int(query.get("offset", "0")), int(query.get("limit", str(DEFAULT_LIMIT)))
        if not 0 < limit <= MAX_LIMIT or offset < 0:
            return _problem(
                400, "urn:ed-fi:api:bad-request:parameter", f"Limit must be between 1 and {MAX_LIMIT}."
            )
        page = [stored.served() for stored in selected[offset : offset + limit]]
        headers: dict[str, str] = {}
        if query.get("totalCount", "").lower() == "true":
            headers["Total-Count"] = str(len(selected))
        if "pageToken" in query and offset + limit < len(selected):
            headers["Next-Page-Token"] = _token(offset + limit)
        return _json(page, headers)

    @router.get(DATA + "/{resource}/{record_id}")
    def read_one(resource: str, record_id: str, request: Request) -> Response:
        if (denied := refused(request) or collection_or_404(resource)) is not None:
            return denied
        stored = ods.collections[resource].get(record_id)
        if stored is None:
            return _problem(404, "urn:ed-fi:api:not-found", "The specified resource could not be found.")
        return _json(stored.served(), {"ETag": stored.etag})

    async def body_of(resource: str, request: Request) -> Record | Response:
        if resource not in WRITABLE:
            return _problem(
                405, "urn:ed-fi:api:method-not-allowed", f"The sandbox does not accept writes to {resource}."
            )
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _problem(400, "urn:ed-fi:api:bad-request", "The request body is not JSON.")
        if not isinstance(body, dict):
            return _problem(400, "urn:ed-fi:api:bad-request", "The request body must be a JSON object.")
        problems = schemas.problems(resource, body)
        if problems:
            return _problem(
                400, "urn:ed-fi:api:bad-request:data-validation-failed", "Data validation failed.", problems
            )
        body.pop("_etag", None)
        return body

    @router.post(DATA + "/{resource}")
    async def upsert(resource: str, request: Request) -> Response:
        if (denied := refused(request) or collection_or_404(resource)) is not None:
            return denied
        body = await body_of(resource, request)
        if isinstance(body, Response):
            return body
        try:
            record_id, created = ods.upsert(resource, body, lambda: secrets.token_hex(16))
        except WriteRefusedError as refusal:
            return _problem(refusal.status, refusal.problem_type, refusal.detail)
        stored = ods.collections[resource].get(record_id)
        assert stored is not None
        location = f"{str(request.base_url).rstrip('/')}{DATA}/{resource}/{record_id}"
        return Response(
            status_code=201 if created else 200, headers={"Location": location, "ETag": stored.etag}
        )

    @router.put(DATA + "/{resource}/{record_id}")
    async def replace(resource: str, record_id: str, request: Request) -> Response:
        if (denied := refused(request) or collection_or_404(resource)) is not None:
            return denied
        body = await body_of(resource, request)
        if isinstance(body, Response):
            return body
        try:
            etag = ods.replace(resource, record_id, body, request.headers.get("if-match"))
        except WriteRefusedError as refusal:
            return _problem(refusal.status, refusal.problem_type, refusal.detail)
        return Response(status_code=204, headers={"ETag": etag})

    @router.delete(DATA + "/{resource}/{record_id}")
    def remove(resource: str, record_id: str, request: Request) -> Response:
        if (denied := refused(request) or collection_or_404(resource)) is not None:
            return denied
        if resource not in WRITABLE:
            return _problem(
                405, "urn:ed-fi:api:method-not-allowed", f"The sandbox does not accept writes to {resource}."
            )
        try:
            ods.delete(resource, record_id, request.headers.get("if-match"))
        except WriteRefusedError as refusal:
            return _problem(refusal.status, refusal.problem_type, refusal.detail)
        return Response(status_code=204)

    @router.post(CONTROL + "/enrollments/{student_unique_id}/entryDate")
    async def change_entry_date(student_unique_id: str, request: Request) -> Response:
        body = await request.json()
        if student_unique_id not in ods.students_by_number:
            return JSONResponse({"message": "no such student"}, 404)
        ods.change_entry_date(student_unique_id, date.fromisoformat(str(body["entryDate"])))
        return Response(status_code=204)

    @router.post(CONTROL + "/settings")
    async def change_settings(request: Request) -> Response:
        body = await request.json()
        settings.snapshots = bool(body.get("snapshots", settings.snapshots))
        settings.cursor_paging = bool(body.get("cursor_paging", settings.cursor_paging))
        return Response(status_code=204)

    return router


def _selected(ods: EdFiOds, resource: str, request: Request) -> list[Stored]:
    reserved = {
        "offset",
        "limit",
        "totalCount",
        "minChangeVersion",
        "maxChangeVersion",
        "pageToken",
        "pageSize",
        "number",
    }
    filters = {key: value for key, value in request.query_params.items() if key not in reserved}
    low, high = request.query_params.get("minChangeVersion"), request.query_params.get("maxChangeVersion")
    changed = ods.collections[resource].changed(int(low) if low else None, int(high) if high else None)
    return [stored for stored in changed if _matches(stored.body, filters)] if filters else changed


def _page_of(entries: list[Record], request: Request) -> Response:
    offset = int(request.query_params.get("offset", "0"))
    limit = int(request.query_params.get("limit", str(DEFAULT_LIMIT)))
    return _json(entries[offset : offset + limit])


def _token(offset: int) -> str:
    return f"o{offset:x}"


def _offset_of(token: str) -> int:
    return int(token.removeprefix("o"), 16)
