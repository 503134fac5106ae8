"""The Ed-Fi client against hosts that differ, over real HTTP: on one that keeps a snapshot every read
of a sync comes from it (bookmark included) while write-back reads live; one before 7.3 (no
``/partitions``) is paged by offset; a descriptor value the ODS lacks is named in the write error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.sandbox_year import PINNED_AS_OF
from truancy.connector.edfi import ChangeWindow, EdFiClient, discover, open_session
from truancy.connector.errors import HttpStatusError
from truancy.connector.http import RetryPolicy
from truancy.sandbox.server import SandboxServer

EVENTS = "ed-fi/studentSchoolAttendanceEvents"
LEA = 255901


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(students=40, seed=3, as_of=PINNED_AS_OF) as running:
        yield running


def client(server: SandboxServer, **options: Any) -> EdFiClient:
    urls = discover(f"{server.url}/edfi", retry=RetryPolicy(max_attempts=2))
    session = open_session(urls, "sandbox", "sandbox", retry=RetryPolicy(max_attempts=2))
    return EdFiClient(session, urls.change_queries, **options)


def control(server: SandboxServer, method: str, path: str, body: object = None) -> requests.Response:
    response = requests.request(method, f"{server.url}/_sandbox/{path}", json=body, timeout=10)
    response.raise_for_status()
    return response


def ids(pages: Iterator[list[dict[str, Any]]]) -> set[str]:
    return {str(record["id"]) for page in pages for record in page}


@pytest.mark.parametrize("paging", ["offset", "cursor"])
def test_the_bookmark_and_the_pages_come_from_the_snapshot(server: SandboxServer, paging: str) -> None:
    frozen_at = control(server, "POST", "edfi/snapshot").json()["newestChangeVersion"]
    row = server.district.attendance()[0]
    control(server, "DELETE", f"attendance/{row.dcid}")
    edfi = client(server, paging=paging)
    newest = edfi.available_change_versions().max_version
    assert newest == frozen_at
    assert edfi.use_snapshot
    everything = ids(edfi.pages(EVENTS))
    assert len(everything) == server.district.attendance_count() + 1  # the deleted row is still there
    live = edfi.live()
    assert live.available_change_versions().max_version > frozen_at
    assert len(ids(live.pages(EVENTS))) == server.district.attendance_count()
    window = ChangeWindow(frozen_at + 1, live.available_change_versions().max_version)
    assert [entry for page in live.deletes(EVENTS, window) for entry in page]
    assert [entry for page in edfi.deletes(EVENTS, window) for entry in page] == []


def test_a_missing_descriptor_is_named_in_the_write_error(server: SandboxServer) -> None:
    edfi = client(server)
    body = {
        "interventionIdentificationCode": "TEST-DESCRIPTOR",
        "educationOrganizationReference": {"educationOrganizationId": LEA},
        "deliveryMethodDescriptor": "uri://ed-fi.org/DeliveryMethodDescriptor#Telepathy",
        "interventionClassDescriptor": "uri://ed-fi.org/InterventionClassDescriptor#Other",
        "beginDate": "2025-07-01",
    }
    with pytest.raises(HttpStatusError, match="does not define the DeliveryMethodDescriptor value") as raised:
        edfi.post("ed-fi/interventions", body)
    assert raised.value.status == 400
    assert "field map" in str(raised.value)


def test_a_host_before_7_3_is_read_by_offset(server: SandboxServer) -> None:
    """No ``/partitions`` before ODS/API 7.3: the probe finds none and the client pages by offset."""
    control(server, "POST", "edfi/settings", {"cursor_paging": False})
    try:
        edfi = client(server, paging="auto", page_size=23)
        assert len(ids(edfi.pages(EVENTS))) == server.district.attendance_count()
    finally:
        control(server, "POST", "edfi/settings", {"cursor_paging": True})
