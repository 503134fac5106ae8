"""The roster stream from a OneRoster source, for any plugin whose SIS rosters over OneRoster.

Schools are read in full (a handful), then students and enrollments changed since the cursor. A
OneRoster collection is not read in modification order, so the cursor (the latest
``dateLastModified`` seen) comes only with the end page: a read interrupted halfway starts again
from the old cursor instead of skipping records.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta

from truancy.connector.oneroster import (
    DeltaRead,
    OneRosterEnrollment,
    OneRosterOrg,
    OneRosterUser,
    Page,
    parse_records,
)
from truancy.connector.oneroster import Rejected as OneRosterRejected
from truancy.mappings.facts import Enrollment, Student
from truancy.plugins.base import Cursor, Rejected, RosterPage
from truancy.plugins.oneroster.source import RosterSource

ROSTER_WATERMARK_OVERLAP = timedelta(minutes=10)


class OneRosterRoster:
    """Students (keyed by sourcedId, with the SIS key of ``student_ref_type``) and their enrollments."""

    def __init__(self, source: RosterSource, student_ref_type: str) -> None:
        self.source = source
        self.student_ref_type = student_ref_type

    def pages(self, cursor: str | None) -> Iterator[RosterPage]:
        started = datetime.now(UTC)
        school_numbers = self._school_numbers()
        since = Cursor.loads(cursor)
        bookmark = datetime.fromtimestamp(since.position, UTC) if since is not None else None
        students = DeltaRead(self.source.pages, "students", bookmark, overlap=ROSTER_WATERMARK_OVERLAP)
        for page in students.pages():
            users, rejects = parse_records(OneRosterUser, page.records)
            out = RosterPage(rejected=_rejected("students", page, rejects))
            for user in users:
                if user.is_deleted:
                    out.deleted_students.append(user.sourced_id)
                    continue
                out.students.append(self._student(user, school_numbers))
            yield out
        enrollments = DeltaRead(self.source.pages, "enrollments", bookmark, overlap=ROSTER_WATERMARK_OVERLAP)
        for page in enrollments.pages():
            yield self._enrollment_page(page, school_numbers)
        watermark = _later(students.bookmark, enrollments.bookmark)
        end = Cursor(watermark.timestamp(), started).dumps() if watermark is not None else None
        yield RosterPage(cursor=end, end=True)

    def _enrollment_page(self, page: Page, school_numbers: Mapping[str, str]) -> RosterPage:
        enrollments, rejects = parse_records(OneRosterEnrollment, page.records)
        out = RosterPage(rejected=_rejected("enrollments", page, rejects))
        for enrollment in enrollments:
            if enrollment.role != "student":
                continue
            if enrollment.is_deleted:
                out.deleted_enrollments.append(enrollment.sourced_id)
                continue
            school = school_numbers.get(enrollment.school_sourced_id or "")
            if school is None or enrollment.begin_date is None:
                reason = "unknown school" if school is None else "enrollment without a beginDate"
                out.rejected.append(Rejected("enrollments", enrollment.sourced_id, reason))
                continue
            out.enrollments.append(
                Enrollment(
                    source_id=enrollment.sourced_id,
                    student_id=enrollment.user_sourced_id,
                    school_id=school,
                    begin=enrollment.begin_date,
                    end=enrollment.end_date,
                )
            )
        return out

    def _school_numbers(self) -> dict[str, str]:
        """School sourcedId → the SIS's school number (the org's ``identifier``)."""
        numbers: dict[str, str] = {}
        for page in self.source.pages.iter_pages("schools"):
            orgs, _ = parse_records(OneRosterOrg, page.records)
            numbers.update({org.sourced_id: org.identifier or org.sourced_id for org in orgs})
        return numbers

    def _student(self, user: OneRosterUser, school_numbers: Mapping[str, str]) -> Student:
        org = user.primary_org_sourced_id or next(iter(user.org_sourced_ids), None)
        return Student(
            student_id=user.sourced_id,
            sis_ref=user.user_id(self.student_ref_type),
            school_id=school_numbers.get(org) if org else None,
            grade=user.grades[0] if user.grades else None,
        )


def _rejected(stream: str, page: Page, rejects: list[OneRosterRejected]) -> list[Rejected]:
    """Quarantine entries keyed by the record's hashed sourcedId, or where it was when it has none.

    CSV rows that could not be shaped into a record are keyed by file and line.
    """
    shaped = [Rejected(stream, r.sourced_id_hash or page.locate(r.index), r.reason) for r in rejects]
    return [*(Rejected(stream, where, reason) for where, reason in page.rejected), *shaped]


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current
