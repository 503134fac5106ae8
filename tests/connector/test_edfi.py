"""The Ed-Fi client against the sandbox ODS/API over real HTTP: discovery, paging, change queries,
snapshots and the write errors a district must be able to act on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.sandbox_year import PINNED_AS_OF
from truancy.connector.edfi import ChangeWindow, EdFiClient, StaleEtagError, discover, open_session
from truancy.connector.edfi.discovery import parse_discovery
from truancy.connector.edfi.problems import parse_problem
from truancy.connector.errors import ConfigurationError, HttpStatusError
from truancy.connector.http import RetryPolicy
from truancy.sandbox.server import SandboxServer

EVENTS = "ed-fi/studentSchoolAttendanceEvents"
LEA = 255901


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(students=60, seed=7, as_of=PINNED_AS_OF) as running:
        yield running


def client(server: SandboxServer, **options: Any) -> EdFiClient:
    urls = discover(f"{server.url}/edfi", retry=RetryPolicy(max_attempts=2))
    session = open_session(urls, "sandbox", "sandbox", retry=RetryPolicy(max_attempts=2))
    return EdFiClient(session, urls.change_queries, **options)


def ids(pages: Iterator[list[dict[str, Any]]]) -> list[str]:
    return [str(record["id"]) for page in pages for record in page]


def test_discovery_fills_year_and_instance_routes() -> None:
    document = {
        "dataModels": [{"name": "Ed-Fi", "version": "4.0.0"}],
        "urls": {
            "oauth": "https://ods.example.org/{instance}/oauth/token",
            "dataManagementApi": "https://ods.example.org/{instance}/{schoolYearFromRoute}/data/v3/",
        },
    }
    urls = parse_discovery(document, school_year=2026, instance="tx-255901")
    assert urls.data == "https://ods.example.org/tx-255901/2026/data/v3"
    assert urls.change_queries == "https://ods.example.org/tx-255901/2026/changeQueries/v1"
    assert urls.oauth == "https://ods.example.org/tx-255901/oauth/token"
    assert urls.data_model_version == "4.0.0"
    with pytest.raises(ConfigurationError, match=r"set sis\.edfi\.school_year"):
        parse_discovery(document, school_year=None, instance="tx-255901")


def test_offset_and_cursor_paging_read_the_same_records(server: SandboxServer) -> None:
    by_offset = ids(client(server, paging="offset", page_size=97).pages(EVENTS))
    by_cursor = ids(client(server, paging="cursor", page_size=97).pages(EVENTS))
    assert len(by_offset) == len(set(by_offset)) == server.district.attendance_count()
    assert by_cursor == by_offset


def test_change_windows_stepped_in_chunks_read_what_one_window_reads(server: SandboxServer) -> None:
    whole = client(server, page_size=500)
    newest = whole.available_change_versions().max_version
    window = ChangeWindow(newest // 3, newest)
    assert ids(client(server, change_window=37, page_size=50).pages(EVENTS, window=window)) == ids(
        whole.pages(EVENTS, window=window)
    )


def test_deletes_come_with_their_natural_keys(server: SandboxServer) -> None:
    edfi = client(server)
    before = edfi.available_change_versions().max_version
    row = server.district.attendance()[0]
    requests.delete(f"{server.url}/_sandbox/attendance/{row.dcid}", timeout=10).raise_for_status()
    window = ChangeWindow(before + 1, edfi.available_change_versions().max_version)
    tombstones = [entry for page in edfi.deletes(EVENTS, window) for entry in page]
    assert len(tombstones) == 1
    assert tombstones[0]["keyValues"]["eventDate"] == row.att_date.isoformat()
    assert ids(edfi.pages(EVENTS, window=window)) == []


def test_a_host_without_snapshots_is_read_live(server: SandboxServer) -> None:
    """The sandbox, like an ODS/API host, has no snapshot until one is taken."""
    edfi = client(server, paging="offset")
    assert len(ids(edfi.pages("ed-fi/schools"))) == len(server.district.schools)
    assert edfi.use_snapshot is False


def test_writes_keep_the_location_id_and_guard_with_etags(server: SandboxServer) -> None:
    edfi = client(server)
    body = {
        "interventionIdentificationCode": "TEST-ETAG",
        "educationOrganizationReference": {"educationOrganizationId": LEA},
        "deliveryMethodDescriptor": "uri://ed-fi.org/DeliveryMethodDescriptor#Individual",
        "interventionClassDescriptor": "uri://ed-fi.org/InterventionClassDescriptor#Other",
        "beginDate": "2025-07-01",
    }
    created = edfi.post("ed-fi/interventions", body)
    again = edfi.post("ed-fi/interventions", {**body, "endDate": "2026-06-30"})
    assert created.created
    assert (again.id, again.created) == (created.id, False)
    with pytest.raises(StaleEtagError):
        edfi.put("ed-fi/interventions", created.id, body, created.etag)
    current = edfi.get("ed-fi/interventions", created.id)
    assert current is not None
    edfi.put("ed-fi/interventions", created.id, current[0], current[1])


def test_conflicts_say_what_to_fix(server: SandboxServer) -> None:
    edfi = client(server)
    student = server.district.students[0].student_number
    association = {
        "interventionReference": {
            "educationOrganizationId": LEA,
            "interventionIdentificationCode": "MISSING",
        },
        "studentReference": {"studentUniqueId": student},
    }
    with pytest.raises(HttpStatusError, match="does not exist") as unresolved:
        edfi.post("ed-fi/studentInterventionAssociations", association)
    assert unresolved.value.status == 409
    assert student not in str(unresolved.value)
    code = {"educationOrganizationId": LEA, "interventionIdentificationCode": "TEST-DEPENDENT"}
    intervention = edfi.post(
        "ed-fi/interventions",
        {
            "interventionIdentificationCode": code["interventionIdentificationCode"],
            "educationOrganizationReference": {"educationOrganizationId": LEA},
            "deliveryMethodDescriptor": "uri://ed-fi.org/DeliveryMethodDescriptor#Individual",
            "interventionClassDescriptor": "uri://ed-fi.org/InterventionClassDescriptor#Other",
            "beginDate": "2025-07-01",
        },
    )
    edfi.post("ed-fi/studentInterventionAssociations", {**association, "interventionReference": code})
    with pytest.raises(HttpStatusError, match="other records still refer to it"):
        edfi.delete("ed-fi/interventions", intervention.id)


def test_problem_details_and_older_error_shapes_read_alike() -> None:
    modern = parse_problem(
        {
            "type": "urn:ed-fi:api:bad-request:data-validation-failed",
            "title": "Data Validation Failed",
            "detail": "Data validation failed. See 'validationErrors' for details.",
            "validationErrors": {"$.beginDate": ["beginDate is required."]},
        }
    )
    older = parse_problem(
        {"message": "The value supplied for the related 'intervention' could not be resolved."}
    )
    assert modern.is_a("data-validation")
    assert "$.beginDate: beginDate is required." in modern.summary
    assert older.is_a("could not be resolved")
    assert "'intervention'" not in older.summary
