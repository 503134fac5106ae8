"""Real responses validate against the OneRoster 1.2 OpenAPI file (Ed-Fi's port of the 1EdTech OAS).

The file's errata are corrected in ``tests.sandbox.oneroster_openapi`` and nothing else is relaxed;
errors are checked against the 1.2 ``imsx_StatusInfo`` shape, which the file does not declare.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

from tests.sandbox.helpers import ROSTER, TIMEOUT, roster_headers
from tests.sandbox.oneroster_openapi import IMSX_STATUS_INFO, load_corrected_spec

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


@pytest.fixture(scope="module")
def openapi(specs_dir: Path, sandbox_url: str) -> OpenAPI:
    spec = load_corrected_spec(specs_dir)
    spec["servers"] = [{"url": sandbox_url}]
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
