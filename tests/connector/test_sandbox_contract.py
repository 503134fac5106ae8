"""Contract tests: the connector against the independent sandbox SIS, over real HTTP.

Faults are injected through the sandbox's control API; every retry wait is recorded, never slept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.sandbox_year import PINNED_AS_OF
from truancy.connector.http import HttpSession, RetryPolicy
from truancy.connector.oauth2 import ClientCredentials
from truancy.connector.oneroster import (
    OneRosterClient,
    OneRosterEnrollment,
    OneRosterOrg,
    OneRosterUser,
    parse_records,
)
from truancy.connector.powerschool import PowerSchoolClient, fiql_eq, powerschool_auth

sandbox_server = pytest.importorskip("truancy.sandbox.server")

ROSTER_ROOT = "/ims/oneroster/rostering/v1p2"
ROSTER_SCOPES = [
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly",
]
ATTENDANCE = "com.truancysync.attendance.daily.records"
DCID_TYPE = "PowerSchool DCID"


@dataclass
class Sandbox:
    url: str
    district: Any
    sleeps: list[float] = field(default_factory=list)

    def control(self, method: str, path: str, json: object = None) -> None:
        requests.request(method, f"{self.url}/_sandbox/{path}", json=json, timeout=10).raise_for_status()

    def policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=4, sleep=self.sleeps.append)

    def oneroster(self, page_size: int = 40) -> OneRosterClient:
        auth = ClientCredentials(
            f"{self.url}/oauth/token", "sandbox", "sandbox", scopes=ROSTER_SCOPES, retry=self.policy()
        )
        session = HttpSession(
            f"{self.url}{ROSTER_ROOT}", auth=auth, retry=self.policy(), name="sis.oneroster"
        )
        return OneRosterClient(session, page_size=page_size)

    def powerschool(self, page_size: int = 100) -> PowerSchoolClient:
        auth = powerschool_auth(self.url, "sandbox", "sandbox")
        session = HttpSession(self.url, auth=auth, retry=self.policy(), name="sis.powerschool")
        return PowerSchoolClient(session, page_size=page_size)


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[str, Any]]:
    with sandbox_server.SandboxServer(students=120, seed=3, as_of=PINNED_AS_OF) as server:
        yield server.url, server.district


@pytest.fixture
def sandbox(running: tuple[str, Any]) -> Iterator[Sandbox]:
    box = Sandbox(*running)
    yield box
    box.control("DELETE", "faults")


def _all(client: OneRosterClient, collection: str) -> list[dict[str, object]]:
    return [record for page in client.iter_pages(collection) for record in page.records]


def test_full_roster_read_matches_the_district(sandbox: Sandbox) -> None:
    client = sandbox.oneroster()

    students, rejected_students = parse_records(OneRosterUser, _all(client, "students"))
    schools, rejected_schools = parse_records(OneRosterOrg, _all(client, "schools"))
    enrollments, rejected_enrollments = parse_records(OneRosterEnrollment, _all(client, "enrollments"))

    assert rejected_students == rejected_schools == rejected_enrollments == []
    assert len(students) == len(sandbox.district.students)
    assert len({s.sourced_id for s in students}) == len(students)
    assert all(s.has_role("student") and s.user_id(DCID_TYPE) for s in students)
    assert len(schools) == len(sandbox.district.schools)
    enrolled = {e.user_sourced_id for e in enrollments if e.role == "student"}
    assert enrolled == {s.sourced_id for s in students}


def test_powerquery_pages_add_up_to_the_count(sandbox: Sandbox) -> None:
    client = sandbox.powerschool(page_size=250)

    pages = list(client.iter_query(ATTENDANCE))

    dcids = [row["dcid"] for page in pages for row in page]
    assert len(pages) > 1
    assert len(dcids) == len(set(dcids)) == client.count_query(ATTENDANCE)


def test_extension_table_round_trip(sandbox: Sandbox) -> None:
    [student, *_] = parse_records(OneRosterUser, _all(sandbox.oneroster(), "students"))[0]
    dcid = student.user_id(DCID_TYPE)
    assert dcid is not None
    client = sandbox.powerschool()
    key = "contract:flag:1"

    row_id = client.insert_row(
        "U_TRUANCY_FLAGS", {"studentsdcid": dcid, "sync_key": key, "flag_type": "truant", "status": "active"}
    )
    client.update_row("U_TRUANCY_FLAGS", row_id, {"status": "dismissed"})
    found = [row for page in client.iter_table("U_TRUANCY_FLAGS", q=fiql_eq("sync_key", key)) for row in page]
    fetched = client.get_row("u_truancy_flags", row_id)
    client.delete_row("U_TRUANCY_FLAGS", row_id)
    client.delete_row("U_TRUANCY_FLAGS", row_id)

    assert [row["id"] for row in found] == [str(row_id)]
    assert fetched is not None
    assert (fetched["studentsdcid"], fetched["status"]) == (dcid, "dismissed")
    assert client.get_row("U_TRUANCY_FLAGS", row_id) is None


def test_a_burst_of_500s_on_powerqueries_is_recovered(sandbox: Sandbox) -> None:
    client = sandbox.powerschool(page_size=1000)
    sandbox.control("POST", "faults", {"path_prefix": "/ws/schema/query", "status": 500, "count": 2})

    rows = [row for page in client.iter_query(ATTENDANCE) for row in page]

    assert len(rows) == client.count_query(ATTENDANCE)
    assert client.session.stats.by_status[500] == 2
    assert client.session.stats.retries == 2


def test_throttling_with_retry_after_is_honoured(sandbox: Sandbox) -> None:
    client = sandbox.oneroster()
    sandbox.control(
        "POST",
        "faults",
        {"path_prefix": f"{ROSTER_ROOT}/schools", "status": 429, "count": 1, "retry_after": 1},
    )

    schools = _all(client, "schools")

    assert len(schools) == len(sandbox.district.schools)
    assert 1.0 in sandbox.sleeps
    assert client.session.stats.throttled == 1


def test_expired_tokens_are_refreshed(sandbox: Sandbox) -> None:
    roster = sandbox.oneroster()
    ps = sandbox.powerschool()
    _all(roster, "schools")
    ps.count_query(ATTENDANCE)

    sandbox.control("POST", "tokens/expire")

    assert len(_all(roster, "schools")) == len(sandbox.district.schools)
    assert ps.count_query(ATTENDANCE) > 0
    assert roster.session.stats.by_status[401] == 1
    assert ps.session.stats.by_status[401] == 1
