"""Contract: the roster synced through the PowerSchool plugin equals the generator's truth, whatever the
provider does: OneRoster 1.1 (OAuth 1.0a, OAuth 2) and 1.2, every paging quirk, CSV 1.1 and 1.2 packages,
deltas, hard deletes and 429 bursts. Everything runs over real HTTP against the sandbox.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.auth import AuthBase

from tests.sandbox_year import PINNED_AS_OF
from truancy.connector.http import HttpSession, RetryPolicy
from truancy.connector.oauth1 import OAuth1Signer
from truancy.connector.oauth2 import ClientCredentials
from truancy.connector.oneroster import DeltaRead, OneRosterClient
from truancy.plugins.base import ConnectionOptions, Cursor, Rejected
from truancy.plugins.powerschool.plugin import PowerSchoolPlugin
from truancy.sandbox.model import District
from truancy.sandbox.roster import SUBJECTS
from truancy.sandbox.server import SandboxServer

V1P2 = "/ims/oneroster/rostering/v1p2"
V1P1 = "/ims/oneroster/v1p1"
OPTIONS = ConnectionOptions(max_attempts=3)

StudentRow = tuple[str, str | None, str | None, str | None]
EnrollmentRow = tuple[str, str, str, date, date | None]


@dataclass
class Synced:
    students: dict[str, StudentRow] = field(default_factory=dict)
    enrollments: dict[str, EnrollmentRow] = field(default_factory=dict)
    deleted_students: set[str] = field(default_factory=set)
    deleted_enrollments: set[str] = field(default_factory=set)
    rejected: list[Rejected] = field(default_factory=list)
    bookmark: str | None = None


def truth(
    district: District, without: frozenset[str] = frozenset()
) -> tuple[set[StudentRow], set[EnrollmentRow]]:
    students: set[StudentRow] = set()
    enrollments: set[EnrollmentRow] = set()
    for student in district.students:
        if student.sourced_id in without:
            continue
        school = str(student.schoolid)
        students.add((student.sourced_id, str(student.dcid), school, student.grade))
        subject = SUBJECTS[student.dcid % len(SUBJECTS)][0]
        for section in ("hr", subject):
            enrollments.add(
                (
                    f"enr-{student.dcid}-{section}",
                    student.sourced_id,
                    school,
                    student.entry_date,
                    student.exit_date,
                )
            )
    return students, enrollments


def sync(plugin: PowerSchoolPlugin, since: str | None = None) -> Synced:
    synced = Synced()
    for page in plugin.roster_pages(since):
        for student in page.students:
            synced.students[student.student_id] = (
                student.student_id,
                student.sis_ref,
                student.school_id,
                student.grade,
            )
        for enrollment in page.enrollments:
            synced.enrollments[enrollment.source_id] = (
                enrollment.source_id,
                enrollment.student_id,
                enrollment.school_id,
                enrollment.begin,
                enrollment.end,
            )
        synced.deleted_students.update(page.deleted_students)
        synced.deleted_enrollments.update(page.deleted_enrollments)
        synced.rejected.extend(page.rejected)
        synced.bookmark = page.cursor or synced.bookmark
    return synced


def watermark(cursor: str | None) -> datetime:
    """The latest ``dateLastModified`` a roster cursor stands at."""
    found = Cursor.loads(cursor)
    assert found is not None
    return datetime.fromtimestamp(found.position, UTC)


def assert_equals_truth(synced: Synced, district: District, without: frozenset[str] = frozenset()) -> None:
    students, enrollments = truth(district, without)
    assert synced.rejected == []
    assert set(synced.students.values()) == students
    assert set(synced.enrollments.values()) == enrollments


@dataclass
class Sandbox:
    url: str
    district: District

    def control(self, method: str, path: str, json: object = None) -> Any:
        response = requests.request(method, f"{self.url}/_sandbox/{path}", json=json, timeout=30)
        response.raise_for_status()
        return response.json() if response.content and "json" in response.headers["content-type"] else None

    def plugin(self, tmp_path: Path, **oneroster: Any) -> PowerSchoolPlugin:
        config = {
            "oneroster": {"client_id": "sandbox", "client_secret": "sandbox", **oneroster},
            "powerschool": {"base_url": self.url, "client_id": "sandbox", "client_secret": "sandbox"},
        }
        return PowerSchoolPlugin(config, options=OPTIONS, config_dir=tmp_path)

    def rest(self, tmp_path: Path, version: str, auth: str, **extra: Any) -> PowerSchoolPlugin:
        root = V1P1 if version == "1.1" else V1P2
        settings: dict[str, Any] = {
            "version": version,
            "auth": auth,
            "base_url": f"{self.url}{root}",
            **extra,
        }
        if auth == "oauth2":
            settings["token_url"] = f"{self.url}/oauth/token"
        return self.plugin(tmp_path, **settings)

    def package(self, tmp_path: Path, version: str, since: str | None = None) -> Path:
        params = {"version": version, **({"since": since} if since else {})}
        response = requests.get(f"{self.url}/_sandbox/oneroster/package", params=params, timeout=60)
        response.raise_for_status()
        target = tmp_path / f"oneroster-{version}-{'delta' if since else 'bulk'}.zip"
        target.write_bytes(response.content)
        return target


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[str, District]]:
    with SandboxServer(students=120, seed=4, as_of=PINNED_AS_OF) as server:
        yield server.url, server.district


@pytest.fixture
def sandbox(running: tuple[str, District]) -> Iterator[Sandbox]:
    box = Sandbox(*running)
    yield box
    box.control("DELETE", "quirks")


TRANSPORTS = [("1.2", "oauth2"), ("1.1", "oauth1"), ("1.1", "oauth2")]
PAGING_QUIRKS: list[Mapping[str, bool]] = [
    {},
    {"no_total_count": True},
    {"no_link": True},
    {"no_total_count": True, "no_link": True},
]


@pytest.mark.parametrize(("version", "auth"), TRANSPORTS)
@pytest.mark.parametrize("quirks", PAGING_QUIRKS, ids=lambda q: "+".join(q) or "spec")
def test_rest_sync_equals_truth_in_every_paging_mode(
    sandbox: Sandbox, tmp_path: Path, version: str, auth: str, quirks: Mapping[str, bool]
) -> None:
    sandbox.control("POST", "quirks", dict(quirks))
    plugin = sandbox.rest(tmp_path, version, auth, page_size=37)

    assert_equals_truth(sync(plugin), sandbox.district)


@pytest.mark.parametrize(("version", "auth"), TRANSPORTS)
def test_a_server_ignoring_offset_is_read_in_one_page_without_looping(
    sandbox: Sandbox, tmp_path: Path, version: str, auth: str
) -> None:
    sandbox.control("POST", "quirks", {"ignore_offset": True, "no_total_count": True, "no_link": True})

    assert_equals_truth(sync(sandbox.rest(tmp_path, version, auth, page_size=1000)), sandbox.district)


def test_oauth1_with_hmac_sha1_by_setting(sandbox: Sandbox, tmp_path: Path) -> None:
    plugin = sandbox.rest(tmp_path, "1.1", "oauth1", signature_method="HMAC-SHA1")

    assert_equals_truth(sync(plugin), sandbox.district)


@pytest.mark.parametrize(("version", "root"), [("1.1", V1P1), ("1.2", V1P2)])
def test_a_429_burst_is_retried_and_each_oauth1_retry_is_signed_afresh(
    sandbox: Sandbox, version: str, root: str
) -> None:
    sleeps: list[float] = []
    retry = RetryPolicy(max_attempts=4, sleep=sleeps.append)
    auth: AuthBase = (
        OAuth1Signer("sandbox", "sandbox")
        if version == "1.1"
        else ClientCredentials(f"{sandbox.url}/oauth/token", "sandbox", "sandbox", retry=retry)
    )
    client = OneRosterClient(HttpSession(f"{sandbox.url}{root}", auth=auth, retry=retry), page_size=50)
    sandbox.control("POST", "quirks", {"throttle_burst": 3})

    read = DeltaRead(client, "students", None)
    ids = {record["sourcedId"] for page in read.pages() for record in page.records}

    assert ids == {student.sourced_id for student in sandbox.district.students}
    assert client.session.stats.by_status[429] == 3
    assert client.session.stats.by_status[401] == 0, "a replayed nonce would have been refused"
    assert sleeps == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_csv_bulk_package_equals_truth(sandbox: Sandbox, tmp_path: Path, version: str) -> None:
    package = sandbox.package(tmp_path, version)

    assert_equals_truth(sync(sandbox.plugin(tmp_path, csv_package=package.name)), sandbox.district)


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_csv_package_from_a_drop_folder_reads_the_newest(
    sandbox: Sandbox, tmp_path: Path, version: str
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "older.zip").write_bytes(b"not read")
    newest = sandbox.package(drop, version)
    stamp = (drop / "older.zip").stat().st_mtime
    os.utime(newest, (stamp + 60, stamp + 60))

    assert_equals_truth(sync(sandbox.plugin(tmp_path, csv_package="drop")), sandbox.district)
