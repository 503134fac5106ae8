"""HTTP routes of the sandbox ODS/API 7.3, all under ``/edfi`` (the OneRoster API owns ``/oauth/token``).

Discovery at ``/edfi/``, tokens at ``/edfi/oauth/token`` (introspection at ``/edfi/oauth/token_info``),
resources at ``/edfi/data/v3/ed-fi/...`` (paging: :mod:`truancy.sandbox.edfi.paging`), change queries
at ``/edfi/changeQueries/v1/...``, aggregate dependencies at ``/edfi/metadata/data/v3/dependencies``.

Snapshots (Ed-Fi-ODS v7.3.2,
``EdFi.Ods.Features/ChangeQueries/SnapshotContext/SnapshotContextActionFilter.cs:38-56``):
a ``Use-Snapshot`` header on anything but GET is refused 405 with ``Allow: GET``
(``ActionResults/SnapshotsAreReadOnlyResult.cs:28-42``); ``Use-Snapshot: true`` on a GET reads the whole
request (GET-many, GET by id, ``/partitions``, ``/deletes``, ``/keyChanges``, ``availableChangeVersions``)
from the snapshot, and with none configured answers 404 "Snapshot not found."
(``Providers/SnapshotOdsDatabaseConnectionStringProviderDecorator.cs:64-72``).

Test controls under ``/_sandbox/edfi`` (loopback only, like every ``/_sandbox`` route): take or drop the
snapshot, change an enrollment's key or delete and re-enter it, switch cursor paging off (an ODS/API
before 7.3).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from truancy.sandbox.auth import TokenStore, credentials_match, parse_token_request
from truancy.sandbox.edfi import paging, problems
from truancy.sandbox.edfi.collections import Collection, Record, Stored
from truancy.sandbox.edfi.ods import NATURAL_KEYS, WRITABLE, EdFiOds, View, WriteRefusedError
from truancy.sandbox.edfi.schemas import ResourceSchemas
from truancy.sandbox.edfi.views import LEA_ID
from truancy.sandbox.model import District

EDFI_BASE = "/edfi"
DATA = f"{EDFI_BASE}/data/v3/ed-fi"
CHANGES = f"{EDFI_BASE}/changeQueries/v1"
CONTROL = "/_sandbox/edfi"
TOKEN_SECONDS = 1800
CLAIM_SET = "truancy-sync sandbox"
# VersionController.cs:52-61 with EdFi.Ods.Api/Constants/ApiVersionConstants.cs:15-40 (ODS/API 7.3.2);
# 7.3 ships Data Standards 4.0.0, 5.2.0 and 6.1.0 (EdFi.Ods.Standard/Standard/); this one serves 5.2.0.
API_VERSION = {
    "version": "7.3",
    "applicationName": "Ed-Fi Alliance ODS/API",
    "informationalVersion": "7.3.2",
    "suite": "3",
    "build": "7.3.2.0",
}
DATA_MODEL = {"name": "Ed-Fi", "version": "5.2.0"}
# Query parameters that are not resource properties (UrlQueryParametersRequest.cs, PartitionsController.cs).
_RESERVED = frozenset(
    {
        "offset", "limit", "totalCount", "minChangeVersion", "maxChangeVersion", "pageToken", "pageSize",
        "number", "allowSmallPartitions", "useJoinAuth", "q",
    }
)  # fmt: skip
# The order in which a client must load the served resources (what /metadata/data/v3/dependencies gives).
_LOAD_ORDER = {
    "attendanceEventCategoryDescriptors": 1, "calendarEventDescriptors": 1, "gradeLevelDescriptors": 1,
    "deliveryMethodDescriptors": 1, "interventionClassDescriptors": 1, "schools": 2, "students": 2,
    "sessions": 3, "calendars": 3, "interventions": 3, "studentEducationOrganizationAssociations": 3,
    "calendarDates": 4, "studentSchoolAssociations": 4, "studentInterventionAssociations": 4,
    "studentSchoolAttendanceEvents": 5, "studentInterventionAttendanceEvents": 5,
    "contacts": 2, "studentContactAssociations": 3,
    "studentProgramAssociations": 4, "studentSpecialEducationProgramAssociations": 4,
}  # fmt: skip


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
    cursor_paging = True


class _RefusedError(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


class _ProblemRoute(APIRoute):
    """A refusal raised anywhere in a handler, or a bad query parameter, becomes its Problem Details."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except _RefusedError as refused:
                return refused.response
            except paging.ParameterError as error:
                return problems.parameter_problem(error.message, error.detail)

        return answer


def edfi_router(district: District, client_id: str, client_secret: str) -> APIRouter:
    ods = EdFiOds(district)
    schemas = ResourceSchemas()
    tokens = TokenStore()
    settings = _Settings()
    router = APIRouter(route_class=_ProblemRoute)

    def authenticate(request: Request) -> None:
        """401 with the middleware's message (``EdFiOAuthAuthenticationHandler.cs:54-67``,
        ``AuthenticationFailureMessages.cs:10-13``, ``Providers/OAuthTokenAuthenticator.cs:57``)."""
        header = request.headers.get("authorization")
        scheme, _, value = (header or "").partition(" ")
        if header is None:
            error = "Authorization header is missing."
        elif scheme.lower() != "bearer":
            error = "Unknown Authorization header scheme."
        elif not value.strip():
            error = "Missing Authorization header bearer token value."
        elif tokens.grant_for(header) is None:
            error = "Invalid token"
        else:
            return
        raise _RefusedError(
            problems.response(401, problems.AUTHENTICATION, problems.AUTHENTICATION_DETAIL, errors=[error])
        )

    def reading(request: Request) -> View:
        """The database this GET reads: the snapshot when ``Use-Snapshot`` parses as true."""
        authenticate(request)
        wanted = request.headers.get("use-snapshot", "").strip().lower() == "true"
        view = ods.view(snapshot=wanted)
        if view is None:
            raise _RefusedError(
                problems.response(
                    404,
                    problems.NOT_FOUND,
                    "Snapshot not found.",
                    errors=["The snapshot connection for the ODS has not been configured."],
                )
            )
        return view

    def writing(request: Request, resource: str) -> None:
        authenticate(request)
        if "use-snapshot" in request.headers:
            raise _RefusedError(
                problems.response(
                    405,
                    problems.SNAPSHOTS_READ_ONLY,
                    problems.SNAPSHOTS_READ_ONLY_DETAIL,
                    headers={"Allow": "GET"},
                )
            )
        collection_of(ods.collections, resource)
        if resource not in WRITABLE:
            raise _RefusedError(
                problems.response(
                    403,
                    f"{problems.AUTHORIZATION}:access-denied:action",
                    f"{problems.AUTHORIZATION_DETAIL} You do not have permissions to perform the requested "
                    "operation on the data.",
                    errors=[
                        f"The API client's assigned claim set (currently '{CLAIM_SET}') must grant "
                        f"permission of the '{'Delete' if request.method == 'DELETE' else 'Create'}' action "
                        f"on one of the following resource claims: '{resource}'."
                    ],
                )
            )

    def collection_of(collections: Any, resource: str) -> Collection:
        if resource not in collections:
            raise _RefusedError(problems.response(404, problems.NOT_FOUND, problems.DATA_NOT_FOUND))
        collection: Collection = collections[resource]
        return collection

    def window(request: Request) -> tuple[int | None, int | None]:
        return (
            paging.integer(request.query_params, "minChangeVersion"),
            paging.integer(request.query_params, "maxChangeVersion"),
        )

    def selected(collection: Collection, request: Request) -> list[Stored]:
        filters = {key: value for key, value in request.query_params.items() if key not in _RESERVED}
        changed = collection.changed(*window(request))
        return [stored for stored in changed if _matches(stored.body, filters)] if filters else changed

    # -- discovery, metadata, tokens -----------------------------------------------------------

    @router.get(EDFI_BASE + "/")
    def discovery(request: Request) -> Response:
        """The discovery document as ``VersionController.cs:50-144`` writes it; only what is served."""
        root = str(request.base_url).rstrip("/") + EDFI_BASE
        return _json(
            {
                **API_VERSION,
                "dataModels": [DATA_MODEL],
                "urls": {
                    "dependencies": f"{root}/metadata/data/v3/dependencies",
                    "oauth": f"{root}/oauth/token",
                    "oauthTokenIntrospection": f"{root}/oauth/token_info",
                    "dataManagementApi": f"{root}/data/v3/",
                    "changeQueries": f"{root}/changeQueries/v1/",
                },
            }
        )

    @router.get(EDFI_BASE + "/metadata/data/v3/dependencies")
    def dependencies() -> Response:
        return _json(
            [
                {"resource": f"/ed-fi/{name}", "order": order, "operations": ["Create", "Update"]}
                for name, order in sorted(_LOAD_ORDER.items(), key=lambda item: (item[1], item[0]))
            ]
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

    @router.post(EDFI_BASE + "/oauth/token_info")
    async def token_info(request: Request) -> Response:
        """Self-introspection: the body's token must be the bearer token
        (``EdFi.Ods.Features/Controllers/TokenInfoController.cs:80-113``)."""
        authenticate(request)
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            inspected = str(json.loads(raw or b"{}").get("token", ""))
        else:
            inspected = (parse_qs(raw.decode()).get("token") or [""])[0]
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not inspected or inspected != bearer:
            return problems.response(
                400,
                problems.BAD_REQUEST,
                "The authentication token and the token to inspect must match.",
                errors=["The authentication token (header) and the token to inspect in the body must match."],
            )
        return _json(
            {
                "active": True,
                "client_id": client_id,
                "namespace_prefixes": ["uri://ed-fi.org", "uri://sandbox.k12.example.org"],
                "education_organizations": [
                    {
                        "education_organization_id": LEA_ID,
                        "name_of_institution": district.name,
                        "type": "edfi.LocalEducationAgency",
                    }
                ],
                "assigned_profiles": [],
                "claim_set": {"name": CLAIM_SET},
                "resources": [
                    {
                        "resource": f"/ed-fi/{name}",
                        "operations": ["Create", "Read", "Update", "Delete", "ReadChanges"]
                        if name in WRITABLE
                        else ["Read", "ReadChanges"],
                    }
                    for name in sorted(NATURAL_KEYS)
                ],
            }
        )

    # -- change queries ------------------------------------------------------------------------

    @router.get(CHANGES + "/availableChangeVersions")
    def available(request: Request) -> Response:
        """``AvailableChangeVersionProvider.cs:35-50``: the newest version of the database read."""
        view = reading(request)
        return _json({"oldestChangeVersion": 0, "newestChangeVersion": view.newest})

    def tracked_page(entries: list[Record], request: Request) -> Response:
        """Deletes and key changes: ``limit`` 0..500 (default 500), ``offset``, ``totalCount``
        (``DeletesController.cs:80-103``, ``UrlQueryParametersRequestExtensions.cs:13-24``,
        ``TrackedChangesQueryTemplatePreparerBase.cs:54-58``,
        ``TrackedChangesResourceDataProviderBase.cs:73``)."""
        query = request.query_params
        limit, offset = paging.integer(query, "limit"), paging.integer(query, "offset")
        messages = []
        if limit is not None and not 0 <= limit <= paging.PAGE_LIMIT:
            messages.append(f"Limit must be omitted or set to a value between 1 and {paging.PAGE_LIMIT}.")
        if (offset or 0) < 0:
            messages.append("Offset must be greater than or equal to 0.")
        if messages:
            return problems.response(
                400,
                problems.PARAMETER_VALIDATION_FAILED,
                "Parameters supplied to the request were invalid.",
                errors=messages,
            )
        start = offset or 0
        page = [] if limit == 0 else entries[start : start + (paging.PAGE_LIMIT if limit is None else limit)]
        headers = (
            {"Total-Count": str(len(entries))} if query.get("totalCount", "").lower() == "true" else None
        )
        return _json(page, headers)

    @router.get(DATA + "/{resource}/deletes")
    def deletes(resource: str, request: Request) -> Response:
        collection = collection_of(reading(request).collections, resource)
        return tracked_page(collection.deletes(*window(request)), request)

    @router.get(DATA + "/{resource}/keyChanges")
    def key_changes(resource: str, request: Request) -> Response:
        collection = collection_of(reading(request).collections, resource)
        return tracked_page(collection.collapsed_key_changes(*window(request)), request)

    # -- resources -----------------------------------------------------------------------------

    @router.get(DATA + "/{resource}/partitions")
    def partitions(resource: str, request: Request) -> Response:
        collection = collection_of(reading(request).collections, resource)
        if not settings.cursor_paging:
            return problems.response(404, problems.NOT_FOUND, problems.DATA_NOT_FOUND)
        number = paging.partition_number(request.query_params)
        allow_small = request.query_params.get("allowSmallPartitions", "").lower() == "true"
        tokens = paging.partition_tokens(selected(collection, request), number, allow_small=allow_small)
        return _json({"pageTokens": tokens})

    @router.get(DATA + "/{resource}")
    def read(resource: str, request: Request) -> Response:
        collection = collection_of(reading(request).collections, resource)
        if "pageToken" in request.query_params and not settings.cursor_paging:
            return problems.parameter_problem("The pageToken parameter is not supported.")
        page_request = paging.page_request(request.query_params)
        rows = selected(collection, request)
        page, next_token = paging.page_of(rows, page_request)
        headers: dict[str, str] = {}
        if page_request.total_count:
            headers["Total-Count"] = str(len(rows))
        if next_token is not None and settings.cursor_paging:
            headers["Next-Page-Token"] = next_token
        return _json([stored.served() for stored in page], headers)

    @router.get(DATA + "/{resource}/{record_id}")
    def read_one(resource: str, record_id: str, request: Request) -> Response:
        """ETag from the record's version; ``If-None-Match`` is compared verbatim with the unquoted
        ETag and a match is 304 (``DataManagementControllerBase.cs:225-229``,
        ``Infrastructure/Pipelines/Steps/DetectUnmodifiedEntityModel.cs:38-40``)."""
        collection = collection_of(reading(request).collections, resource)
        stored = collection.get(record_id)
        if stored is None:
            return problems.response(404, problems.NOT_FOUND, problems.ITEM_NOT_FOUND)
        if request.headers.get("if-none-match") == stored.etag.strip('"'):
            return Response(status_code=304, headers={"ETag": stored.etag})
        return _json(stored.served(), {"ETag": stored.etag})

    async def body_of(resource: str, request: Request, *, posting: bool) -> Record:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _RefusedError(
                problems.response(
                    400,
                    problems.BAD_REQUEST,
                    "The request could not be processed. See 'errors' for details.",
                    errors=["The request body is not a JSON object."],
                )
            )
        body.pop("_etag", None)
        body.pop("_lastModifiedDate", None)
        if posting and "id" in body:
            # DataManagementControllerBase.cs:368-378
            raise _RefusedError(
                problems.response(
                    400,
                    problems.DATA_VALIDATION_FAILED,
                    "The request data was constructed incorrectly.",
                    errors=[
                        "Resource identifiers cannot be assigned by the client. The 'id' property should not "
                        "be included in the request body."
                    ],
                )
            )
        body.pop("id", None)
        invalid = schemas.problems(resource, body)
        for path, message in ods.missing_descriptors(body).items():
            invalid.setdefault(path, []).extend(message)
        if invalid:
            raise _RefusedError(
                problems.response(
                    400,
                    problems.DATA_VALIDATION_FAILED,
                    problems.VALIDATION_ERRORS_DETAIL,
                    validation_errors=invalid,
                )
            )
        return body

    def refusal(error: WriteRefusedError) -> Response:
        return problems.response(error.status, error.problem_type, error.detail, errors=error.errors)

    @router.post(DATA + "/{resource}")
    async def upsert(resource: str, request: Request) -> Response:
        writing(request, resource)
        body = await body_of(resource, request, posting=True)
        try:
            record_id, created = ods.upsert(resource, body, lambda: secrets.token_hex(16))
        except WriteRefusedError as refused:
            return refusal(refused)
        stored = ods.collections[resource].get(record_id)
        assert stored is not None
        location = f"{str(request.base_url).rstrip('/')}{DATA}/{resource}/{record_id}"
        return Response(
            status_code=201 if created else 200, headers={"Location": location, "ETag": stored.etag}
        )

    @router.put(DATA + "/{resource}/{record_id}")
    async def replace(resource: str, record_id: str, request: Request) -> Response:
        writing(request, resource)
        body = await body_of(resource, request, posting=False)
        try:
            etag = ods.replace(resource, record_id, body, request.headers.get("if-match"))
        except WriteRefusedError as refused:
            return refusal(refused)
        location = f"{str(request.base_url).rstrip('/')}{DATA}/{resource}/{record_id}"
        return Response(status_code=204, headers={"ETag": etag, "Location": location})

    @router.delete(DATA + "/{resource}/{record_id}")
    def remove(resource: str, record_id: str, request: Request) -> Response:
        writing(request, resource)
        try:
            ods.delete(resource, record_id, request.headers.get("if-match"))
        except WriteRefusedError as refused:
            return refusal(refused)
        return Response(status_code=204)

    # -- test controls -------------------------------------------------------------------------

    @router.post(CONTROL + "/snapshot")
    def take_snapshot() -> Response:
        """The host takes a snapshot now (``Use-Snapshot: true`` reads it until the next one)."""
        return JSONResponse({"newestChangeVersion": ods.take_snapshot()})

    @router.delete(CONTROL + "/snapshot")
    def drop_snapshot() -> Response:
        ods.drop_snapshot()
        return Response(status_code=204)

    @router.post(CONTROL + "/enrollments/{student_unique_id}/entryDate")
    async def change_entry_date(student_unique_id: str, request: Request) -> Response:
        body = await request.json()
        if student_unique_id not in ods.students_by_number:
            return JSONResponse({"message": "no such student"}, 404)
        ods.change_entry_date(student_unique_id, date.fromisoformat(str(body["entryDate"])))
        return Response(status_code=204)

    @router.post(CONTROL + "/enrollments/{student_unique_id}/reenter")
    def reenter_enrollment(student_unique_id: str) -> Response:
        if student_unique_id not in ods.students_by_number:
            return JSONResponse({"message": "no such student"}, 404)
        return JSONResponse({"id": ods.reenter_enrollment(student_unique_id)})

    @router.post(CONTROL + "/settings")
    async def change_settings(request: Request) -> Response:
        body = await request.json()
        settings.cursor_paging = bool(body.get("cursor_paging", settings.cursor_paging))
        return Response(status_code=204)

    return router
