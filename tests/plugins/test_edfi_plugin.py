"""Contract: the Ed-Fi plugin against the sandbox ODS/API over real HTTP.

A first sync and change-query deltas after corrections, additions, deletions and an enrollment key
change give the generator's truth; a cycle with no change reads only ``availableChangeVersions``;
write-back merges into the SIS's own indicators and reads officer work back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.plugins.edfi_support import LEA, edfi_plugin
from tests.sandbox_year import PINNED_AS_OF
from truancy.connector.errors import FailureType, RowError
from truancy.daemon.ownership import may_retract, needs_update, overridden
from truancy.mappings.codemap import load_code_map
from truancy.mappings.facts import Category
from truancy.mappings.writes import DesiredWrite, WriteKind
from truancy.plugins.base import ConnectionOptions, Cursor, PluginConfigError
from truancy.plugins.edfi import EdFiPlugin
from truancy.sandbox.edfi.schemas import OPENAPI_ENV
from truancy.sandbox.model import District
from truancy.sandbox.server import SandboxServer

REPO = Path(__file__).resolve().parents[2]
POWERSCHOOL_CODES = REPO / "plugins" / "powerschool" / "codes.yaml"
EDFI_CODES = REPO / "plugins" / "edfi" / "codes.yaml"
SUSPENSION = "uri://sandbox.k12.example.org/AttendanceEventCategoryDescriptor#Out-of-School Suspension"

IN_ATTENDANCE = "uri://ed-fi.org/AttendanceEventCategoryDescriptor#In Attendance"
Canonical = set[tuple[str, date, Category, int | None]]


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(students=150, seed=4, as_of=PINNED_AS_OF) as running:
        yield running


@pytest.fixture(scope="module")
def code_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default map plus the district's own suspension descriptor, as a district would edit it."""
    path = tmp_path_factory.mktemp("edfi") / "codes.yaml"
    extra = f'  "{SUSPENSION}": {{category: suspension, description: "Out-of-school suspension"}}\n'
    path.write_text(EDFI_CODES.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def make_plugin(url: str, code_map: Path, **overrides: Any) -> EdFiPlugin:
    return edfi_plugin(url, code_map.parent, code_map=code_map, page_size=200, **overrides)


def truth(district: District) -> Canonical:
    """The district's rows through the PowerSchool default map: what the law counts, code-independently."""
    codes = load_code_map(POWERSCHOOL_CODES)
    found: Canonical = set()
    for row in district.attendance():
        entry = codes.categorize(row.att_code)
        assert entry is not None
        if entry.category is not Category.PRESENT:
            minutes = row.minutes if entry.partial_day else None
            found.add(
                (district.student(row.studentsdcid).student_number, row.att_date, entry.category, minutes)
            )
    return found


class Synced:
    """What the daemon's store would hold: events by source key, and the bookmark."""

    def __init__(self) -> None:
        self.events: dict[str, tuple[str, date, Category, int | None]] = {}
        self.bookmark: str | None = None
        self.unknown: set[str] = set()

    def pull(self, plugin: EdFiPlugin) -> None:
        for page in plugin.attendance_pages(self.bookmark, lambda key: key):
            self.unknown |= set(page.unknown_codes)
            for change in page.changes:
                if change.event is None:
                    self.events.pop(change.source_key, None)
                else:
                    event = change.event
                    self.events[change.source_key] = (
                        event.student_id,
                        event.date,
                        event.category,
                        event.minutes_absent,
                    )
            if page.end:
                self.bookmark = page.cursor

    def canonical(self) -> Canonical:
        return set(self.events.values())


def version(cursor: str | None) -> int:
    """The change version an Ed-Fi cursor stands at."""
    found = Cursor.loads(cursor)
    assert found is not None
    return int(found.position)


def control(server: SandboxServer, method: str, path: str, body: object = None) -> requests.Response:
    response = requests.request(method, f"{server.url}/_sandbox/{path}", json=body, timeout=10)
    response.raise_for_status()
    return response


def test_first_sync_and_deltas_equal_the_generators_truth(server: SandboxServer, code_map: Path) -> None:
    plugin = make_plugin(server.url, code_map)
    synced = Synced()
    synced.pull(plugin)
    assert synced.unknown == set()
    assert synced.canonical() == truth(server.district)

    rows = [row for row in server.district.attendance() if row.att_code in {"A", "ILL", "T"}]
    control(server, "POST", "attendance/correct", {"dcid": rows[0].dcid, "att_code": "EX"})
    control(server, "POST", "attendance/correct", {"dcid": rows[1].dcid, "att_code": "UNX"})
    control(server, "POST", "attendance/correct", {"dcid": rows[2].dcid, "att_code": "PRE"})
    control(server, "DELETE", f"attendance/{rows[3].dcid}")
    student = server.district.students[0]
    free_day = next(
        day
        for day in server.district.school(student.schoolid).in_session
        if student.enrolled_on(day)
        and day not in {row.att_date for row in server.district.attendance_of(student.dcid)}
    )
    control(
        server,
        "POST",
        "attendance",
        {"studentsdcid": student.dcid, "att_date": free_day.isoformat(), "att_code": "UT", "minutes": 31},
    )
    before = synced.bookmark
    synced.pull(plugin)
    assert version(synced.bookmark) > version(before)
    assert synced.canonical() == truth(server.district)
    plugin.close()


def test_a_cycle_with_no_change_reads_only_the_change_window(server: SandboxServer, code_map: Path) -> None:
    plugin = make_plugin(server.url, code_map)
    synced = Synced()
    synced.pull(plugin)
    roster_bookmark = next(page.cursor for page in plugin.roster_pages(None) if page.end)
    requests_before = plugin.session.stats.requests
    synced.pull(plugin)
    roster_pages = list(plugin.roster_pages(roster_bookmark))
    assert plugin.session.stats.requests - requests_before == 2  # availableChangeVersions, once per stream
    assert [(page.end, version(page.cursor)) for page in roster_pages] == [(True, version(roster_bookmark))]
    plugin.close()


def test_an_enrollment_key_change_arrives_in_the_delta(server: SandboxServer, code_map: Path) -> None:
    plugin = make_plugin(server.url, code_map)
    bookmark = next(page.cursor for page in plugin.roster_pages(None) if page.end)
    student = server.district.students[5]
    control(
        server, "POST", f"edfi/enrollments/{student.student_number}/entryDate", {"entryDate": "2025-08-20"}
    )
    pages = list(plugin.roster_pages(bookmark))
    enrollments = [enrollment for page in pages for enrollment in page.enrollments]
    assert [(e.student_id, e.begin) for e in enrollments] == [(student.student_number, date(2025, 8, 20))]
    assert pages[-1].end
    assert version(pages[-1].cursor) > version(bookmark)
    plugin.close()


@pytest.fixture(scope="module")
def strict_server(specs_dir: Path) -> Iterator[SandboxServer]:
    """A sandbox that checks every write against the official DS 5.0 resource schemas."""
    import os

    os.environ[OPENAPI_ENV] = str(specs_dir / "edfi" / "openapi" / "resources-ds-5.0.yaml")
    try:
        with SandboxServer(students=40, seed=5, as_of=PINNED_AS_OF) as running:
            yield running
    finally:
        del os.environ[OPENAPI_ENV]


def seoa(server: SandboxServer, student: str, headers: dict[str, str]) -> dict[str, Any]:
    found = requests.get(
        f"{server.url}/edfi/data/v3/ed-fi/studentEducationOrganizationAssociations",
        params={"studentUniqueId": student, "educationOrganizationId": str(LEA)},
        headers=headers,
        timeout=10,
    ).json()
    assert len(found) == 1
    record: dict[str, Any] = found[0]
    return record


def task_intervention(server: SandboxServer, student: str, sync_key: str) -> str:
    """The intervention of our task's association, as an officer finds it in the ODS to record an event."""
    found = requests.get(
        f"{server.url}/edfi/data/v3/ed-fi/studentInterventionAssociations",
        params={"studentUniqueId": student, "educationOrganizationId": str(LEA)},
        headers=token(server),
        timeout=10,
    ).json()
    codes = [
        str(record["interventionReference"]["interventionIdentificationCode"])
        for record in found
        if f"[truancy-sync {sync_key}" in str(record.get("diagnosticStatement"))
    ]
    assert len(codes) == 1
    return codes[0]


def record_task_event(server: SandboxServer, task: DesiredWrite, reason: str, on: str) -> None:
    """An officer records an intervention attendance event for our task, as they close it in the ODS."""
    student = task.student_id
    posted = requests.post(
        f"{server.url}/edfi/data/v3/ed-fi/studentInterventionAttendanceEvents",
        json={
            "attendanceEventCategoryDescriptor": IN_ATTENDANCE,
            "eventDate": on,
            "attendanceEventReason": reason,
            "interventionReference": {
                "educationOrganizationId": LEA,
                "interventionIdentificationCode": task_intervention(server, student, task.sync_key),
            },
            "studentReference": {"studentUniqueId": student},
        },
        headers=token(server),
        timeout=10,
    )
    assert posted.status_code == 201, posted.text


def token(server: SandboxServer) -> dict[str, str]:
    response = requests.post(
        f"{server.url}/edfi/oauth/token",
        auth=("sandbox", "sandbox"),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


FLAG_FIELDS = {
    "flag_type": "truant", "label": "Truant (Ed. Code 48260)", "citation": "EC 48260", "status": "active",
    "since_date": "2025-10-01", "detail": "3 unexcused absences", "tier": "1",
}  # fmt: skip
NOTE_FIELDS = {
    "note_date": "2025-10-01",
    "category": "case_opened",
    "author": "truancy-sync",
    "note_text": "Opened.",
}
TASK_FIELDS = {
    "task_type": "conference", "title": "Parent conference", "due_date": "2025-10-15", "status": "open",
    "citation": "EC 48262", "detail": "Checklist: invite both parents.",
}  # fmt: skip


def test_write_back_merges_indicators_and_reads_officer_work(
    strict_server: SandboxServer, code_map: Path
) -> None:
    server = strict_server
    headers = token(server)
    student = server.district.students[0].student_number
    own = {"indicatorName": "Homeless", "indicator": "Yes", "indicatorGroup": "McKinney-Vento"}
    posted = requests.post(
        f"{server.url}/edfi/data/v3/ed-fi/studentEducationOrganizationAssociations",
        json={
            "educationOrganizationReference": {"educationOrganizationId": LEA},
            "studentReference": {"studentUniqueId": student},
            "studentIndicators": [own],
        },
        headers=headers,
        timeout=10,
    )
    assert posted.status_code == 201
    plugin = make_plugin(server.url, code_map)
    flag = DesiredWrite.build(WriteKind.FLAG, student, "2025-26", "truant", FLAG_FIELDS)
    task = DesiredWrite.build(WriteKind.TASK, student, "2025-26", "conference", TASK_FIELDS)
    note = DesiredWrite.build(WriteKind.NOTE, student, "2025-26", "history:1", NOTE_FIELDS)
    for write in (flag, task, note):
        plugin.create(write, student)
    names = {item["indicatorName"] for item in seoa(server, student, headers)["studentIndicators"]}
    assert names == {"Homeless", f"truancy-sync flag {flag.sync_key}", f"truancy-sync note {note.sync_key}"}

    rows = {row.kind: row for row in plugin.read_back()}
    assert {kind: row.sync_key for kind, row in rows.items()} == {
        WriteKind.FLAG: flag.sync_key, WriteKind.TASK: task.sync_key, WriteKind.NOTE: note.sync_key,
    }  # fmt: skip
    assert not any(needs_update(rows[write.kind], write, plugin) for write in (flag, task, note))
    assert may_retract(rows[WriteKind.TASK], plugin)
    assert not may_retract(rows[WriteKind.NOTE], plugin)

    # The officer dismisses the flag in the SIS and records the conference as held.
    association = seoa(server, student, headers)
    for item in association["studentIndicators"]:
        if item["indicatorName"].startswith("truancy-sync flag"):
            item["indicator"] = "dismissed"
            item["periods"][0]["endDate"] = "2025-10-09"
    body = {key: value for key, value in association.items() if key not in ("id", "_etag")}
    put = requests.put(
        f"{server.url}/edfi/data/v3/ed-fi/studentEducationOrganizationAssociations/{association['id']}",
        json=body, headers=headers, timeout=10,
    )  # fmt: skip
    assert put.status_code == 204
    record_task_event(server, task, "held", "2025-10-14")
    rows = {row.kind: row for row in plugin.read_back()}
    dismissed = plugin.officer_action(rows[WriteKind.FLAG])
    done = plugin.officer_action(rows[WriteKind.TASK])
    assert dismissed is not None
    assert (dismissed.kind, dismissed.on) == ("flag_dismissed", date(2025, 10, 9))
    assert done is not None
    assert (done.kind, done.on, done.outcome) == ("task_done", date(2025, 10, 14), "held")
    assert overridden(rows[WriteKind.FLAG], flag, plugin) == ("status",)
    assert not may_retract(rows[WriteKind.FLAG], plugin)

    # A new label is written; the officer's dismissal and the SIS's own indicator stay.
    relabelled = DesiredWrite(
        WriteKind.FLAG, flag.sync_key, student, {**FLAG_FIELDS, "label": "Habitual truant"}
    )
    assert needs_update(rows[WriteKind.FLAG], relabelled, plugin)
    plugin.update(rows[WriteKind.FLAG], relabelled)
    indicators = {item["indicatorName"]: item for item in seoa(server, student, headers)["studentIndicators"]}
    ours = indicators[f"truancy-sync flag {flag.sync_key}"]
    assert (ours["indicatorGroup"], ours["indicator"]) == ("Habitual truant", "dismissed")
    assert ours["periods"] == [{"beginDate": "2025-10-01", "endDate": "2025-10-09"}]
    assert indicators["Homeless"] == own

    plugin.delete(rows[WriteKind.NOTE])
    names = {item["indicatorName"] for item in seoa(server, student, headers)["studentIndicators"]}
    assert names == {"Homeless", f"truancy-sync flag {flag.sync_key}"}
    plugin.close()


def test_an_organization_the_key_cannot_reach_refuses_the_row_as_a_configuration_failure(
    strict_server: SandboxServer, code_map: Path
) -> None:
    plugin = make_plugin(strict_server.url, code_map, education_organization_id=999)
    flag = DesiredWrite.build(WriteKind.FLAG, "300001", "2025-26", "truant", FLAG_FIELDS)
    with pytest.raises(RowError, match="no relationship") as raised:
        plugin.create(flag, strict_server.district.students[0].student_number)
    assert raised.value.failure is FailureType.CONFIGURATION
    assert strict_server.district.students[0].student_number not in str(raised.value)
    plugin.close()


def test_settings_errors_name_the_key(tmp_path: Path) -> None:
    settings = {
        "edfi": {
            "base_url": "http://127.0.0.1:9",
            "client_id": "x",
            "client_secret": "y",
            "school_year": 2026,
        }
    }
    with pytest.raises(PluginConfigError, match=r"sis\.edfi\.education_organization_id"):
        EdFiPlugin(settings, options=ConnectionOptions(), config_dir=tmp_path)
