"""The district's rostering data as OneRoster 1.2 records (plain JSON-ready dicts).

Built once per district. ``dateLastModified`` values are deterministic: a base time plus a
per-record offset, moved to the entry date for late enrollees and to the exit date for the
enrollments of students who withdrew. The school year and its terms are the district's year.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from truancy.sandbox.calendar import SchoolYear
from truancy.sandbox.guardians import guardians_of, household_heads
from truancy.sandbox.model import District, School, Student
from truancy.sandbox.names import FAMILY_NAMES, GIVEN_NAMES

Record = dict[str, Any]

BASE_PATH = "/ims/oneroster/rostering/v1p2"
SUBJECTS = (("ela", "English Language Arts"), ("math", "Mathematics"))

# Subset collections answer in the envelope of the collection they select from, as the spec says.
COLLECTION_ENVELOPE = {
    "schools": "orgs",
    "terms": "academicSessions",
    "students": "users",
    "teachers": "users",
}
# The key of a single record in its envelope.
COLLECTION_SINGULAR = {
    "orgs": "org",
    "schools": "org",
    "academicSessions": "academicSession",
    "terms": "academicSession",
    "users": "user",
    "students": "user",
    "teachers": "user",
    "classes": "class",
    "courses": "course",
    "enrollments": "enrollment",
}


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def school_year_id(year: SchoolYear) -> str:
    return f"as-{year.label}"


def semesters(year: SchoolYear) -> tuple[tuple[str, str, date, date], ...]:
    """(sourcedId, title, start, end) of the year's two terms, split at winter break."""
    return (
        (f"term-{year.label}-s1", f"Fall Semester {year.start_year}", year.first_day, year.fall_term_end),
        (f"term-{year.label}-s2", f"Spring Semester {year.end_year}", year.spring_term_start, year.last_day),
    )


def _stamp(year: SchoolYear, offset_seconds: int) -> str:
    """Records were last changed just before the year began (1 August), plus a per-record offset."""
    epoch = datetime(year.start_year, 8, 1, 12, 0, 0)
    return timestamp(epoch + timedelta(seconds=offset_seconds))


def _on(day: date) -> str:
    return timestamp(datetime.combine(day, time(17, 0)))


def ref(collection: str, sourced_id: str, ref_type: str) -> Record:
    return {"href": f"{BASE_PATH}/{collection}/{sourced_id}", "sourcedId": sourced_id, "type": ref_type}


def _base(sourced_id: str, modified: str) -> Record:
    return {"sourcedId": sourced_id, "status": "active", "dateLastModified": modified}


@dataclass(frozen=True, slots=True)
class ClassSection:
    """One class of a school: a homeroom per grade plus scheduled subject classes."""

    school: School
    grade: str
    subject: str
    title: str

    @property
    def sourced_id(self) -> str:
        return f"class-{self.school.schoolid}-{self.grade}-{self.subject}"

    @property
    def teacher_id(self) -> str:
        return f"tch-{self.school.schoolid}-{self.grade}-{self.subject}"

    @property
    def course_id(self) -> str:
        return f"course-{self.school.schoolid}-{self.grade}-{self.subject}"


def class_sections(school: School) -> Iterator[ClassSection]:
    for grade in school.grades:
        yield ClassSection(school, grade, "hr", f"Homeroom {grade}")
        for subject, title in SUBJECTS:
            yield ClassSection(school, grade, subject, f"{title} {grade}")


def _orgs(district: District) -> Iterator[Record]:
    district_ref = ref("orgs", district.sourced_id, "org")
    yield {
        **_base(district.sourced_id, _stamp(district.year, 0)),
        "name": district.name,
        "type": "district",
        "identifier": "0600001",
    }
    for offset, school in enumerate(district.schools, start=1):
        yield {
            **_base(school.sourced_id, _stamp(district.year, offset)),
            "name": school.name,
            "type": "school",
            "identifier": str(school.schoolid),
            "parent": district_ref,
        }


def _sessions(year: SchoolYear) -> Iterator[Record]:
    year_id = school_year_id(year)
    year_ref = ref("academicSessions", year_id, "academicSession")
    yield {
        **_base(year_id, _stamp(year, 0)),
        "title": year.label,
        "type": "schoolYear",
        "startDate": year.first_day.isoformat(),
        "endDate": year.last_day.isoformat(),
        "schoolYear": str(year.end_year),
    }
    for offset, (sourced_id, title, start, end) in enumerate(semesters(year), start=1):
        yield {
            **_base(sourced_id, _stamp(year, offset)),
            "title": title,
            "type": "semester",
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "parent": year_ref,
            "schoolYear": str(year.end_year),
        }


def _student_user(student: Student, year: SchoolYear) -> Record:
    school_ref = ref("orgs", f"school-{student.schoolid}", "org")
    late_entry = student.entry_date > year.first_day
    modified = _on(student.entry_date) if late_entry else _stamp(year, student.dcid)
    return {
        **_base(student.sourced_id, modified),
        "enabledUser": "true",
        "username": f"s{student.student_number}",
        "givenName": student.given_name,
        "familyName": student.family_name,
        "identifier": student.student_number,
        "userIds": [{"type": "PowerSchool DCID", "identifier": str(student.dcid)}],
        "roles": [{"roleType": "primary", "role": "student", "org": school_ref}],
        "primaryOrg": school_ref,
        "grades": [student.grade],
    }


def _teacher_user(section: ClassSection, number: int, year: SchoolYear) -> Record:
    school_ref = ref("orgs", section.school.sourced_id, "org")
    return {
        **_base(section.teacher_id, _stamp(year, number)),
        "enabledUser": "true",
        "username": section.teacher_id,
        "givenName": GIVEN_NAMES[number * 7 % len(GIVEN_NAMES)],
        "familyName": FAMILY_NAMES[number * 11 % len(FAMILY_NAMES)],
        "identifier": f"T{number:05d}",
        "roles": [{"roleType": "primary", "role": "teacher", "org": school_ref}],
        "primaryOrg": school_ref,
    }


def _class(section: ClassSection, number: int, year: SchoolYear) -> Record:
    return {
        **_base(section.sourced_id, _stamp(year, number)),
        "title": section.title,
        "classCode": section.sourced_id.removeprefix("class-"),
        "classType": "homeroom" if section.subject == "hr" else "scheduled",
        "grades": [section.grade],
        "course": ref("courses", section.course_id, "course"),
        "school": ref("orgs", section.school.sourced_id, "org"),
        "terms": [ref("academicSessions", school_year_id(year), "academicSession")],
    }


def _course(section: ClassSection, number: int, year: SchoolYear) -> Record:
    return {
        **_base(section.course_id, _stamp(year, number)),
        "title": section.title,
        "courseCode": section.course_id.removeprefix("course-"),
        "grades": [section.grade],
        "schoolYear": ref("academicSessions", school_year_id(year), "academicSession"),
        "org": ref("orgs", section.school.sourced_id, "org"),
    }


def _enrollment(sourced_id: str, modified: str, user: Record, section: ClassSection, role: str) -> Record:
    return {
        **_base(sourced_id, modified),
        "user": ref("users", user["sourcedId"], "user"),
        "class": ref("classes", section.sourced_id, "class"),
        "school": ref("orgs", section.school.sourced_id, "org"),
        "role": role,
        "primary": role == "teacher",
    }


def _student_enrollments(
    student: Student, user: Record, school: School, year: SchoolYear
) -> Iterator[Record]:
    if student.exit_date < year.last_day:
        modified = _on(student.exit_date)
    elif student.entry_date > year.first_day:
        modified = _on(student.entry_date)
    else:
        modified = _stamp(year, student.dcid)
    subject, title = SUBJECTS[student.dcid % len(SUBJECTS)]
    sections = (
        ClassSection(school, student.grade, "hr", f"Homeroom {student.grade}"),
        ClassSection(school, student.grade, subject, f"{title} {student.grade}"),
    )
    for section in sections:
        record = _enrollment(f"enr-{student.dcid}-{section.subject}", modified, user, section, "student")
        record["beginDate"] = student.entry_date.isoformat()
        record["endDate"] = student.exit_date.isoformat()
        yield record


def build_roster(district: District) -> dict[str, list[Record]]:
    """Every OneRoster collection, each sorted by sourcedId (the stable default order)."""
    users: list[Record] = []
    classes: list[Record] = []
    courses: list[Record] = []
    enrollments: list[Record] = []
    year = district.year
    for school in district.schools:
        for section in class_sections(school):
            number = len(classes) + 1
            teacher = _teacher_user(section, number, year)
            users.append(teacher)
            classes.append(_class(section, number, year))
            courses.append(_course(section, number, year))
            enrollment_id = f"enr-{section.teacher_id}-{section.subject}"
            enrollments.append(_enrollment(enrollment_id, _stamp(year, number), teacher, section, "teacher"))
    school_index = {school.schoolid: index for index, school in enumerate(district.schools)}
    heads = household_heads(district.students, school_index)
    for student in district.students:
        user = _student_user(student, year)
        guardians = guardians_of(
            student,
            school_index[student.schoolid],
            user["dateLastModified"],
            user["primaryOrg"],
            heads.get(student.dcid),
        )
        user["agents"] = [ref("users", guardian["sourcedId"], "user") for guardian in guardians]
        users.append(user)
        users.extend(guardians)
        enrollments.extend(_student_enrollments(student, user, district.school(student.schoolid), year))
    orgs = list(_orgs(district))
    sessions = list(_sessions(year))
    collections = {
        "orgs": orgs,
        "schools": [org for org in orgs if org["type"] == "school"],
        "academicSessions": sessions,
        "terms": [session for session in sessions if session["type"] != "schoolYear"],
        "users": users,
        "students": [user for user in users if user["roles"][0]["role"] == "student"],
        "teachers": [user for user in users if user["roles"][0]["role"] == "teacher"],
        "classes": classes,
        "courses": courses,
        "enrollments": enrollments,
    }
    return {
        name: sorted(records, key=lambda record: record["sourcedId"]) for name, records in collections.items()
    }
