"""The Ed-Fi plugin against what a real ODS/API 7.3 does and the old sandbox hid, over real HTTP:

- a host with a snapshot: bookmarks and pages come from the same (snapshot) database, so a change
  made after the snapshot is read once the next snapshot has it, and write-back merges into live data;
- a record deleted and entered again gets a new id and ``/deletes`` leaves its tombstone out, so
  events are stored by natural key and nothing of the first record stays behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.plugins.test_edfi_plugin import FLAG_FIELDS, NOTE_FIELDS, Synced, control, make_plugin, truth
from tests.sandbox_year import PINNED_AS_OF
from truancy.mappings.facts import Category
from truancy.mappings.writes import DesiredWrite, WriteKind
from truancy.sandbox.server import SandboxServer

EDFI_CODES = Path(__file__).resolve().parents[2] / "plugins" / "edfi" / "codes.yaml"
SUSPENSION = "uri://sandbox.k12.example.org/AttendanceEventCategoryDescriptor#Out-of-School Suspension"
LEA = 255901


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A district of its own per test: snapshots and deletions change it."""
    with SandboxServer(students=80, seed=9, as_of=PINNED_AS_OF) as running:
        yield running


@pytest.fixture
def codes(tmp_path: Path) -> Path:
    path = tmp_path / "codes.yaml"
    extra = f'  "{SUSPENSION}": {{category: suspension, description: "Out-of-school suspension"}}\n'
    path.write_text(EDFI_CODES.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def token(server: SandboxServer) -> dict[str, str]:
    response = requests.post(
        f"{server.url}/edfi/oauth/token",
        auth=("sandbox", "sandbox"),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def plugin_for(server: SandboxServer, codes: Path) -> Any:
    """The plugin set to the school year the sandbox serves (the sandbox's year follows its today)."""
    [session] = requests.get(
        f"{server.url}/edfi/data/v3/ed-fi/sessions", params={"limit": "1"}, headers=token(server), timeout=10
    ).json()
    return make_plugin(server.url, codes, school_year=session["schoolYearTypeReference"]["schoolYear"])


def free_day(server: SandboxServer, student_index: int) -> tuple[int, date]:
    student = server.district.students[student_index]
    taken = {row.att_date for row in server.district.attendance_of(student.dcid)}
    day = next(
        day
        for day in server.district.school(student.schoolid).in_session
        if student.enrolled_on(day) and day not in taken
    )
    return student.dcid, day


def absences_on(synced: Synced, student: str, day: date) -> list[Any]:
    return [event for event in synced.events.values() if event[0] == student and event[1] == day]


def test_an_absence_entered_after_the_snapshot_is_read_with_the_next_snapshot(
    server: SandboxServer, codes: Path
) -> None:
    plugin = plugin_for(server, codes)
    control(server, "POST", "edfi/snapshot")
    dcid, day = free_day(server, 2)
    student = server.district.student(dcid).student_number
    control(
        server, "POST", "attendance", {"studentsdcid": dcid, "att_date": day.isoformat(), "att_code": "A"}
    )
    synced = Synced()
    synced.pull(plugin)
    assert absences_on(synced, student, day) == []  # the snapshot predates it
    control(server, "POST", "edfi/snapshot")  # the host's next snapshot
    synced.pull(plugin)
    assert absences_on(synced, student, day) == [(student, day, Category.UNEXCUSED, None)]
    assert synced.canonical() == truth(server.district)
    plugin.close()


def test_a_flag_survives_a_note_written_after_a_snapshot(server: SandboxServer, codes: Path) -> None:
    control(server, "POST", "edfi/snapshot")
    plugin = plugin_for(server, codes)
    student = server.district.students[0].student_number
    flag = DesiredWrite.build(WriteKind.FLAG, student, "2025-26", "truant", FLAG_FIELDS)
    note = DesiredWrite.build(WriteKind.NOTE, student, "2025-26", "history:1", NOTE_FIELDS)
    plugin.create(flag, student)  # the association is new: the snapshot has none
    plugin.create(note, student)
    [association] = requests.get(
        f"{server.url}/edfi/data/v3/ed-fi/studentEducationOrganizationAssociations",
        params={"studentUniqueId": student, "educationOrganizationId": str(LEA)},
        headers=token(server),
        timeout=10,
    ).json()
    names = {indicator["indicatorName"] for indicator in association["studentIndicators"]}
    assert names == {f"truancy-sync flag {flag.sync_key}", f"truancy-sync note {note.sync_key}"}
    rows = {row.kind: row for row in plugin.read_back()}
    assert set(rows) == {WriteKind.FLAG, WriteKind.NOTE}
    plugin.close()


def test_an_absence_deleted_re_entered_then_marked_present_leaves_no_phantom(
    server: SandboxServer, codes: Path
) -> None:
    plugin = plugin_for(server, codes)
    synced = Synced()
    synced.pull(plugin)
    row = next(row for row in server.district.attendance() if row.att_code == "A")
    student = server.district.student(row.studentsdcid).student_number
    assert len(absences_on(synced, student, row.att_date)) == 1
    control(server, "DELETE", f"attendance/{row.dcid}")
    entered = control(
        server,
        "POST",
        "attendance",
        {"studentsdcid": row.studentsdcid, "att_date": row.att_date.isoformat(), "att_code": "A"},
    ).json()
    synced.pull(plugin)
    assert len(absences_on(synced, student, row.att_date)) == 1
    control(server, "POST", "attendance/correct", {"dcid": entered["dcid"], "att_code": "PRE"})
    synced.pull(plugin)
    assert absences_on(synced, student, row.att_date) == []
    assert synced.canonical() == truth(server.district)
    plugin.close()


def test_an_enrollment_re_entered_or_re_dated_stays_one_enrollment(
    server: SandboxServer, codes: Path
) -> None:
    """The store's enrollments, as the daemon applies roster pages: by source id."""
    plugin = plugin_for(server, codes)
    stored: dict[str, tuple[str, date]] = {}
    cursor: str | None = None

    def pull() -> None:
        nonlocal cursor
        for page in plugin.roster_pages(cursor):
            for gone in page.deleted_enrollments:
                stored.pop(gone, None)
            stored.update({e.source_id: (e.student_id, e.begin) for e in page.enrollments})
            if page.end:
                cursor = page.cursor

    pull()
    student = server.district.students[6].student_number
    control(server, "POST", f"edfi/enrollments/{student}/reenter")
    pull()
    assert [begin for who, begin in stored.values() if who == student] == [
        server.district.students[6].entry_date
    ]
    control(server, "POST", f"edfi/enrollments/{student}/entryDate", {"entryDate": "2025-08-27"})
    pull()
    assert [begin for who, begin in stored.values() if who == student] == [date(2025, 8, 27)]
    plugin.close()
