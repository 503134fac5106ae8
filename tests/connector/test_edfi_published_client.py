"""A published Ed-Fi client written by others (Education Analytics' ``edfi-api-client`` on PyPI)
reads the sandbox ODS/API over real HTTP and gets every row: counts (``limit=0&totalCount=true``),
cursor paging (it starts without a token and follows ``Next-Page-Token``), offset paging, change
version stepping, and ``/deletes`` and ``/keyChanges``.

It sends what a real 7.3 client sends, so it fails where the sandbox departs from the ODS/API: the
old sandbox refused ``limit=0`` and sent no token on a plain first page, ending its cursor read
after 25 rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from edfi_api_client import EdFiClient  # type: ignore[import-untyped]

from tests.sandbox_year import PINNED_AS_OF
from truancy.sandbox.server import SandboxServer


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(students=90, seed=6, as_of=PINNED_AS_OF) as running:
        yield running


@pytest.fixture(scope="module")
def api(server: SandboxServer) -> Any:
    return EdFiClient(f"{server.url}/edfi", "sandbox", "sandbox")


def test_it_counts_and_pages_by_cursor_and_by_offset(server: SandboxServer, api: Any) -> None:
    dates = api.resource("calendarDates")  # every weekday of the year in every school: several pages
    total = dates.get_total_count()
    assert total > 500
    by_cursor = [row["id"] for row in dates.get_rows(page_size=137)]
    assert len(by_cursor) == len(set(by_cursor)) == total
    by_offset = [row["id"] for page in dates.get_pages(page_size=137) for row in page]
    assert sorted(by_offset) == sorted(by_cursor)
    events = api.resource("studentSchoolAttendanceEvents")
    assert events.get_total_count() == server.district.attendance_count()
    assert len({row["id"] for row in events.get_rows(page_size=37)}) == server.district.attendance_count()


def test_it_steps_change_versions_and_reads_deletes_and_key_changes(server: SandboxServer, api: Any) -> None:
    newest = api.get_newest_change_version()
    events = api.resource("studentSchoolAttendanceEvents")
    window = {"min_change_version": 0, "max_change_version": newest}
    stepped = [row["id"] for row in events.get_rows(page_size=50, step_change_version=True,
                                                    change_version_step_size=250, params=window)]  # fmt: skip
    assert len(stepped) == len(set(stepped)) == server.district.attendance_count()

    deleted = [row for row in server.district.attendance() if row.att_code != "PRE"][:3]
    for row in deleted:
        requests.delete(f"{server.url}/_sandbox/attendance/{row.dcid}", timeout=10).raise_for_status()
    student = server.district.students[4].student_number
    requests.post(
        f"{server.url}/_sandbox/edfi/enrollments/{student}/entryDate",
        json={"entryDate": "2025-08-21"},
        timeout=10,
    ).raise_for_status()
    since = {"min_change_version": newest + 1}
    tombstones = api.resource("studentSchoolAttendanceEvents", get_deletes=True, params=since)
    found = list(tombstones.get_rows(page_size=2))
    assert sorted(entry["keyValues"]["eventDate"] for entry in found) == sorted(
        row.att_date.isoformat() for row in deleted
    )
    assert tombstones.get_total_count() == 3
    key_changes = api.resource("studentSchoolAssociations", get_key_changes=True, params=since)
    [changed] = list(key_changes.get_rows())
    assert changed["newKeyValues"]["studentUniqueId"] == student
    assert changed["newKeyValues"]["entryDate"] == "2025-08-21"
