"""Seeded generation of a whole district: schools, students and a school year of attendance.

Each student draws from its own ``Random(f"{seed}:{index}")``, so a student's data does not depend
on how many students come before it or on generation order. The year is the one in progress on
``as_of`` (by default today in the district's time zone): each student's whole year is drawn, then
cut at ``as_of``, so the same district seen a day later has the same past and one more day.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from random import Random
from zoneinfo import ZoneInfo

from truancy.sandbox.calendar import SchoolLevel, SchoolYear
from truancy.sandbox.codes import DISTRICT_CODES
from truancy.sandbox.model import AttendanceRow, District, School, Student
from truancy.sandbox.names import FAMILY_NAMES, GIVEN_NAMES
from truancy.sandbox.patterns import recorded_rows, student_marks

DISTRICT_NAME = "Sandbox Unified School District"
DISTRICT_SOURCED_ID = "district-1"
DISTRICT_TIMEZONE = "America/Los_Angeles"
FIRST_STUDENT_DCID = 10001
FIRST_STUDENT_NUMBER = 300001
MID_YEAR_ENTRY_SHARE = 0.04
MID_YEAR_EXIT_SHARE = 0.03
# Rows of student ``index`` get ids from a block of their own, independent of other students.
ROW_ID_BLOCK = 1000

_STUDENTS_PER_SCHOOL = {SchoolLevel.ELEMENTARY: 600, SchoolLevel.MIDDLE: 900, SchoolLevel.HIGH: 1200}
_GRADES = {
    SchoolLevel.ELEMENTARY: ("KG", "01", "02", "03", "04", "05"),
    SchoolLevel.MIDDLE: ("06", "07", "08"),
    SchoolLevel.HIGH: ("09", "10", "11", "12"),
}
_ALL_GRADES = tuple(grade for level in SchoolLevel for grade in _GRADES[level])
_SCHOOL_NAMES = (
    "Sequoia", "Redwood", "Manzanita", "Golden Poppy", "Sierra Vista", "Oak Knoll", "Bayview",
    "Cypress", "Mission", "Alta Loma", "Willow Creek", "Harbor", "Madrone", "Cedar Ridge",
)  # fmt: skip
_SCHOOL_KIND = {
    SchoolLevel.ELEMENTARY: "Elementary School",
    SchoolLevel.MIDDLE: "Middle School",
    SchoolLevel.HIGH: "High School",
}


def district_today() -> date:
    """Today where the sandbox district is: its school day, not the server's."""
    return datetime.now(ZoneInfo(DISTRICT_TIMEZONE)).date()


def _schools(students: int, year: SchoolYear) -> tuple[School, ...]:
    schools: list[School] = []
    for level in SchoolLevel:
        for _ in range(max(1, students // _STUDENTS_PER_SCHOOL[level])):
            number = len(schools)
            place = _SCHOOL_NAMES[number % len(_SCHOOL_NAMES)]
            suffix = f" {number // len(_SCHOOL_NAMES) + 1}" if number >= len(_SCHOOL_NAMES) else ""
            schools.append(
                School(
                    schoolid=100 * (number + 1),
                    name=f"{place}{suffix} {_SCHOOL_KIND[level]}",
                    level=level,
                    grades=_GRADES[level],
                    in_session=year.in_session_days(level),
                )
            )
    return tuple(schools)


def _level_of(grade: str) -> SchoolLevel:
    return next(level for level in SchoolLevel if grade in _GRADES[level])


def _enrollment_window(rng: Random, days: tuple[date, ...], year: SchoolYear) -> tuple[date, date]:
    """Most students attend all year; a few enroll late or withdraw early."""
    draw = rng.random()
    if draw < MID_YEAR_ENTRY_SHARE:
        return days[rng.randint(10, len(days) - 30)], year.last_day
    if draw < MID_YEAR_ENTRY_SHARE + MID_YEAR_EXIT_SHARE:
        return year.first_day, days[rng.randint(30, len(days) - 10)]
    return year.first_day, year.last_day


def _enrolled_days(student: Student, school: School, year: SchoolYear) -> tuple[date, ...]:
    if (student.entry_date, student.exit_date) == (year.first_day, year.last_day):
        return school.in_session
    return tuple(day for day in school.in_session if student.enrolled_on(day))


def _known_on(student: Student, year: SchoolYear, as_of: date) -> Student:
    """The student as the SIS holds them on ``as_of``: a withdrawal still to come is not recorded."""
    if student.exit_date < as_of:
        return student
    return replace(student, exit_date=year.last_day)


def _student(
    index: int, rng: Random, schools_by_level: dict[SchoolLevel, list[School]], year: SchoolYear
) -> Student:
    grade = rng.choice(_ALL_GRADES)
    school = rng.choice(schools_by_level[_level_of(grade)])
    years_past_kindergarten = _ALL_GRADES.index(grade)
    birth_date = date(2019 - years_past_kindergarten, 9, 2) + timedelta(days=rng.randint(0, 364))
    entry_date, exit_date = _enrollment_window(rng, school.in_session, year)
    return Student(
        dcid=FIRST_STUDENT_DCID + index,
        student_number=str(FIRST_STUDENT_NUMBER + index),
        given_name=rng.choice(GIVEN_NAMES),
        family_name=rng.choice(FAMILY_NAMES),
        grade=grade,
        birth_date=birth_date,
        schoolid=school.schoolid,
        entry_date=entry_date,
        exit_date=exit_date,
    )


def generate_district(students: int = 2000, seed: int = 1, as_of: date | None = None) -> District:
    """A deterministic district for (students, seed, as_of); ``as_of`` defaults to the district's today."""
    if students < 1:
        raise ValueError(f"a district needs at least one student, got {students}")
    as_of = as_of or district_today()
    year = SchoolYear.containing(as_of)
    schools = _schools(students, year)
    school_by_id = {school.schoolid: school for school in schools}
    schools_by_level: dict[SchoolLevel, list[School]] = {level: [] for level in SchoolLevel}
    for school in schools:
        schools_by_level[school.level].append(school)
    roster: list[Student] = []
    rows: list[AttendanceRow] = []
    for index in range(students):
        rng = Random(f"{seed}:{index}")
        student = _student(index, rng, schools_by_level, year)
        enrolled_days = _enrolled_days(student, school_by_id[student.schoolid], year)
        marks = student_marks(rng, enrolled_days)
        first_row = (index + 1) * ROW_ID_BLOCK
        rows.extend(recorded_rows(rng, marks, student.dcid, student.schoolid, first_row, as_of))
        roster.append(_known_on(student, year, as_of))
    return District(
        name=DISTRICT_NAME,
        sourced_id=DISTRICT_SOURCED_ID,
        schools=schools,
        students=tuple(roster),
        codes=DISTRICT_CODES,
        rows=rows,
        year=year,
        as_of=as_of,
    )
