"""PowerSchool over real HTTP: tokens, PowerQuery paging and arguments, extension-table CRUD and q."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.sandbox.helpers import TIMEOUT, powerschool_headers, roster_headers
from tests.sandbox_year import PINNED_AS_OF
from truancy.sandbox.server import SandboxServer

ATTENDANCE = "/ws/schema/query/com.truancysync.attendance.daily.records"
FLAGS = "/ws/schema/table/u_truancy_flags"


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(students=200, seed=4, as_of=PINNED_AS_OF) as running:
        yield running


@pytest.fixture(scope="module")
def headers(server: SandboxServer) -> dict[str, str]:
    return powerschool_headers(server.url)


def _post(
    server: SandboxServer, path: str, headers: dict[str, str], body: Any = None, **params: int
) -> requests.Response:
    return requests.post(f"{server.url}{path}", headers=headers, json=body, params=params, timeout=TIMEOUT)


def test_token_shape_and_bad_client(server: SandboxServer) -> None:
    good = requests.post(
        f"{server.url}/oauth/access_token",
        auth=("sandbox", "sandbox"),
        data={"grant_type": "client_credentials"},
        timeout=TIMEOUT,
    ).json()
    assert good["token_type"] == "Bearer"
    assert good["expires_in"] == "3600"
    bad = requests.post(
        f"{server.url}/oauth/access_token",
        auth=("sandbox", "nope"),
        data={"grant_type": "client_credentials"},
        timeout=TIMEOUT,
    )
    assert bad.status_code == 401


def test_bearer_required_and_oneroster_token_rejected(server: SandboxServer) -> None:
    assert _post(server, ATTENDANCE, {}).status_code == 401
    assert _post(server, ATTENDANCE, roster_headers(server.url)).status_code == 401


def test_attendance_pages_cover_every_row_in_order(server: SandboxServer, headers: dict[str, str]) -> None:
    count = _post(server, f"{ATTENDANCE}/count", headers).json()["count"]
    assert count == server.district.attendance_count()
    rows: list[dict[str, str]] = []
    page = 1
    while True:
        batch = _post(server, ATTENDANCE, headers, page=page, pagesize=500).json()
        assert batch["name"] == "com.truancysync.attendance.daily.records"
        if not batch["record"]:
            break
        rows += batch["record"]
        page += 1
    assert len(rows) == count
    keys = [(row["whenmodified"], int(row["dcid"])) for row in rows]
    assert keys == sorted(keys)
    assert all(isinstance(value, str) for row in rows for value in row.values())


def test_attendance_row_shape(server: SandboxServer, headers: dict[str, str]) -> None:
    truth = next(row for row in server.district.attendance() if row.minutes is not None)
    rows = _post(
        server,
        ATTENDANCE,
        headers,
        {"start_date": truth.att_date.isoformat(), "end_date": truth.att_date.isoformat()},
        pagesize=1000,
    ).json()["record"]
    row = next(row for row in rows if row["dcid"] == str(truth.dcid))
    student = server.district.student(truth.studentsdcid)
    assert row == {
        "dcid": str(truth.dcid),
        "studentsdcid": str(student.dcid),
        "student_number": student.student_number,
        "schoolid": str(student.schoolid),
        "att_date": truth.att_date.isoformat(),
        "att_code": truth.att_code,
        "att_mode_code": "ATT_ModeDaily",
        "presence_status_cd": "Present",
        "minutes": str(truth.minutes),
        "whenmodified": truth.whenmodified.isoformat(),
    }
    assert {r["att_date"] for r in rows} == {truth.att_date.isoformat()}


def test_modified_since_is_strictly_greater(server: SandboxServer, headers: dict[str, str]) -> None:
    rows = server.district.attendance()
    pivot = rows[len(rows) // 2].whenmodified
    expected = sum(1 for row in rows if row.whenmodified > pivot)
    count = _post(server, f"{ATTENDANCE}/count", headers, {"modified_since": pivot.isoformat()}).json()[
        "count"
    ]
    assert count == expected


def test_page_size_is_capped_and_default_is_100(server: SandboxServer, headers: dict[str, str]) -> None:
    assert len(_post(server, ATTENDANCE, headers).json()["record"]) == 100
    assert len(_post(server, ATTENDANCE, headers, pagesize=5000).json()["record"]) == 1000


def test_codes_and_calendar_queries(server: SandboxServer, headers: dict[str, str]) -> None:
    codes = _post(
        server, "/ws/schema/query/com.truancysync.attendance.codes.table", headers, pagesize=1000
    ).json()["record"]
    a_code = next(code for code in codes if code["att_code"] == "A" and code["schoolid"] == "100")
    assert a_code == {
        "att_code": "A",
        "description": "Absent - Unverified",
        "presence_status_cd": "Absent",
        "calculate_ada_yn": "0",
        "schoolid": "100",
        "yearid": "35",
    }
    path = "/ws/schema/query/com.truancysync.calendar.days.insession"
    total = _post(server, f"{path}/count", headers).json()["count"]
    assert total == sum(len(school.in_session) for school in server.district.schools)
    first = _post(server, path, headers, pagesize=2).json()["record"]
    assert first == [
        {"schoolid": "100", "date_value": "2025-08-18"},
        {"schoolid": "100", "date_value": "2025-08-19"},
    ]


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/ws/schema/query/com.example.nothing", None, 404, "com.example.nothing"),
        (ATTENDANCE, {"modified_since": "yesterday"}, 400, "modified_since"),
        (ATTENDANCE, {"school": "100"}, 400, "school"),
    ],
)
def test_query_errors(
    server: SandboxServer, headers: dict[str, str], path: str, body: Any, status: int, fragment: str
) -> None:
    response = _post(server, path, headers, body)
    assert response.status_code == status
    assert fragment in response.json()["message"]


def _insert(
    server: SandboxServer, headers: dict[str, str], columns: dict[str, Any], table: str = "U_TRUANCY_FLAGS"
) -> requests.Response:
    return _post(server, f"/ws/schema/table/{table}", headers, {"tables": {table.lower(): columns}})


def test_table_crud(server: SandboxServer, headers: dict[str, str]) -> None:
    created = _insert(
        server, headers, {"studentsdcid": 10001, "sync_key": "k-crud", "status": "active", "label": "Truant"}
    )
    result = created.json()["result"]
    assert result["status"] == "SUCCESS"
    assert result["action"] == "INSERT"
    row_id = result["success_message"]["id"]
    assert result["success_message"]["ref"].endswith(f"/{row_id}")
    fetched = requests.get(
        f"{server.url}{FLAGS}/{row_id}", headers=headers, params={"projection": "*"}, timeout=TIMEOUT
    ).json()
    assert fetched["id"] == row_id
    assert fetched["name"] == "u_truancy_flags"
    assert fetched["tables"]["u_truancy_flags"]["studentsdcid"] == "10001"
    assert fetched["tables"]["u_truancy_flags"]["id"] == str(row_id)
    updated = requests.put(
        f"{server.url}{FLAGS}/{row_id}",
        headers=headers,
        json={"tables": {"u_truancy_flags": {"status": "dismissed"}}},
        timeout=TIMEOUT,
    )
    assert updated.json()["result"]["action"] == "UPDATE"
    again = requests.get(f"{server.url}{FLAGS}/{row_id}", headers=headers, timeout=TIMEOUT).json()
    assert again["tables"]["u_truancy_flags"]["status"] == "dismissed"
    assert again["tables"]["u_truancy_flags"]["label"] == "Truant"
    assert (
        requests.delete(f"{server.url}{FLAGS}/{row_id}", headers=headers, timeout=TIMEOUT).status_code == 204
    )
    assert requests.get(f"{server.url}{FLAGS}/{row_id}", headers=headers, timeout=TIMEOUT).status_code == 404


def test_note_text_keeps_any_unicode_up_to_4000_chars(server: SandboxServer, headers: dict[str, str]) -> None:
    text = ("Parent called — llamó la madre; 保护者と面談 😀 <b>&'\"\n" * 80)[:4000]
    row_id = _insert(server, headers, {"studentsdcid": "10002", "note_text": text}, "U_TRUANCY_NOTES").json()[
        "result"
    ]["success_message"]["id"]
    stored = requests.get(
        f"{server.url}/ws/schema/table/u_truancy_notes/{row_id}", headers=headers, timeout=TIMEOUT
    ).json()
    assert stored["tables"]["u_truancy_notes"]["note_text"] == text
    too_long = _insert(server, headers, {"studentsdcid": "10002", "note_text": "x" * 4001}, "U_TRUANCY_NOTES")
    assert too_long.status_code == 400


@pytest.mark.parametrize(
    ("columns", "fragment"),
    [
        ({"studentsdcid": "10001", "colour": "red"}, "colour"),
        ({"studentsdcid": "99999999"}, "studentsdcid"),
        ({"status": "active"}, "studentsdcid"),
        ({"studentsdcid": "10001", "id": "5"}, "read-only"),
    ],
)
def test_bad_writes_are_refused_with_the_column_named(
    server: SandboxServer, headers: dict[str, str], columns: dict[str, str], fragment: str
) -> None:
    before = requests.get(f"{server.url}{FLAGS}/count", headers=headers, timeout=TIMEOUT).json()["count"]
    response = _insert(server, headers, columns)
    assert response.status_code == 400
    assert fragment in response.json()["message"]
    assert (
        requests.get(f"{server.url}{FLAGS}/count", headers=headers, timeout=TIMEOUT).json()["count"] == before
    )


def test_q_filters_and_paging(server: SandboxServer, headers: dict[str, str]) -> None:
    for index in range(5):
        _insert(
            server,
            headers,
            {
                "studentsdcid": str(10100 + index),
                "sync_key": f"q-{index}",
                "status": "active" if index % 2 else "closed",
                "since_date": f"2025-09-0{index + 1}",
            },
        )

    def ids(q: str, **paging: int) -> list[str]:
        params: dict[str, str | int] = {"projection": "*", "q": q, **paging}
        body = requests.get(
            f"{server.url}{FLAGS}",
            headers=headers,
            params=params,
            timeout=TIMEOUT,
        ).json()
        return [record["tables"]["u_truancy_flags"]["sync_key"] for record in body["record"]]

    assert ids("sync_key==q-*") == ["q-0", "q-1", "q-2", "q-3", "q-4"]
    assert ids("sync_key==q-*;status==active") == ["q-1", "q-3"]
    assert ids("sync_key==q-*;status!=active") == ["q-0", "q-2", "q-4"]
    assert ids("sync_key==q-*;since_date=ge=2025-09-03") == ["q-2", "q-3", "q-4"]
    assert ids("sync_key==q-*;studentsdcid=lt=10102") == ["q-0", "q-1"]
    assert ids("sync_key==q-*", page=2, pagesize=2) == ["q-2", "q-3"]
    count = requests.get(
        f"{server.url}{FLAGS}/count",
        headers=headers,
        params={"q": "sync_key==q-*;status==closed"},
        timeout=TIMEOUT,
    )
    assert count.json() == {"count": 3}
    bad = requests.get(f"{server.url}{FLAGS}", headers=headers, params={"q": "shoe==9"}, timeout=TIMEOUT)
    assert bad.status_code == 400
    assert "shoe" in bad.json()["message"]
