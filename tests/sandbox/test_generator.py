"""The generated district is deterministic and looks like a real one."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from tests.sandbox_year import PINNED_AS_OF
from truancy.sandbox.calendar import SchoolLevel, SchoolYear
from truancy.sandbox.generator import generate_district
from truancy.sandbox.model import AttendanceError, District

UNEXCUSED_WHOLE_DAY = {"A", "UNX"}
PARTIAL_DAY = {"T", "T30", "UT", "ED"}
YEAR = SchoolYear.containing(PINNED_AS_OF)
FIRST_DAY, LAST_DAY = YEAR.first_day, YEAR.last_day


@pytest.fixture(scope="module")
def district() -> District:
    return generate_district(students=300, seed=7, as_of=PINNED_AS_OF)


def _snapshot(district: District) -> list[tuple[object, ...]]:
    students = [
        (s.dcid, s.given_name, s.family_name, s.grade, s.birth_date, s.entry_date, s.exit_date)
        for s in district.students
    ]
    rows = [(r.dcid, r.att_date, r.att_code, r.minutes, r.whenmodified) for r in district.attendance()]
    return [*students, *rows]


def test_same_seed_gives_the_same_district(district: District) -> None:
    assert _snapshot(generate_district(students=300, seed=7, as_of=PINNED_AS_OF)) == _snapshot(district)


def test_other_seed_gives_another_district(district: District) -> None:
    assert _snapshot(generate_district(students=300, seed=8, as_of=PINNED_AS_OF)) != _snapshot(district)


def test_a_students_data_does_not_depend_on_district_size(district: District) -> None:
    smaller = generate_district(students=120, seed=7, as_of=PINNED_AS_OF)
    assert smaller.students[50].given_name == district.students[50].given_name
    assert smaller.attendance_of(smaller.students[50].dcid) == district.attendance_of(
        district.students[50].dcid
    )


def test_schools_per_level_and_numbering() -> None:
    schools = generate_district(students=2400, seed=1, as_of=PINNED_AS_OF).schools
    levels = Counter(school.level for school in schools)
    assert levels == {SchoolLevel.ELEMENTARY: 4, SchoolLevel.MIDDLE: 2, SchoolLevel.HIGH: 2}
    assert [school.schoolid for school in schools] == [100, 200, 300, 400, 500, 600, 700, 800]
    assert {school.sourced_id for school in schools} >= {"school-100", "school-800"}


def test_calendar_has_about_180_days_and_differs_per_level(district: District) -> None:
    calendars = {school.level: set(school.in_session) for school in district.schools}
    for days in calendars.values():
        assert 178 <= len(days) <= 184
        assert min(days) == FIRST_DAY
        assert max(days) == LAST_DAY
        assert all(day.weekday() < 5 for day in days)
        assert date(2025, 11, 27) not in days  # Thanksgiving
        assert date(2025, 12, 29) not in days  # winter break
    assert calendars[SchoolLevel.ELEMENTARY] != calendars[SchoolLevel.HIGH]


def test_student_identifiers(district: District) -> None:
    dcids = [student.dcid for student in district.students]
    assert dcids == list(range(10001, 10301))
    numbers = {student.student_number for student in district.students}
    assert len(numbers) == 300
    assert all(len(number) == 6 and number.isdigit() for number in numbers)
    assert not numbers & {str(dcid) for dcid in dcids}


def test_grades_match_the_school_level(district: District) -> None:
    for student in district.students:
        assert student.grade in district.school(student.schoolid).grades


def test_names_include_apostrophes_hyphens_and_non_latin_scripts() -> None:
    names = [
        f"{s.given_name} {s.family_name}"
        for s in generate_district(students=600, seed=1, as_of=PINNED_AS_OF).students
    ]
    assert any("'" in name for name in names)
    assert any("-" in name for name in names)
    assert any(not name.isascii() for name in names)


def test_mid_year_entries_and_exits() -> None:
    students = generate_district(students=2000, seed=3, as_of=PINNED_AS_OF).students
    entries = sum(student.entry_date > FIRST_DAY for student in students) / len(students)
    exits = sum(student.exit_date < LAST_DAY for student in students) / len(students)
    assert 0.02 <= entries <= 0.06
    assert 0.015 <= exits <= 0.045


def test_rows_only_on_enrolled_in_session_days(district: District) -> None:
    for row in district.attendance():
        student = district.student(row.studentsdcid)
        assert student.enrolled_on(row.att_date)
        assert row.att_date in district.school(row.schoolid).in_session
        assert row.schoolid == student.schoolid
        assert (row.minutes is not None) == (row.att_code in PARTIAL_DAY)


def test_one_row_per_student_day(district: District) -> None:
    keys = Counter((row.studentsdcid, row.att_date) for row in district.attendance())
    assert max(keys.values()) == 1


def test_whenmodified_is_hours_after_the_day_or_later_for_corrections(district: District) -> None:
    for row in district.attendance():
        assert row.whenmodified.date() >= row.att_date
    late = [row for row in district.attendance() if row.whenmodified.date() > row.att_date]
    assert late
    assert all(row.att_code == "EX" for row in late)


def _truant_share(district: District) -> float:
    """California: three days unexcused, counting unexcused tardies/absences over 30 minutes."""
    counted: Counter[int] = Counter()
    for row in district.attendance():
        if row.att_code in UNEXCUSED_WHOLE_DAY or (row.minutes is not None and row.minutes > 30):
            counted[row.studentsdcid] += 1
    return sum(1 for count in counted.values() if count >= 3) / len(district.students)


def test_proportions_fall_in_realistic_bands() -> None:
    district = generate_district(students=2000, seed=5, as_of=PINNED_AS_OF)
    rows = district.attendance()
    codes = Counter(row.att_code for row in rows)
    assert set(codes) == {code.att_code for code in district.codes}
    absent: Counter[int] = Counter(
        row.studentsdcid for row in rows if district.code(row.att_code).presence_status_cd == "Absent"
    )
    chronic = sum(1 for s in district.students if absent[s.dcid] >= 0.1 * 180) / len(district.students)
    assert 0.07 <= chronic <= 0.17
    assert 0.15 <= _truant_share(district) <= 0.25
    assert codes["ILL"] > codes["A"]
    minutes = Counter(row.minutes for row in rows if row.att_code in {"T", "UT"})
    assert minutes[30] > 0
    assert minutes[31] > 0


def test_correction_recodes_and_moves_to_the_end() -> None:
    local = generate_district(students=50, seed=2, as_of=PINNED_AS_OF)
    target = next(row for row in local.attendance() if row.att_code == "A")
    before = local.attendance()[-1].whenmodified
    corrected = local.apply_correction(target.dcid, "EX")
    assert corrected.att_code == "EX"
    assert corrected.whenmodified > before
    assert local.attendance()[-1] == corrected
    assert local.attendance_modified_after(before) == [corrected]


def test_add_and_delete_attendance() -> None:
    local = generate_district(students=50, seed=2, as_of=PINNED_AS_OF)
    student = local.students[0]
    taken = {row.att_date for row in local.attendance_of(student.dcid)}
    free_day = next(
        day
        for day in local.school(student.schoolid).in_session
        if day not in taken and student.enrolled_on(day)
    )
    added = local.add_attendance(student.dcid, free_day, "UT", 45)
    assert local.attendance_row(added.dcid).minutes == 45
    local.delete_attendance(added.dcid)
    with pytest.raises(KeyError):
        local.attendance_row(added.dcid)


@pytest.mark.parametrize(
    ("att_date", "att_code", "minutes", "message"),
    [
        (date(2025, 8, 16), "A", None, "not an in-session day"),
        (date(2025, 8, 19), "XYZ", None, "unknown att_code"),
        (date(2025, 8, 19), "T", None, "needs minutes"),
    ],
)
def test_add_attendance_refuses_bad_rows(
    att_date: date, att_code: str, minutes: int | None, message: str
) -> None:
    local = generate_district(students=5, seed=2, as_of=PINNED_AS_OF)
    with pytest.raises(AttendanceError, match=message):
        local.add_attendance(local.students[0].dcid, att_date, att_code, minutes)
