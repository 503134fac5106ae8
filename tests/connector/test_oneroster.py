"""OneRoster paging, filters, imsx parsing and record quarantine against a loopback provider."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from truancy.connector.errors import HttpStatusError, ProtocolError
from truancy.connector.http import HttpSession, RetryPolicy
from truancy.connector.oneroster import (
    ImsxStatus,
    OneRosterAcademicSession,
    OneRosterClass,
    OneRosterClient,
    OneRosterEnrollment,
    OneRosterOrg,
    OneRosterUser,
    modified_since_filter,
    parse_imsx,
    parse_records,
    sourced_id_hash,
)

ROOT = "/ims/oneroster/rostering/v1p2"
USERS = [{"sourcedId": f"u{index}"} for index in range(7)]


def provider(
    *, total: bool, link: bool, honour_offset: bool = True, envelope: str = "users"
) -> Callable[[Request], Response]:
    """A provider serving USERS with the chosen paging headers."""

    def handle(request: Request) -> Response:
        limit = int(request.args.get("limit", 100))
        offset = int(request.args.get("offset", 0)) if honour_offset else 0
        page = USERS[offset : offset + limit]
        headers: dict[str, str] = {}
        if total:
            headers["X-Total-Count"] = str(len(USERS))
        if link:
            base = request.base_url
            rels = [f'<{base}?{urlencode({"limit": limit, "offset": 0})}>; rel="first"']
            if offset + limit < len(USERS):
                rels.append(f'<{base}?{urlencode({"limit": limit, "offset": offset + limit})}>; rel="next"')
            headers["Link"] = ", ".join(rels)
        return Response(json.dumps({envelope: page}), headers=headers, content_type="application/json")

    return handle


def client(httpserver: HTTPServer, page_size: int = 3) -> OneRosterClient:
    session = HttpSession(httpserver.url_for(ROOT), retry=RetryPolicy(max_attempts=1))
    return OneRosterClient(session, page_size=page_size)


@pytest.mark.parametrize(
    ("total", "link"), [(True, False), (False, True), (True, True), (False, False)], ids=str
)
def test_given_any_paging_headers_when_iterating_then_every_record_once(
    httpserver: HTTPServer, total: bool, link: bool
) -> None:
    httpserver.expect_request(f"{ROOT}/users").respond_with_handler(provider(total=total, link=link))

    pages = list(client(httpserver).iter_pages("users"))

    assert [record["sourcedId"] for page in pages for record in page.records] == [
        u["sourcedId"] for u in USERS
    ]
    assert [page.offset for page in pages] == [0, 3, 6]
    assert len(httpserver.log) == 3


def test_given_an_exact_multiple_without_headers_when_iterating_then_stops_on_the_empty_page(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(f"{ROOT}/users").respond_with_handler(provider(total=False, link=False))

    pages = list(client(httpserver, page_size=7).iter_pages("users"))

    assert [len(page.records) for page in pages] == [7]
    assert len(httpserver.log) == 2


def test_given_a_server_ignoring_offset_when_iterating_then_stops_after_the_repeat(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(f"{ROOT}/users").respond_with_handler(
        provider(total=True, link=False, honour_offset=False)
    )

    pages = list(client(httpserver).iter_pages("users"))

    assert len(pages) == 1
    assert len(httpserver.log) == 2


def test_given_schools_when_iterating_then_the_orgs_envelope_is_discovered(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{ROOT}/schools").respond_with_handler(
        provider(total=True, link=False, envelope="orgs")
    )

    assert sum(len(page.records) for page in client(httpserver, page_size=5).iter_pages("schools")) == 7


def test_given_filter_fields_and_sort_when_iterating_then_sent_url_encoded(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{ROOT}/users").respond_with_json({"users": []})
    since = modified_since_filter(datetime(2026, 1, 1, tzinfo=UTC))

    list(
        client(httpserver).iter_pages(
            "users", filter=f"{since} AND status='active'", fields=["sourcedId", "status"], sort="sourcedId"
        )
    )

    request = httpserver.log[0][0]
    assert request.args["filter"] == "dateLastModified>'2026-01-01T00:00:00.000Z' AND status='active'"
    assert request.args["fields"] == "sourcedId,status"
    assert request.args["sort"] == "sourcedId"
    raw_query = request.query_string.decode()
    assert "'" not in raw_query
    assert ">" not in raw_query


def test_modified_since_filter_converts_to_utc_with_milliseconds() -> None:
    pacific = timezone(timedelta(hours=-8))

    assert modified_since_filter(datetime(2025, 12, 31, 16, 0, 0, 123456, tzinfo=pacific)) == (
        "dateLastModified>'2026-01-01T00:00:00.123Z'"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        modified_since_filter(datetime(2026, 1, 1))


def test_given_a_link_to_another_host_when_iterating_then_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request(f"{ROOT}/users").respond_with_json(
        {"users": USERS[:3]}, headers={"Link": '<http://evil.example/users?offset=3>; rel="next"'}
    )

    with pytest.raises(ProtocolError, match="another origin"):
        list(client(httpserver).iter_pages("users"))


@pytest.mark.parametrize(
    "body",
    [[1, 2], {"users": [1]}, {"users": [], "orgs": []}, {"meta": 1}],
    ids=["array", "non-objects", "ambiguous", "no-array"],
)
def test_given_a_malformed_envelope_when_iterating_then_protocol_error_names_the_endpoint(
    httpserver: HTTPServer, body: Any
) -> None:
    httpserver.expect_request(f"{ROOT}/enrollments").respond_with_json(body)

    with pytest.raises(ProtocolError, match=f"{ROOT}/enrollments"):
        list(client(httpserver).iter_pages("enrollments"))


def test_given_an_invalid_filter_field_when_iterating_then_status_error_with_imsx_minor(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(f"{ROOT}/users").respond_with_json(
        {
            "imsx_codeMajor": "failure",
            "imsx_severity": "error",
            "imsx_description": "Unknown filter field",
            "imsx_CodeMinor": {
                "imsx_codeMinorField": [
                    {"imsx_codeMinorFieldName": "x", "imsx_codeMinorFieldValue": "invalid_filter_field"}
                ]
            },
        },
        status=400,
    )

    with pytest.raises(HttpStatusError, match="invalid_filter_field: Unknown filter field") as caught:
        list(client(httpserver).iter_pages("users", filter="bogus='1'"))

    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {
                "imsx_codeMajor": "failure",
                "imsx_severity": "error",
                "imsx_description": "gone",
                "imsx_CodeMinor": {
                    "imsx_codeMinorField": [
                        {
                            "imsx_codeMinorFieldName": "TargetEndSystem",
                            "imsx_codeMinorFieldValue": "unknownobject",
                        }
                    ]
                },
            },
            ImsxStatus("failure", "error", "unknownobject", "gone"),
        ),
        (
            {
                "imsx_codemajor": "failure",
                "imsx_severity": "error",
                "imsx_codeMinor": {"imsx_codeMinorField": {"imsx_codeMinorFieldValue": "forbidden"}},
            },
            ImsxStatus("failure", "error", "forbidden", None),
        ),
        (
            {"statusInfoSet": [{"imsx_codeMajor": "failure", "imsx_severity": "error"}]},
            ImsxStatus("failure", "error", None, None),
        ),
        (
            {"imsx_StatusInfo": {"imsx_codeMajor": "unsupported", "imsx_CodeMinor": "server_busy"}},
            ImsxStatus("unsupported", None, "server_busy", None),
        ),
        ({"message": "not imsx"}, None),
        ([1], None),
    ],
    ids=["spec", "lowercase-keys-single-field", "statusInfoSet", "wrapped-string-minor", "other", "array"],
)
def test_parse_imsx_accepts_the_shapes_providers_send(payload: Any, expected: ImsxStatus | None) -> None:
    assert parse_imsx(payload) == expected


MODIFIED = "2025-08-01T12:00:00.000Z"


def test_given_a_1p2_user_when_parsed_then_roles_ids_and_enabled_are_typed() -> None:
    raw = {
        "sourcedId": "stu-10001",
        "status": "active",
        "dateLastModified": MODIFIED,
        "enabledUser": "true",
        "givenName": "Ana",
        "familyName": "O'Neil",
        "birthDate": "2012-03-04",
        "identifier": "482913",
        "roles": [
            {
                "roleType": "primary",
                "role": "student",
                "org": {"href": "h", "sourcedId": "school-100", "type": "org"},
            }
        ],
        "userIds": [{"type": "PowerSchool DCID", "identifier": "10001"}],
        "primaryOrg": {"href": "h", "sourcedId": "school-100", "type": "org"},
        "grades": ["07"],
    }

    [user], rejected = parse_records(OneRosterUser, [raw])

    assert rejected == []
    assert user.enabled_user is True
    assert user.has_role("student")
    assert user.roles[0].org_sourced_id == "school-100"
    assert user.user_id("powerschool dcid") == "10001"
    assert user.primary_org_sourced_id == "school-100"
    assert user.date_last_modified == datetime(2025, 8, 1, 12, tzinfo=UTC)
    for unmodelled in ("Ana", "O'Neil", "2012"):
        assert unmodelled not in repr(user)


def test_given_a_1p1_user_when_parsed_then_role_and_orgs_become_roles() -> None:
    raw = {
        "sourcedId": "t1",
        "status": "inactive",
        "dateLastModified": "2025-08-01T12:00:00",
        "enabledUser": False,
        "role": "teacher",
        "orgs": [{"sourcedId": "school-100"}, {"sourcedId": "school-200"}],
    }

    [user], _ = parse_records(OneRosterUser, [raw])

    assert [(r.role, r.role_type, r.org_sourced_id) for r in user.roles] == [
        ("teacher", "primary", "school-100"),
        ("teacher", "secondary", "school-200"),
    ]
    assert user.is_deleted
    assert user.date_last_modified.tzinfo is UTC


def test_given_a_page_with_malformed_records_when_parsed_then_they_are_quarantined_without_values() -> None:
    good = {
        "sourcedId": "enr-1",
        "status": "active",
        "dateLastModified": MODIFIED,
        "user": {"sourcedId": "stu-10001"},
        "class": {"sourcedId": "class-1"},
        "school": {"sourcedId": "school-100"},
        "role": "student",
        "beginDate": "2025-08-18",
        "endDate": "2026-06-04",
    }
    bad_date = {**good, "sourcedId": "enr-2", "beginDate": "18/08/2025"}
    bad_status = {**good, "sourcedId": "enr-3", "status": "archived-by-Jane"}

    accepted, rejected = parse_records(OneRosterEnrollment, [good, bad_date, "junk", bad_status])

    assert [e.sourced_id for e in accepted] == ["enr-1"]
    assert accepted[0].begin_date == date(2025, 8, 18)
    assert accepted[0].user_sourced_id == "stu-10001"
    assert [(r.index, r.sourced_id_hash) for r in rejected] == [
        (1, sourced_id_hash("enr-2")),
        (2, None),
        (3, sourced_id_hash("enr-3")),
    ]
    assert rejected[0].reason.startswith("beginDate:")
    reasons = " ".join(r.reason for r in rejected)
    for value in ("18/08/2025", "Jane", "enr-"):
        assert value not in reasons


def test_given_orgs_classes_and_sessions_when_parsed_then_refs_become_sourced_ids() -> None:
    [org], _ = parse_records(
        OneRosterOrg,
        [
            {
                "sourcedId": "school-100",
                "status": "active",
                "dateLastModified": MODIFIED,
                "name": "Elm",
                "type": "school",
                "parent": {"sourcedId": "district-1"},
            }
        ],
    )
    [klass], _ = parse_records(
        OneRosterClass,
        [
            {
                "sourcedId": "c1",
                "status": "active",
                "dateLastModified": MODIFIED,
                "title": "HR 7",
                "classType": "homeroom",
                "school": {"sourcedId": "school-100"},
                "terms": [{"sourcedId": "t1"}, {"sourcedId": "t2"}],
            }
        ],
    )
    [session], _ = parse_records(
        OneRosterAcademicSession,
        [
            {
                "sourcedId": "2025-26",
                "status": "active",
                "dateLastModified": MODIFIED,
                "type": "schoolYear",
                "startDate": "2025-08-18",
                "endDate": "2026-06-04",
                "schoolYear": 2026,
            }
        ],
    )

    assert org.parent_sourced_id == "district-1"
    assert klass.school_sourced_id == "school-100"
    assert klass.term_sourced_ids == ("t1", "t2")
    assert session.school_year == "2026"
    assert session.end_date == date(2026, 6, 4)


def test_null_fields_read_as_absent() -> None:
    """Ed-Fi's OneRoster service sends nulls the spec says to leave out; they must not quarantine a user."""
    raw = {
        "sourcedId": "staff-1",
        "status": "active",
        "dateLastModified": "2025-08-01T00:00:00Z",
        "enabledUser": "true",
        "roles": [{"roleType": "primary", "role": "teacher", "org": {"sourcedId": "school-100"}}],
        "grades": None,
        "userIds": None,
        "identifier": None,
    }
    users, rejected = parse_records(OneRosterUser, [raw])
    assert rejected == []
    assert users[0].grades == ()
    assert users[0].user_ids == ()
