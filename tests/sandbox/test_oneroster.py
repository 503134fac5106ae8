"""OneRoster 1.2 rostering over real HTTP: tokens, scopes, paging, filter, sort, fields, errors."""

from __future__ import annotations

import pytest
import requests

from tests.sandbox.helpers import ROSTER, TIMEOUT, code_minor, roster_headers

SCOPE = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ENVELOPE = {"schools": "orgs", "terms": "academicSessions", "students": "users", "teachers": "users"}


@pytest.fixture(scope="module")
def headers(sandbox_url: str) -> dict[str, str]:
    return roster_headers(sandbox_url)


def _get(base: str, path: str, headers: dict[str, str], **params: str | int) -> requests.Response:
    return requests.get(f"{base}{ROSTER}{path}", headers=headers, params=params, timeout=TIMEOUT)


def _all(base: str, collection: str, headers: dict[str, str], **params: str | int) -> list[dict[str, object]]:
    """Follow ``Link: rel=next`` to the end, as a client does."""
    records: list[dict[str, object]] = []
    response = _get(base, f"/{collection}", headers, **params)
    while True:
        response.raise_for_status()
        records += response.json()[ENVELOPE.get(collection, collection)]
        if "next" not in response.links:
            return records
        response = requests.get(response.links["next"]["url"], headers=headers, timeout=TIMEOUT)


def test_token_with_form_credentials_and_scope(sandbox_url: str) -> None:
    response = requests.post(
        f"{sandbox_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "sandbox",
            "client_secret": "sandbox",
            "scope": f"{SCOPE}roster-core.readonly",
        },
        timeout=TIMEOUT,
    )
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == f"{SCOPE}roster-core.readonly"


@pytest.mark.parametrize(
    ("auth", "data", "status", "error"),
    [
        (("sandbox", "wrong"), {"grant_type": "client_credentials"}, 401, "invalid_client"),
        (None, {"grant_type": "client_credentials"}, 401, "invalid_client"),
        (
            ("sandbox", "sandbox"),
            {"grant_type": "client_credentials", "scope": f"{SCOPE}gradebook.readonly"},
            400,
            "invalid_scope",
        ),
        (("sandbox", "sandbox"), {"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_token_errors(
    sandbox_url: str, auth: tuple[str, str] | None, data: dict[str, str], status: int, error: str
) -> None:
    response = requests.post(f"{sandbox_url}/oauth/token", auth=auth, data=data, timeout=TIMEOUT)
    assert response.status_code == status
    assert response.json() == {"error": error}


def test_missing_and_bad_bearer_are_401(sandbox_url: str) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = _get(sandbox_url, "/users", headers)
        assert response.status_code == 401
        assert code_minor(response.json()) == "unauthorisedrequest"


def test_demographics_only_token_is_forbidden(sandbox_url: str) -> None:
    headers = roster_headers(sandbox_url, scope=f"{SCOPE}roster-demographics.readonly")
    response = _get(sandbox_url, "/users", headers)
    assert response.status_code == 403
    assert code_minor(response.json()) == "forbidden"


def test_powerschool_token_is_rejected(sandbox_url: str) -> None:
    token = requests.post(
        f"{sandbox_url}/oauth/access_token",
        auth=("sandbox", "sandbox"),
        data={"grant_type": "client_credentials"},
        timeout=TIMEOUT,
    ).json()["access_token"]
    assert _get(sandbox_url, "/users", {"Authorization": f"Bearer {token}"}).status_code == 401


def test_default_page_links_and_total(sandbox_url: str, headers: dict[str, str]) -> None:
    response = _get(sandbox_url, "/users", headers)
    users = response.json()["users"]
    assert len(users) == 100
    total = int(response.headers["X-Total-Count"])
    assert total > 300
    assert [user["sourcedId"] for user in users] == sorted(user["sourcedId"] for user in users)
    assert set(response.links) == {"first", "next", "last"}
    assert response.links["next"]["url"].startswith(f"{sandbox_url}{ROSTER}/users?")
    assert f"offset={(total - 1) // 100 * 100}" in response.links["last"]["url"]


def test_paging_visits_every_record_once(sandbox_url: str, headers: dict[str, str]) -> None:
    records = _all(sandbox_url, "enrollments", headers, limit=137)
    ids = [record["sourcedId"] for record in records]
    assert len(ids) == len(set(ids))
    total = int(_get(sandbox_url, "/enrollments", headers, limit=1).headers["X-Total-Count"])
    assert len(ids) == total


def test_middle_page_has_prev_and_limit_is_capped(sandbox_url: str, headers: dict[str, str]) -> None:
    middle = _get(sandbox_url, "/users", headers, limit=10, offset=20)
    assert "offset=10" in middle.links["prev"]["url"]
    assert len(_get(sandbox_url, "/enrollments", headers, limit=5000).json()["enrollments"]) == 639


def test_filter_on_role_and_date(sandbox_url: str, headers: dict[str, str]) -> None:
    students = _all(sandbox_url, "users", headers, filter="role='student'", limit=1000)
    assert len(students) == 300
    late = _all(
        sandbox_url, "users", headers, filter="role='student' AND dateLastModified>'2025-08-02T00:00:00Z'"
    )
    assert 0 < len(late) < 30
    assert all(str(user["dateLastModified"]) > "2025-08-02" for user in late)


def test_filter_or_contains_and_not_equal(sandbox_url: str, headers: dict[str, str]) -> None:
    either = _all(sandbox_url, "orgs", headers, filter="sourcedId='school-100' OR sourcedId='district-1'")
    assert sorted(str(org["sourcedId"]) for org in either) == ["district-1", "school-100"]
    contains = _all(sandbox_url, "classes", headers, filter="title~'homeroom'")
    assert contains
    assert all(cls["classType"] == "homeroom" for cls in contains)
    not_active = _all(sandbox_url, "enrollments", headers, filter="status!='active'")
    assert not_active == []


def test_filter_on_reference_path(sandbox_url: str, headers: dict[str, str]) -> None:
    enrollments = _all(sandbox_url, "enrollments", headers, filter="user.sourcedId='stu-10001'")
    assert {record["role"] for record in enrollments} == {"student"}
    assert len(enrollments) == 2


@pytest.mark.parametrize(
    ("params", "minor"),
    [
        ({"filter": "shoeSize='9'"}, "invalid_filter_field"),
        ({"filter": "status=active"}, "invaliddata"),
        ({"fields": "sourcedId,shoeSize"}, "invalid_selection_field"),
        ({"sort": "shoeSize"}, "invalid_sort_field"),
        ({"limit": "many"}, "invaliddata"),
    ],
)
def test_bad_query_parameters_are_400(
    sandbox_url: str, headers: dict[str, str], params: dict[str, str], minor: str
) -> None:
    response = _get(sandbox_url, "/users", headers, **params)
    assert response.status_code == 400
    assert code_minor(response.json()) == minor


def test_sort_and_order(sandbox_url: str, headers: dict[str, str]) -> None:
    users = _get(sandbox_url, "/students", headers, sort="familyName", orderBy="desc", limit=1000).json()[
        "users"
    ]
    names = [user["familyName"] for user in users]
    assert names == sorted(names, reverse=True)


def test_fields_projection(sandbox_url: str, headers: dict[str, str]) -> None:
    users = _get(sandbox_url, "/students", headers, fields="sourcedId,identifier", limit=3).json()["users"]
    assert [set(user) for user in users] == [{"sourcedId", "identifier"}] * 3


def test_collections_and_user_shape(sandbox_url: str, headers: dict[str, str]) -> None:
    schools = _all(sandbox_url, "schools", headers)
    assert {school["type"] for school in schools} == {"school"}
    sessions = _all(sandbox_url, "academicSessions", headers)
    assert sorted(str(session["type"]) for session in sessions) == ["schoolYear", "semester", "semester"]
    homerooms = _all(sandbox_url, "classes", headers, filter="classType='homeroom'")
    assert len(homerooms) == 13  # one per grade, KG to 12, across the three schools
    user = _get(sandbox_url, "/users/stu-10001", headers).json()["user"]
    assert user["enabledUser"] == "true"
    assert user["userIds"] == [{"type": "PowerSchool DCID", "identifier": "10001"}]
    assert user["roles"][0]["role"] == "student"
    assert user["roles"][0]["org"]["sourcedId"].startswith("school-")
    assert len(user["identifier"]) == 6
    teachers = _all(sandbox_url, "teachers", headers)
    assert len(teachers) == len(_all(sandbox_url, "classes", headers))


def test_withdrawn_students_enrollment_ends_and_is_modified_on_exit(
    sandbox_url: str, headers: dict[str, str]
) -> None:
    enrollments = _all(sandbox_url, "enrollments", headers, filter="role='student' AND endDate<'2026-06-04'")
    assert enrollments
    for enrollment in enrollments:
        assert str(enrollment["dateLastModified"]).startswith(str(enrollment["endDate"]))


def test_single_read_and_unknown_object(sandbox_url: str, headers: dict[str, str]) -> None:
    assert _get(sandbox_url, "/orgs/district-1", headers).json()["org"]["type"] == "district"
    response = _get(sandbox_url, "/users/stu-99999999", headers)
    assert response.status_code == 404
    assert code_minor(response.json()) == "unknownobject"
