"""OneRoster 1.1 REST (``/ims/oneroster/v1p1``): OAuth 1.0a signatures verified, or a bearer token.

It serves the same district as the 1.2 endpoints, reshaped the way 1.1 providers send it: a user has
one ``role`` and an ``orgs`` list instead of ``roles[]``, no ``primaryOrg``, and references point at
1.1 paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from truancy.sandbox.auth import TokenStore
from truancy.sandbox.oauth1 import OAuth1Verifier, SignatureRejectedError, SignedRequest
from truancy.sandbox.oneroster_serve import quirky_error, serve_collection, serve_related, throttled
from truancy.sandbox.quirks import QuirkSettings
from truancy.sandbox.roster import BASE_PATH, COLLECTION_SINGULAR, Record

if TYPE_CHECKING:
    from truancy.sandbox.oneroster_api import RosterCollections

V1P1_PATH = "/ims/oneroster/v1p1"


def _rebase(value: Any) -> Any:
    """References carry 1.1 hrefs."""
    if isinstance(value, list):
        return [_rebase(item) for item in value]
    if isinstance(value, dict):
        if "href" in value and isinstance(value["href"], str):
            return {**value, "href": value["href"].replace(BASE_PATH, V1P1_PATH, 1)}
        return {key: _rebase(item) for key, item in value.items()}
    return value


def as_v1p1(record: Record) -> Record:
    """A 1.2 record as a 1.1 provider serves it."""
    converted: Record = _rebase(record)
    if "roles" in converted:
        roles = sorted(converted.pop("roles"), key=lambda role: role.get("roleType") != "primary")
        converted.pop("primaryOrg", None)
        converted["role"] = roles[0]["role"]
        converted["orgs"] = [role["org"] for role in roles]
    return converted


def oneroster_v1p1_router(
    roster: RosterCollections,
    tokens: TokenStore,
    verifier: OAuth1Verifier,
    quirks: QuirkSettings,
) -> APIRouter:
    router = APIRouter()

    def authorise(request: Request) -> Response | None:
        """A valid bearer token (OAuth 2) or a valid OAuth 1.0a signature; only GETs are served."""
        authorization = request.headers.get("authorization")
        if authorization is not None and authorization[:7].lower() == "bearer ":
            if tokens.grant_for(authorization) is None:
                return quirky_error(
                    quirks.current, 401, "unauthorisedrequest", "the bearer token is not valid"
                )
            return None
        try:
            verifier.verify(SignedRequest(request.method, str(request.url), authorization))
        except SignatureRejectedError as rejected:
            return quirky_error(quirks.current, 401, "unauthorisedrequest", str(rejected))
        return None

    @router.get(V1P1_PATH + "/{collection}")
    def collection(collection: str, request: Request) -> Response:
        refused = authorise(request)
        if refused is not None:
            return refused
        return throttled(quirks) or serve_collection(
            roster, collection, request, quirks.current, convert=as_v1p1
        )

    @router.get(V1P1_PATH + "/{parent}/{parent_id}/{child}")
    def related(parent: str, parent_id: str, child: str, request: Request) -> Response:
        refused = authorise(request)
        if refused is not None:
            return refused
        return throttled(quirks) or serve_related(
            roster, parent, parent_id, child, request, quirks.current, convert=as_v1p1
        )

    @router.get(V1P1_PATH + "/{collection}/{sourced_id}")
    def single(collection: str, sourced_id: str, request: Request) -> Response:
        refused = authorise(request)
        if refused is not None:
            return refused
        record = roster.by_id.get(collection, {}).get(sourced_id)
        if record is None:
            return quirky_error(
                quirks.current, 404, "unknownobject", f"no {collection} record with that sourcedId"
            )
        return JSONResponse({COLLECTION_SINGULAR[collection]: as_v1p1(record)})

    return router
