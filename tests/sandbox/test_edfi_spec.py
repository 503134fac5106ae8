"""What the sandbox ODS/API serves validates against the official DS 5.0 and 4.0 OpenAPI files, and
a write that does not is refused with Problem Details naming the field."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import yaml

from tests.sandbox_year import PINNED_AS_OF
from truancy.sandbox.edfi.schemas import OPENAPI_ENV
from truancy.sandbox.server import SandboxServer

pytestmark = pytest.mark.spec

SERVED = {
    "schools": "edFi_school",
    "students": "edFi_student",
    "studentSchoolAssociations": "edFi_studentSchoolAssociation",
    "sessions": "edFi_session",
    "calendars": "edFi_calendar",
    "calendarDates": "edFi_calendarDate",
    "studentSchoolAttendanceEvents": "edFi_studentSchoolAttendanceEvent",
}


@pytest.fixture(scope="module")
def server(specs_dir: Path) -> Iterator[SandboxServer]:
    import os

    os.environ[OPENAPI_ENV] = str(specs_dir / "edfi" / "openapi" / "resources-ds-5.0.yaml")
    try:
        with SandboxServer(students=30, seed=2, as_of=PINNED_AS_OF) as running:
            yield running
    finally:
        del os.environ[OPENAPI_ENV]


@pytest.fixture(scope="module")
def headers(server: SandboxServer) -> dict[str, str]:
    response = requests.post(
        f"{server.url}/edfi/oauth/token",
        auth=("sandbox", "sandbox"),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    assert response.json()["expires_in"] > 0
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@functools.cache
def components(specs_dir: Path, name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(
        (specs_dir / "edfi" / "openapi" / name).read_text(encoding="utf-8")
    )
    return document


@pytest.mark.parametrize("standard", ["resources-ds-5.0.yaml", "resources-ds-4.0.yaml"])
def test_served_resources_validate(
    server: SandboxServer, headers: dict[str, str], specs_dir: Path, standard: str
) -> None:
    document = components(specs_dir, standard)
    for resource, schema_name in SERVED.items():
        response = requests.get(
            f"{server.url}/edfi/data/v3/ed-fi/{resource}",
            params={"limit": "100"},
            headers=headers,
            timeout=10,
        )
        assert response.status_code == 200
        records = response.json()
        assert records, resource
        schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
        validator = jsonschema.Draft4Validator(schema)
        for record in records:
            errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(record)]
            assert errors == [], (standard, resource)


def test_change_versions_and_discovery_validate(
    server: SandboxServer, headers: dict[str, str], specs_dir: Path
) -> None:
    changes = components(specs_dir, "change-queries-api-1.0.0.yaml")
    schema = {"$ref": "#/components/schemas/availableChangeVersion", "components": changes["components"]}
    body = requests.get(
        f"{server.url}/edfi/changeQueries/v1/availableChangeVersions", headers=headers, timeout=10
    ).json()
    jsonschema.validate(body, schema)
    assert body["newestChangeVersion"] > body["oldestChangeVersion"]
    discovery = requests.get(f"{server.url}/edfi/", timeout=10).json()
    root = components(specs_dir, "discovery-api-1.0.yaml")
    jsonschema.validate(
        discovery, {"$ref": "#/components/schemas/metadataRoot", "components": root["components"]}
    )
    assert discovery["urls"]["oauth"].endswith("/edfi/oauth/token")
    dependencies = requests.get(discovery["urls"]["dependencies"], timeout=10).json()
    schema = {"$ref": "#/components/schemas/dependency", "components": root["components"]}
    for dependency in dependencies:
        jsonschema.validate(dependency, schema)
    assert {
        "resource": "/ed-fi/studentSchoolAttendanceEvents",
        "order": 5,
        "operations": ["Create", "Update"],
    } in (dependencies)


def test_a_write_missing_a_required_field_is_refused_with_problem_details(
    server: SandboxServer, headers: dict[str, str]
) -> None:
    response = requests.post(
        f"{server.url}/edfi/data/v3/ed-fi/interventions",
        json={
            "interventionIdentificationCode": "X",
            "educationOrganizationReference": {"educationOrganizationId": 255901},
        },
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "urn:ed-fi:api:bad-request:data-validation-failed"
    assert problem["title"] == "Data Validation Failed"
    assert "$.beginDate" in problem["validationErrors"]


def test_limits_above_500_are_refused(server: SandboxServer, headers: dict[str, str]) -> None:
    response = requests.get(
        f"{server.url}/edfi/data/v3/ed-fi/students", params={"limit": "501"}, headers=headers, timeout=10
    )
    assert response.status_code == 400
