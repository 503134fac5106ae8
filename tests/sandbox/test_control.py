"""Test controls over real HTTP: injected faults, token expiry, attendance changes, request counts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.sandbox.helpers import ROSTER, TIMEOUT, code_minor, powerschool_headers, roster_headers
from tests.sandbox_year import PINNED_AS_OF
from truancy.sandbox.server import SandboxServer

ATTENDANCE = "/ws/schema/query/com.truancysync.attendance.daily.records"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(students=60, seed=3, as_of=PINNED_AS_OF) as running:
        yield running


def _control(server: SandboxServer, method: str, path: str, body: object = None) -> requests.Response:
    return requests.request(method, f"{server.url}/_sandbox{path}", json=body, timeout=TIMEOUT)


def test_fault_hits_count_requests_then_clears(server: SandboxServer) -> None:
    headers = powerschool_headers(server.url)
    _control(server, "POST", "/faults", {"path_prefix": "/ws/schema/query", "status": 500, "count": 2})
    statuses = [
        requests.post(f"{server.url}{ATTENDANCE}", headers=headers, timeout=TIMEOUT) for _ in range(3)
    ]
    assert [response.status_code for response in statuses] == [500, 500, 200]
    assert "message" in statuses[0].json()


def test_429_carries_retry_after_and_imsx_body_on_oneroster(server: SandboxServer) -> None:
    headers = roster_headers(server.url)
    _control(server, "POST", "/faults", {"path_prefix": ROSTER, "status": 429, "count": 1, "retry_after": 2})
    response = requests.get(f"{server.url}{ROSTER}/users", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert code_minor(response.json()) == "server_busy"
    assert requests.get(f"{server.url}{ROSTER}/users", headers=headers, timeout=TIMEOUT).status_code == 200


def test_delete_faults_clears_pending_faults(server: SandboxServer) -> None:
    headers = roster_headers(server.url)
    _control(server, "POST", "/faults", {"path_prefix": ROSTER, "status": 503, "count": 5})
    assert _control(server, "DELETE", "/faults").status_code == 204
    assert requests.get(f"{server.url}{ROSTER}/orgs", headers=headers, timeout=TIMEOUT).status_code == 200


def test_bad_fault_request_is_400(server: SandboxServer) -> None:
    assert _control(server, "POST", "/faults", {"status": 500}).status_code == 400


def test_expired_tokens_are_refused_until_refreshed(server: SandboxServer) -> None:
    roster, powerschool = roster_headers(server.url), powerschool_headers(server.url)
    assert _control(server, "POST", "/tokens/expire").status_code == 204
    assert requests.get(f"{server.url}{ROSTER}/orgs", headers=roster, timeout=TIMEOUT).status_code == 401
    assert requests.post(f"{server.url}{ATTENDANCE}", headers=powerschool, timeout=TIMEOUT).status_code == 401
    fresh = powerschool_headers(server.url)
    assert requests.post(f"{server.url}{ATTENDANCE}", headers=fresh, timeout=TIMEOUT).status_code == 200


def test_correction_shows_up_in_an_incremental_read(server: SandboxServer) -> None:
    headers = powerschool_headers(server.url)
    rows = server.district.attendance()
    bookmark = rows[-1].whenmodified.isoformat()
    target = next(row for row in rows if row.att_code == "A")
    response = _control(server, "POST", "/attendance/correct", {"dcid": target.dcid, "att_code": "EX"})
    assert response.status_code == 200
    changed = requests.post(
        f"{server.url}{ATTENDANCE}", headers=headers, json={"modified_since": bookmark}, timeout=TIMEOUT
    ).json()
    assert [(row["dcid"], row["att_code"]) for row in changed["record"]] == [(str(target.dcid), "EX")]


def test_add_and_delete_attendance_rows(server: SandboxServer) -> None:
    student = server.district.students[0]
    taken = {row.att_date for row in server.district.attendance_of(student.dcid)}
    school = server.district.school(student.schoolid)
    free_day = next(day for day in school.in_session if day not in taken and student.enrolled_on(day))
    added = _control(
        server,
        "POST",
        "/attendance",
        {"studentsdcid": student.dcid, "att_date": free_day.isoformat(), "att_code": "UT", "minutes": 31},
    )
    assert added.status_code == 201
    dcid = added.json()["dcid"]
    assert server.district.attendance_row(dcid).minutes == 31
    assert _control(server, "DELETE", f"/attendance/{dcid}").status_code == 204
    assert _control(server, "DELETE", f"/attendance/{dcid}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"studentsdcid": 10001, "att_date": "2025-08-16", "att_code": "A"},
        {"studentsdcid": 1, "att_date": "2025-08-19", "att_code": "A"},
        {"studentsdcid": 10001, "att_date": "2025-08-19", "att_code": "NOPE"},
    ],
)
def test_refused_attendance_changes(server: SandboxServer, body: dict[str, object]) -> None:
    before = server.district.attendance_count()
    response = _control(server, "POST", "/attendance", body)
    assert response.status_code == 400
    assert response.json()["message"]
    assert server.district.attendance_count() == before


def test_stats_count_requests_per_endpoint(server: SandboxServer) -> None:
    headers = roster_headers(server.url)
    _control(server, "DELETE", "/stats")
    for sourced_id in ("stu-10001", "stu-10002"):
        requests.get(f"{server.url}{ROSTER}/users/{sourced_id}", headers=headers, timeout=TIMEOUT)
    requests.get(f"{server.url}{ROSTER}/users", headers=headers, timeout=TIMEOUT)
    stats = _control(server, "GET", "/stats").json()
    assert stats["requests"] == {f"{ROSTER}/users/{{id}}": 2, f"{ROSTER}/users": 1}
    assert stats["total"] == 3
