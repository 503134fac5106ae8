"""Problem Details as the ODS/API 7.3 writes them: ``type`` URNs, titles and messages.

Every ``type`` is ``urn:ed-fi:api`` followed by the parts of the exception's class chain
(``EdFi.Ods.Common/Exceptions/EdFiProblemDetailsExceptionBase.cs:118,165-168`` in Ed-Fi-ODS v7.3.2);
each title and message below is quoted from the exception class named beside it.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi.responses import JSONResponse

_BASE = "urn:ed-fi:api"
# BadRequestException.cs:15-17,21 ("bad-request", "Bad Request", "The request construction was invalid.")
BAD_REQUEST = f"{_BASE}:bad-request"
BAD_REQUEST_DETAIL = "The request construction was invalid."
# BadRequestParameterException.cs:19-20
PARAMETER_VALIDATION_FAILED = f"{BAD_REQUEST}:parameter-validation-failed"
# BadRequestDataException.cs:20-21
DATA_VALIDATION_FAILED = f"{BAD_REQUEST}:data-validation-failed"
# KeyChangeNotSupportedException.cs:12-16 (a BadRequestDataException)
KEY_CHANGE_NOT_SUPPORTED = f"{DATA_VALIDATION_FAILED}:key-change-not-supported"
# SecurityAuthenticationException.cs:15-19
AUTHENTICATION = f"{_BASE}:security:authentication"
AUTHENTICATION_DETAIL = "The caller could not be authenticated."
# SecurityAuthorizationException.cs:16-21
AUTHORIZATION = f"{_BASE}:security:authorization"
AUTHORIZATION_DETAIL = "Access to the requested data could not be authorized."
# NotFoundException.cs:18-23
NOT_FOUND = f"{_BASE}:not-found"
DATA_NOT_FOUND = "The specified data could not be found."
ITEM_NOT_FOUND = "The specified item could not be found."
# ConflictException.cs:15-16 and its subclasses
DATA_CONFLICT = f"{_BASE}:data-conflict"
DEPENDENT_ITEM_EXISTS = f"{DATA_CONFLICT}:dependent-item-exists"
NON_UNIQUE_IDENTITY = f"{DATA_CONFLICT}:non-unique-identity"
UNRESOLVED_REFERENCE = f"{DATA_CONFLICT}:unresolved-reference"
# OptimisticLockException.cs:14-20
OPTIMISTIC_LOCK_FAILED = f"{_BASE}:optimistic-lock-failed"
OPTIMISTIC_LOCK_DETAIL = "The item has been modified by another user."
OPTIMISTIC_LOCK_ERROR = (
    "The resource item's etag value does not match what was specified in the 'If-Match' request header "
    "indicating that it has been modified by another client since it was last retrieved."
)
# MethodNotAllowedException.cs:14-16
METHOD_NOT_ALLOWED = f"{_BASE}:method-not-allowed"
# SnapshotsAreReadOnlyException.cs:14-19
SNAPSHOTS_READ_ONLY = f"{_BASE}:snapshots:method-not-allowed"
SNAPSHOTS_READ_ONLY_DETAIL = "An attempt was made to modify data in a Snapshot, but this data is read-only."
# ErrorTranslator.cs:19 (EdFi.Ods.Api/ExceptionHandling)
VALIDATION_ERRORS_DETAIL = "Data validation failed. See 'validationErrors' for details."

TITLES = {
    BAD_REQUEST: "Bad Request",
    PARAMETER_VALIDATION_FAILED: "Parameter Validation Failed",
    DATA_VALIDATION_FAILED: "Data Validation Failed",
    KEY_CHANGE_NOT_SUPPORTED: "Key Change Not Supported",
    AUTHENTICATION: "Authentication Failed",
    AUTHORIZATION: "Authorization Denied",
    NOT_FOUND: "Not Found",
    DEPENDENT_ITEM_EXISTS: "Dependent Item Exists",
    NON_UNIQUE_IDENTITY: "Identifying Values Are Not Unique",
    UNRESOLVED_REFERENCE: "Unresolved Reference",
    OPTIMISTIC_LOCK_FAILED: "Optimistic Lock Failed",
    METHOD_NOT_ALLOWED: "Method Not Allowed",
    SNAPSHOTS_READ_ONLY: "Method Not Allowed with Snapshots",
}


def _title(problem_type: str) -> str:
    """Instance parts (``...:access-denied:action``) keep their exception's title."""
    return TITLES[max((known for known in TITLES if problem_type.startswith(known)), key=len)]


def unresolved(resource: str) -> str:
    """UnresolvedReferenceException.cs:20."""
    return f"The referenced '{resource}' item does not exist."


def dependent_item_exists(resource: str) -> str:
    """DependentResourceItemExistsException.cs:19 (a root resource refers to the item)."""
    return (
        "The requested action cannot be performed because this item is referenced by an existing "
        f"'{resource}' item."
    )


def key_change_not_supported(resource: str) -> str:
    """KeyChangeNotSupportedException.cs:15-16, named by the entity (``StudentInterventionAssociation``)."""
    entity = resource[0].upper() + resource[1:].removesuffix("s")
    return (
        f"Identifying values for the {entity} data cannot be changed. Delete and recreate the item instead."
    )


def descriptor_missing(property_name: str, uri: str) -> str:
    """DescriptorExistsAttribute.cs:34 (as the Postman integration suite expects it, ``Ed-Fi ODS-API
    Integration Test Suite.postman_collection.json:14193``)."""
    descriptor = property_name[0].upper() + property_name[1:]
    return f"{descriptor} value '{uri}' does not exist."


def no_relationships(claims: list[int], endpoint: str) -> str:
    """EntityInstanceViewBasedFilterAuthorizer.cs:135-149 (at most five claim values shown)."""
    shown = [str(claim) for claim in claims[:5]] + (["..."] if len(claims) > 5 else [])
    noun = "claim" if len(claims) == 1 else "claims"
    return (
        f"No relationships have been established between the caller's education organization id {noun} "
        f"({', '.join(shown) or 'none'}) and the resource item's '{endpoint}' value."
    )


def response(
    status: int,
    problem_type: str,
    detail: str,
    *,
    errors: list[str] | None = None,
    validation_errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "detail": detail,
        "type": problem_type,
        "title": _title(problem_type),
        "status": status,
        "correlationId": secrets.token_hex(8),
    }
    if validation_errors:
        body["validationErrors"] = validation_errors
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status, headers=headers, media_type="application/problem+json")


def parameter_problem(message: str, detail: str = BAD_REQUEST_DETAIL) -> JSONResponse:
    """QueryParametersValidator's messages go out as one error of a BadRequestParameterException
    (``DataManagementControllerBase.cs:173-180``)."""
    return response(400, PARAMETER_VALIDATION_FAILED, detail, errors=[message])
