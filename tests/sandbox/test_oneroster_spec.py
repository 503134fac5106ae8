"""Real responses validate against the OneRoster 1.2 OpenAPI file (Ed-Fi's port of the 1EdTech OAS).

The port mistypes a few list-valued properties (``user.roles``, ``class.terms``, ``org.children``
as ``object``; ``user.userIds`` with a stray ``schema`` wrapper that is not valid OpenAPI); the
official 1EdTech 1.2 binding defines them as arrays, which is what the sandbox serves. Those four
are corrected here and nothing else is relaxed. The port
declares no error responses, so errors are checked against the 1.2 ``imsx_StatusInfo`` shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from tests.sandbox.helpers import ROSTER, TIMEOUT, roster_headers

pytestmark = pytest.mark.spec

COLLECTIONS = (
    "academicSessions",
    "classes",
    "courses",
    "enrollments",
    "orgs",
    "schools",
    "students",
    "teachers",
    "terms",
    "users",
)
SINGLE_READS = {
    "users": "stu-10001",
    "orgs": "district-1",
    "classes": "class-100-KG-hr",
    "enrollments": "enr-10001-hr",
    "academicSessions": "as-2025-26",
    "courses": "course-100-KG-hr",
}
_REFERENCE_LIST = {"type": "array", "items": {"type": "object", "required": ["href", "sourcedId", "type"]}}
# (schema, property) -> the official 1EdTech 1.2 definition the Ed-Fi port mistypes.
_ERRATA: dict[tuple[str, str], dict[str, Any]] = {
    ("user", "roles"): {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["roleType", "role", "org"],
            "properties": {"roleType": {"enum": ["primary", "secondary"]}, "role": {"type": "string"}},
        },
    },
    ("user", "userIds"): {
        "type": "array",
        "items": {"type": "object", "required": ["type", "identifier"]},
    },
    ("class", "terms"): _REFERENCE_LIST,
    ("org", "children"): _REFERENCE_LIST,
}

IMSX_STATUS_INFO = {
    "type": "object",
    "required": ["imsx_codeMajor", "imsx_severity"],
    "properties": {
        "imsx_codeMajor": {"enum": ["success", "processing", "failure", "unsupported"]},
        "imsx_severity": {"enum": ["status", "warning", "error"]},
        "imsx_description": {"type": "string"},
        "imsx_CodeMinor": {
            "type": "object",
            "required": ["imsx_codeMinorField"],
            "properties": {
                "imsx_codeMinorField": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["imsx_codeMinorFieldName", "imsx_codeMinorFieldValue"],
                        "properties": {
                            "imsx_codeMinorFieldValue": {
                                "enum": [
                                    "fullsuccess", "invalid_filter_field", "invalid_selection_field",
                                    "invaliddata", "unauthorisedrequest", "forbidden", "server_busy",
                                    "unknownobject", "internal_server_error", "invalid_sort_field",
                                ]
                            }
                        },
                    },
                }
            },
        },
    },
}  # fmt: skip


class _TextLoader(yaml.SafeLoader):
    """Keeps unquoted timestamps (the file uses them as descriptions) as strings."""


_TextLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@pytest.fixture(scope="module")
def openapi(specs_dir: Path, sandbox_url: str) -> OpenAPI:
    path = specs_dir / "oneroster" / "oneroster-1.2-rostering-edfi-service.openapi.yaml"
    spec: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextLoader)  # noqa: S506
    spec["servers"] = [{"url": sandbox_url}]
    schemas = spec["components"]["schemas"]
    for (schema_name, property_name), official in _ERRATA.items():
        schemas[schema_name]["properties"][property_name] = official
    return OpenAPI.from_dict(spec)


@pytest.fixture(scope="module")
def headers(sandbox_url: str) -> dict[str, str]:
    return roster_headers(sandbox_url)


def _validated(openapi: OpenAPI, response: requests.Response) -> None:
    openapi.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_collection_pages_validate(
    openapi: OpenAPI, sandbox_url: str, headers: dict[str, str], collection: str
) -> None:
    response = requests.get(
        f"{sandbox_url}{ROSTER}/{collection}", headers=headers, params={"limit": 1000}, timeout=TIMEOUT
    )
    assert response.status_code == 200
    assert next(iter(response.json().values()))
    _validated(openapi, response)


@pytest.mark.parametrize(("collection", "sourced_id"), SINGLE_READS.items())
def test_single_reads_validate(
    openapi: OpenAPI, sandbox_url: str, headers: dict[str, str], collection: str, sourced_id: str
) -> None:
    response = requests.get(
        f"{sandbox_url}{ROSTER}/{collection}/{sourced_id}", headers=headers, timeout=TIMEOUT
    )
    assert response.status_code == 200
    _validated(openapi, response)


def test_an_invalid_record_would_fail_validation(
    openapi: OpenAPI, sandbox_url: str, headers: dict[str, str]
) -> None:
    """Guards the test itself: a spec-breaking value must be caught."""
    response = requests.get(f"{sandbox_url}{ROSTER}/users/stu-10001", headers=headers, timeout=TIMEOUT)
    response._content = response.content.replace(b'"status":"active"', b'"status":"inactive"')
    with pytest.raises(Exception, match=r"(?i)invalid|error"):
        _validated(openapi, response)


@pytest.mark.parametrize(
    ("path", "with_token"),
    [("/users/stu-0", True), ("/users?filter=shoeSize%3D%279%27", True), ("/users", False)],
)
def test_errors_are_imsx_status_info(
    sandbox_url: str, headers: dict[str, str], path: str, with_token: bool
) -> None:
    response = requests.get(
        f"{sandbox_url}{ROSTER}{path}", headers=headers if with_token else {}, timeout=TIMEOUT
    )
    assert response.status_code in (400, 401, 404)
    jsonschema.validate(response.json(), IMSX_STATUS_INFO)
