"""Roster changes over real HTTP: deltas read only what changed, deletions in every form, CSV deltas and
bad CSV rows. Each test starts its own small sandbox, because the tests change its roster.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connector.test_oneroster_contract import Sandbox, assert_equals_truth, sync, watermark
from tests.sandbox_year import PINNED_AS_OF
from truancy.connector.oneroster import modified_since_filter
from truancy.plugins.oneroster import ROSTER_WATERMARK_OVERLAP
from truancy.plugins.powerschool.plugin import PowerSchoolPlugin
from truancy.sandbox.server import SandboxServer


def in_overlap(plugin: PowerSchoolPlugin, bookmark: str | None) -> dict[str, set[str]]:
    """Records a delta re-reads on purpose: those stamped within the overlap window before the bookmark."""
    since = modified_since_filter(watermark(bookmark) - ROSTER_WATERMARK_OVERLAP)
    return {
        collection: {
            record["sourcedId"]
            for page in plugin.roster_source.pages.iter_pages(collection, filter=since)
            for record in page.records
        }
        for collection in ("students", "enrollments")
    }


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with SandboxServer(students=60, seed=5, as_of=PINNED_AS_OF) as server:
        yield Sandbox(server.url, server.district)


@pytest.mark.parametrize(("version", "auth"), [("1.2", "oauth2"), ("1.1", "oauth1")])
def test_a_delta_reads_only_the_changed_records(
    sandbox: Sandbox, tmp_path: Path, version: str, auth: str
) -> None:
    plugin = sandbox.rest(tmp_path, version, auth, page_size=25)
    first = sync(plugin)
    overlap = in_overlap(plugin, first.bookmark)
    touched = sandbox.control("POST", "oneroster/touch", {"collection": "users", "every": 10})["touched"]

    delta = sync(plugin, first.bookmark)

    changed_students = {sourced_id for sourced_id in touched if sourced_id.startswith("stu-")}
    assert set(delta.students) == changed_students | overlap["students"]
    assert set(delta.enrollments) == overlap["enrollments"]
    assert len(delta.students) < len(first.students) / 2
    assert watermark(delta.bookmark) > watermark(first.bookmark)
    assert set(sync(plugin, delta.bookmark).students) == changed_students


@pytest.mark.parametrize(("version", "status"), [("1.2", "tobedeleted"), ("1.1", "inactive")])
def test_a_withdrawn_student_arrives_as_deletions_in_the_delta(
    sandbox: Sandbox, tmp_path: Path, version: str, status: str
) -> None:
    plugin = sandbox.rest(tmp_path, version, "oauth2" if version == "1.2" else "oauth1")
    first = sync(plugin)
    overlap = in_overlap(plugin, first.bookmark)
    student = sandbox.district.students[3]
    sandbox.control("POST", "oneroster/withdraw", {"sourcedId": student.sourced_id, "status": status})

    delta = sync(plugin, first.bookmark)

    assert delta.deleted_students == {student.sourced_id}
    assert delta.deleted_enrollments == {
        e for e in first.enrollments if first.enrollments[e][1] == student.sourced_id
    }
    assert set(delta.students) == overlap["students"] - {student.sourced_id}


def test_a_hard_delete_is_invisible_to_a_delta_and_missing_from_a_full_reconcile(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    plugin = sandbox.rest(tmp_path, "1.2", "oauth2")
    first = sync(plugin)
    student = sandbox.district.students[7]
    assert student.sourced_id in first.students
    sandbox.control("POST", "quirks", {"hard_deletes": True})
    sandbox.control("POST", "oneroster/withdraw", {"sourcedId": student.sourced_id})

    delta = sync(plugin, first.bookmark)
    reconcile = sync(plugin)

    assert delta.deleted_students == set()
    assert student.sourced_id not in delta.students
    assert_equals_truth(reconcile, sandbox.district, without=frozenset({student.sourced_id}))


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_a_csv_delta_package_carries_changes_and_deletions(
    sandbox: Sandbox, tmp_path: Path, version: str
) -> None:
    bulk = sync(sandbox.plugin(tmp_path, csv_package=str(sandbox.package(tmp_path, version))))
    since = watermark(bulk.bookmark).isoformat()
    touched = sandbox.control("POST", "oneroster/touch", {"collection": "students", "every": 20})["touched"]
    withdrawn = sandbox.district.students[1].sourced_id
    sandbox.control("POST", "oneroster/withdraw", {"sourcedId": withdrawn})
    package = sandbox.package(tmp_path, version, since=since)

    with zipfile.ZipFile(package) as archive:
        manifest = archive.read("manifest.csv").decode()
    delta = sync(sandbox.plugin(tmp_path, csv_package=str(package)))

    assert "file.users,delta" in manifest
    assert "file.enrollments,delta" in manifest
    assert set(delta.students) == set(touched) - {withdrawn}
    assert delta.deleted_students == {withdrawn}
    assert delta.deleted_enrollments == {e for e in bulk.enrollments if bulk.enrollments[e][1] == withdrawn}
    assert delta.rejected == []


def test_bad_csv_rows_are_reported_with_file_line_and_reason_while_good_rows_load(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    source = sandbox.package(tmp_path, "1.1")
    folder = tmp_path / "package"
    with zipfile.ZipFile(source) as archive:
        archive.extractall(folder)
    users = folder / "users.csv"
    lines = users.read_text(encoding="utf-8").splitlines()
    lines.append(",,,true,school-100,student,u,,,,,,,,,,,")  # no sourcedId
    lines.append("stu-x1,,,true,school-404,student,u,,,,,,,,,,09,")  # unknown org
    lines.append("stu-x2,,,true")  # too few columns
    users.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    count = len(lines)

    synced = sync(sandbox.plugin(tmp_path, csv_package="package"))

    assert [(r.stream, r.source_key) for r in synced.rejected] == [
        ("students", f"users.csv line {count - 2}"),
        ("students", f"users.csv line {count - 1}"),
        ("students", f"users.csv line {count}"),
    ]
    reasons = [r.reason for r in synced.rejected]
    assert reasons[0] == "sourcedId is blank"
    assert reasons[1] == "orgSourcedIds refers to a record that is not in orgs.csv"
    assert reasons[2].startswith("4 columns where the header has")
    assert len(synced.students) == len(sandbox.district.students)
