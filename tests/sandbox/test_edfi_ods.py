"""The sandbox answers as an ODS/API 7.3 does, over real HTTP: paging and its parameter checks,
partitions, change queries, Problem Details, descriptors, ETags and snapshots.

Every expected message and URN is the one Ed-Fi-ODS v7.3.2 writes (the sandbox modules cite the file
and line of each)."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.sandbox_year import PINNED_AS_OF
from truancy.sandbox.server import SandboxServer

DATA = "/edfi/data/v3/ed-fi"
EVENTS = f"{DATA}/studentSchoolAttendanceEvents"
LEA = 255901
INT_MAX = 2**31 - 1
INTERVENTION = {
    "interventionIdentificationCode": "TEST-ODS",
    "educationOrganizationReference": {"educationOrganizationId": LEA},
    "deliveryMethodDescriptor": "uri://ed-fi.org/DeliveryMethodDescriptor#Individual",
    "interventionClassDescriptor": "uri://ed-fi.org/InterventionClassDescriptor#Other",
    "beginDate": "2025-07-01",
}


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(students=120, seed=11, as_of=PINNED_AS_OF) as running:
        yield running


@pytest.fixture(scope="module")
def headers(server: SandboxServer) -> dict[str, str]:
    response = requests.post(
        f"{server.url}/edfi/oauth/token",
        auth=("sandbox", "sandbox"),
        data={"grant_type": "client_credentials"},
        timeout=10,
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def get(server: SandboxServer, headers: dict[str, str], path: str, **params: str) -> requests.Response:
    return requests.get(f"{server.url}{path}", params=params, headers=headers, timeout=30)


def control(server: SandboxServer, method: str, path: str, body: object = None) -> requests.Response:
    response = requests.request(method, f"{server.url}/_sandbox/{path}", json=body, timeout=10)
    response.raise_for_status()
    return response


def decoded(token: str) -> tuple[int, int]:
    low, high = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().split(",")
    return int(low), int(high)


def parameter_error(response: requests.Response) -> str:
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == "urn:ed-fi:api:bad-request:parameter-validation-failed"
    assert problem["title"] == "Parameter Validation Failed"
    [message] = problem["errors"]
    return str(message)


def test_limit_zero_counts_without_items_and_the_default_page_is_500(
    server: SandboxServer, headers: dict[str, str]
) -> None:
    dates = f"{DATA}/calendarDates"  # every weekday of the year in every school: always over 500
    total = sum(
        len(get(server, headers, dates, offset=str(at), limit="100").json()) for at in range(0, 5000, 100)
    )
    counted = get(server, headers, dates, limit="0", totalCount="true")
    assert (counted.status_code, counted.json(), counted.headers["Total-Count"]) == (200, [], str(total))
    assert "Next-Page-Token" not in counted.headers
    assert total > 500
    assert len(get(server, headers, dates).json()) == 500
    assert (
        parameter_error(get(server, headers, dates, limit="501"))
        == "Limit must be a value between 0 and 500."
    )


def test_every_non_empty_page_carries_a_next_page_token(
    server: SandboxServer, headers: dict[str, str]
) -> None:
    first = get(server, headers, EVENTS, offset="0", limit="7")
    records = first.json()
    low, high = decoded(first.headers["Next-Page-Token"])
    assert high == INT_MAX
    following = get(server, headers, EVENTS, pageToken=first.headers["Next-Page-Token"], pageSize="7")
    assert [r["id"] for r in following.json()] == [
        r["id"] for r in get(server, headers, EVENTS, offset="7", limit="7").json()
    ]
    assert low > 0
    assert len({r["id"] for r in records} | {r["id"] for r in following.json()}) == 14
    past_the_end = get(server, headers, EVENTS, offset=str(server.district.attendance_count() + 5))
    assert (past_the_end.json(), "Next-Page-Token" in past_the_end.headers) == ([], False)


def test_cursor_pages_follow_the_token_to_every_record(
    server: SandboxServer, headers: dict[str, str]
) -> None:
    seen: list[str] = []
    token: str | None = get(server, headers, f"{EVENTS}/partitions", number="1").json()["pageTokens"][0]
    while token is not None:
        page = get(server, headers, EVENTS, pageToken=token, pageSize="173")
        seen += [record["id"] for record in page.json()]
        token = page.headers.get("Next-Page-Token")
    assert len(seen) == len(set(seen)) == server.district.attendance_count()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pageSize": "10"}, "PageToken is required when pageSize is specified."),
        ({"pageSize": "10", "offset": "5"}, "Use limit instead of pageSize when using limit/offset paging."),
        (
            {"pageToken": "MSwyMTQ3NDgzNjQ3", "offset": "0"},
            "Both offset and pageToken parameters were provided, but they support alternative paging "
            "approaches and cannot be used together.",
        ),
        (
            {"pageToken": "MSwyMTQ3NDgzNjQ3", "limit": "10"},
            "Use pageSize instead of limit when using cursor paging with pageToken.",
        ),
        (
            {"pageToken": "MSwyMTQ3NDgzNjQ3", "totalCount": "true"},
            "Total count cannot be determined while using cursor paging (when pageToken is specified).",
        ),
        ({"pageToken": "not a token"}, "The page token provided was invalid."),
        ({"pageToken": "MSwyMTQ3NDgzNjQ3", "pageSize": "501"}, "PageSize must be a value between 0 and 500."),
        ({"offset": "-1"}, "Offset cannot be a negative value."),
    ],
)
def test_parameter_errors_say_what_the_ods_says(
    server: SandboxServer, headers: dict[str, str], params: dict[str, str], message: str
) -> None:
    assert parameter_error(get(server, headers, EVENTS, **params)) == message


def test_partitions_number_default_and_empty(server: SandboxServer, headers: dict[str, str]) -> None:
    for number in ("0", "201"):
        message = parameter_error(get(server, headers, f"{EVENTS}/partitions", number=number))
        assert message == "Number of partitions must be between 1 and 200."
    # At least 5 x 500 rows a partition unless small ones are asked for.
    [only] = get(server, headers, f"{EVENTS}/partitions").json()["pageTokens"]
    assert decoded(only)[1] == INT_MAX
    small = get(server, headers, f"{EVENTS}/partitions", allowSmallPartitions="true").json()["pageTokens"]
    assert len(small) == 10
    ranges = [decoded(token) for token in small]
    assert all(high + 1 == next_low for (_, high), (next_low, _) in itertools.pairwise(ranges))
    ids = []
    for token in small:
        ids += [r["id"] for r in get(server, headers, EVENTS, pageToken=token, pageSize="500").json()]
    assert len(ids) == len(set(ids)) == server.district.attendance_count()
    nothing = get(server, headers, f"{EVENTS}/partitions", studentUniqueId="no-such-student")
    assert nothing.json() == {"pageTokens": []}


def test_partitions_honour_filters_and_change_versions(
    server: SandboxServer, headers: dict[str, str]
) -> None:
    student = server.district.students[3].student_number
    [token] = get(server, headers, f"{EVENTS}/partitions", studentUniqueId=student).json()["pageTokens"]
    by_token = get(server, headers, EVENTS, pageToken=token, pageSize="500", studentUniqueId=student).json()
    by_offset = get(server, headers, EVENTS, studentUniqueId=student).json()
    assert [r["id"] for r in by_token] == [r["id"] for r in by_offset]
    newest = get(server, headers, "/edfi/changeQueries/v1/availableChangeVersions").json()[
        "newestChangeVersion"
    ]
    empty = get(server, headers, f"{EVENTS}/partitions", minChangeVersion=str(newest + 1))
    assert empty.json() == {"pageTokens": []}


def test_get_many_reads_in_insertion_order_not_by_change_version(
    server: SandboxServer, headers: dict[str, str]
) -> None:
    before = [r["id"] for r in get(server, headers, f"{DATA}/students", limit="5").json()]
    student = get(server, headers, f"{DATA}/studentSchoolAssociations", limit="1").json()[0]
    control(
        server,
        "POST",
        f"edfi/enrollments/{student['studentReference']['studentUniqueId']}/entryDate",
        {"entryDate": "2025-08-25"},
    )
    after = get(server, headers, f"{DATA}/studentSchoolAssociations", limit="1").json()[0]
    assert after["id"] == student["id"]
    assert after["entryDate"] == "2025-08-25"
    assert [r["id"] for r in get(server, headers, f"{DATA}/students", limit="5").json()] == before


def test_deletes_and_key_changes_count_page_and_collapse(
    server: SandboxServer, headers: dict[str, str]
) -> None:
    changes = "/edfi/changeQueries/v1/availableChangeVersions"
    start = get(server, headers, changes).json()["newestChangeVersion"] + 1
    student = server.district.students[7].student_number
    for day in ("2025-08-20", "2025-08-21", "2025-08-22"):
        control(server, "POST", f"edfi/enrollments/{student}/entryDate", {"entryDate": day})
    rows = [row for row in server.district.attendance() if row.att_code != "PRE"][:3]
    for row in rows:
        control(server, "DELETE", f"attendance/{row.dcid}")
    window = {"minChangeVersion": str(start)}
    keyed = get(server, headers, f"{DATA}/studentSchoolAssociations/keyChanges", totalCount="true", **window)
    [collapsed] = keyed.json()
    assert keyed.headers["Total-Count"] == "1"
    assert collapsed["newKeyValues"]["entryDate"] == "2025-08-22"
    assert collapsed["oldKeyValues"]["entryDate"] != "2025-08-20"
    tombstones = get(server, headers, f"{EVENTS}/deletes", totalCount="true", limit="2", **window)
    assert tombstones.headers["Total-Count"] == "3"
    assert len(tombstones.json()) == 2
    assert {"schoolYear", "sessionName", "eventDate", "studentUniqueId"} <= set(
        tombstones.json()[0]["keyValues"]
    )
    rest = get(server, headers, f"{EVENTS}/deletes", offset="2", **window).json()
    assert len(rest) == 1
    versions = [entry["changeVersion"] for entry in tombstones.json() + rest]
    assert versions == sorted(versions)
    assert get(server, headers, f"{EVENTS}/deletes", limit="0", **window).json() == []
    problem = get(server, headers, f"{EVENTS}/deletes", limit="501").json()
    assert problem["errors"] == ["Limit must be omitted or set to a value between 1 and 500."]


def test_a_re_entered_record_gets_a_new_id_and_hides_its_old_tombstone(
    server: SandboxServer, headers: dict[str, str]
) -> None:
    changes = "/edfi/changeQueries/v1/availableChangeVersions"
    start = get(server, headers, changes).json()["newestChangeVersion"] + 1
    row = next(row for row in server.district.attendance() if row.att_code == "A")
    key = {
        "studentUniqueId": server.district.student(row.studentsdcid).student_number,
        "eventDate": str(row.att_date),
    }
    [before] = get(server, headers, EVENTS, **key).json()
    control(server, "DELETE", f"attendance/{row.dcid}")
    assert [
        t["id"] for t in get(server, headers, f"{EVENTS}/deletes", minChangeVersion=str(start)).json()
    ] == [before["id"]]
    body = {"studentsdcid": row.studentsdcid, "att_date": row.att_date.isoformat(), "att_code": "A"}
    control(server, "POST", "attendance", body)
    [again] = get(server, headers, EVENTS, **key).json()
    assert again["id"] != before["id"]
    assert get(server, headers, f"{EVENTS}/deletes", minChangeVersion=str(start)).json() == []
    # Re-coded back and forth, a record never gets an id it had before.
    seen = {before["id"], again["id"]}
    re_entered = next(
        r
        for r in server.district.attendance()
        if r.studentsdcid == row.studentsdcid and r.att_date == row.att_date
    )
    for code in ("EX", "A"):
        control(server, "POST", "attendance/correct", {"dcid": re_entered.dcid, "att_code": code})
        [current] = get(server, headers, EVENTS, **key).json()
        assert current["id"] not in seen
        seen.add(current["id"])


def test_a_row_stamped_in_the_second_of_a_deleted_one_is_served(
    server: SandboxServer, headers: dict[str, str]
) -> None:
    """The District stamps each change a second after the newest row: a burst of additions runs ahead
    of the clock, so deleting the newest and adding another gives the new row the deleted one's second."""
    student = server.district.students[11]
    taken = {r.att_date for r in server.district.attendance_of(student.dcid)}
    free = [
        day
        for day in server.district.school(student.schoolid).in_session
        if student.enrolled_on(day) and day not in taken
    ]
    for day in free[:10]:
        control(
            server,
            "POST",
            "attendance",
            {"studentsdcid": student.dcid, "att_date": day.isoformat(), "att_code": "A"},
        )
    get(server, headers, EVENTS, limit="1")  # the sandbox ODS sees the burst
    newest = server.district.attendance()[-1]
    control(server, "DELETE", f"attendance/{newest.dcid}")
    added = control(
        server,
        "POST",
        "attendance",
        {"studentsdcid": student.dcid, "att_date": free[10].isoformat(), "att_code": "A"},
    ).json()
    assert added["whenmodified"] == newest.whenmodified.isoformat()
    found = get(
        server, headers, EVENTS, studentUniqueId=student.student_number, eventDate=free[10].isoformat()
    )
    assert len(found.json()) == 1


def problem_of(response: requests.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def test_problem_details_use_the_ods_urns_and_titles(server: SandboxServer, headers: dict[str, str]) -> None:
    url = f"{server.url}{DATA}"
    student = server.district.students[0].student_number
    missing = requests.post(
        f"{url}/studentInterventionAssociations",
        json={
            "interventionReference": {
                "educationOrganizationId": LEA,
                "interventionIdentificationCode": "NONE",
            },
            "studentReference": {"studentUniqueId": student},
        },
        headers=headers,
        timeout=10,
    )
    unresolved = problem_of(missing)
    assert (missing.status_code, unresolved["type"], unresolved["title"]) == (
        409, "urn:ed-fi:api:data-conflict:unresolved-reference", "Unresolved Reference"
    )  # fmt: skip
    assert unresolved["detail"] == "The referenced 'Intervention' item does not exist."
    created = requests.post(f"{url}/interventions", json=INTERVENTION, headers=headers, timeout=10)
    code = {"educationOrganizationId": LEA, "interventionIdentificationCode": "TEST-ODS"}
    requests.post(
        f"{url}/studentInterventionAssociations",
        json={"interventionReference": code, "studentReference": {"studentUniqueId": student}},
        headers=headers,
        timeout=10,
    ).raise_for_status()
    intervention_id = created.headers["Location"].rsplit("/", 1)[-1]
    dependent = requests.delete(f"{url}/interventions/{intervention_id}", headers=headers, timeout=10)
    assert problem_of(dependent)["type"] == "urn:ed-fi:api:data-conflict:dependent-item-exists"
    assert problem_of(dependent)["title"] == "Dependent Item Exists"
    stale = requests.put(
        f"{url}/interventions/{intervention_id}",
        json=INTERVENTION,
        headers={**headers, "If-Match": '"1"'},
        timeout=10,
    )
    assert (stale.status_code, problem_of(stale)["type"]) == (412, "urn:ed-fi:api:optimistic-lock-failed")
    elsewhere = requests.post(
        f"{url}/interventions",
        json={**INTERVENTION, "educationOrganizationReference": {"educationOrganizationId": 999}},
        headers=headers,
        timeout=10,
    )
    denied = problem_of(elsewhere)
    assert (elsewhere.status_code, denied["type"], denied["title"]) == (
        403, "urn:ed-fi:api:security:authorization", "Authorization Denied"
    )  # fmt: skip
    assert denied["errors"][0].startswith("No relationships have been established between the caller's")
    posted_id = requests.post(
        f"{url}/interventions", json={**INTERVENTION, "id": "x"}, headers=headers, timeout=10
    )
    assert problem_of(posted_id)["type"] == "urn:ed-fi:api:bad-request:data-validation-failed"


def test_descriptor_values_must_exist(server: SandboxServer, headers: dict[str, str]) -> None:
    for resource in ("deliveryMethodDescriptors", "interventionClassDescriptors"):
        assert get(server, headers, f"{DATA}/{resource}").json()
    unknown = "uri://ed-fi.org/DeliveryMethodDescriptor#By Carrier Pigeon"
    response = requests.post(
        f"{server.url}{DATA}/interventions",
        json={
            **INTERVENTION,
            "interventionIdentificationCode": "TEST-DESC",
            "deliveryMethodDescriptor": unknown,
        },
        headers=headers,
        timeout=10,
    )
    problem = problem_of(response)
    assert (response.status_code, problem["type"]) == (
        400,
        "urn:ed-fi:api:bad-request:data-validation-failed",
    )
    assert problem["validationErrors"] == {
        "$.deliveryMethodDescriptor": [f"DeliveryMethodDescriptor value '{unknown}' does not exist."]
    }


def test_etags_answer_304_and_put_takes_the_id_from_the_route(
    server: SandboxServer, headers: dict[str, str]
) -> None:
    url = f"{server.url}{DATA}/interventions"
    body = {**INTERVENTION, "interventionIdentificationCode": "TEST-ETAG-304"}
    record_id = (
        requests.post(url, json=body, headers=headers, timeout=10).headers["Location"].rsplit("/", 1)[-1]
    )
    read = requests.get(f"{url}/{record_id}", headers=headers, timeout=10)
    etag = read.headers["ETag"]
    assert (
        requests.get(
            f"{url}/{record_id}", headers={**headers, "If-None-Match": etag.strip('"')}, timeout=10
        ).status_code
        == 304
    )
    put = requests.put(
        f"{url}/{record_id}",
        json={**body, "id": "someone-elses-id", "endDate": "2026-06-30"},
        headers=headers,
        timeout=10,
    )
    assert put.status_code == 204
    changed = requests.get(
        f"{url}/{record_id}", headers={**headers, "If-None-Match": etag.strip('"')}, timeout=10
    )
    assert (changed.status_code, changed.json()["id"], changed.json()["endDate"]) == (
        200,
        record_id,
        "2026-06-30",
    )


def test_a_snapshot_freezes_every_read_and_refuses_writes(
    server: SandboxServer, headers: dict[str, str]
) -> None:
    snap = {**headers, "Use-Snapshot": "true"}
    changes = "/edfi/changeQueries/v1/availableChangeVersions"
    none = get(server, snap, changes)
    assert (none.status_code, problem_of(none)["detail"], problem_of(none)["type"]) == (
        404, "Snapshot not found.", "urn:ed-fi:api:not-found"
    )  # fmt: skip
    frozen_at = control(server, "POST", "edfi/snapshot").json()["newestChangeVersion"]
    try:
        row = next(row for row in server.district.attendance() if row.att_code in {"A", "UNX"})
        student = server.district.student(row.studentsdcid).student_number
        control(server, "DELETE", f"attendance/{row.dcid}")
        live_newest = get(server, headers, changes).json()["newestChangeVersion"]
        assert live_newest > frozen_at
        assert get(server, snap, changes).json()["newestChangeVersion"] == frozen_at
        window = {"minChangeVersion": str(frozen_at + 1)}
        key = {"studentUniqueId": student, "eventDate": row.att_date.isoformat()}
        [kept] = get(server, snap, EVENTS, **key).json()
        assert kept["id"] in [t["id"] for t in get(server, headers, f"{EVENTS}/deletes", **window).json()]
        assert get(server, snap, f"{EVENTS}/deletes", **window).json() == []
        assert get(server, headers, EVENTS, **key).json() == []
        assert get(server, snap, f"{EVENTS}/{kept['id']}").status_code == 200
        assert get(server, headers, f"{EVENTS}/{kept['id']}").status_code == 404
        assert get(server, snap, f"{EVENTS}/partitions", **key).json()["pageTokens"]
        assert get(server, headers, f"{EVENTS}/partitions", **key).json() == {"pageTokens": []}
        refused = requests.post(
            f"{server.url}{DATA}/interventions",
            json={**INTERVENTION, "interventionIdentificationCode": "TEST-SNAP"},
            headers={**headers, "Use-Snapshot": "false"},
            timeout=10,
        )
        assert (refused.status_code, refused.headers["Allow"]) == (405, "GET")
        assert problem_of(refused)["type"] == "urn:ed-fi:api:snapshots:method-not-allowed"
    finally:
        control(server, "DELETE", "edfi/snapshot")


def test_discovery_advertises_only_what_is_served(server: SandboxServer, headers: dict[str, str]) -> None:
    document = requests.get(f"{server.url}/edfi/", timeout=10).json()
    assert (document["version"], document["suite"], document["dataModels"]) == (
        "7.3", "3", [{"name": "Ed-Fi", "version": "5.2.0"}]
    )  # fmt: skip
    urls = document["urls"]
    assert requests.get(urls["dependencies"], timeout=10).status_code == 200
    bearer = headers["Authorization"].removeprefix("Bearer ")
    info = requests.post(urls["oauthTokenIntrospection"], data={"token": bearer}, headers=headers, timeout=10)
    assert (info.status_code, info.json()["active"]) == (200, True)
    other = requests.post(
        urls["oauthTokenIntrospection"], data={"token": "other"}, headers=headers, timeout=10
    )
    assert other.status_code == 400
    assert (
        get(server, headers, urls["dataManagementApi"].removeprefix(server.url) + "ed-fi/schools").status_code
        == 200
    )
    assert (
        get(
            server, headers, urls["changeQueries"].removeprefix(server.url) + "availableChangeVersions"
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "Authorization header is missing."),
        ("Basic c2FuZGJveDpzYW5kYm94", "Unknown Authorization header scheme."),
        ("Bearer ", "Missing Authorization header bearer token value."),
        ("Bearer not-a-token", "Invalid token"),
    ],
)
def test_authentication_failures_say_why(
    server: SandboxServer, authorization: str | None, message: str
) -> None:
    response = get(server, {} if authorization is None else {"Authorization": authorization}, EVENTS)
    problem = problem_of(response)
    assert (response.status_code, problem["type"], problem["title"]) == (
        401, "urn:ed-fi:api:security:authentication", "Authentication Failed"
    )  # fmt: skip
    assert problem["errors"] == [message]
