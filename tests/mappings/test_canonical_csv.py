"""The canonical attendance CSV reader: good rows load, each bad row is reported by line and reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from truancy.mappings.canonical_csv import CsvFormatError, read_attendance_csv
from truancy.mappings.facts import Category

HEADER = "student_id,date,category,minutes_absent,code,school_id\n"


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "attendance.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_rows_become_enrolled_days_and_events_sorted_by_date(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "S2,2024-09-04,present,,,HS1\n"
        "S1,2024-09-04,tardy,35,T30,HS1\n"
        "S1,2024-09-03,unexcused,,A,HS1\n"
        "S1,2024-09-05,present,,,HS1\n",
    )

    students, errors = read_attendance_csv(path)

    assert errors == []
    assert [s.student_id for s in students] == ["S1", "S2"]
    first = students[0]
    assert first.school_days == (date(2024, 9, 3), date(2024, 9, 4), date(2024, 9, 5))
    assert [(e.date, e.category, e.minutes_absent, e.code) for e in first.events] == [
        (date(2024, 9, 3), Category.UNEXCUSED, None, "A"),
        (date(2024, 9, 4), Category.TARDY, 35, "T30"),
    ]
    assert students[1].events == ()


def test_the_minimal_header_is_enough(tmp_path: Path) -> None:
    path = write(tmp_path, "S1,2024-09-03,excused\n", header="student_id,date,category\n")

    students, errors = read_attendance_csv(path)

    assert errors == []
    assert students[0].events[0].category is Category.EXCUSED


def test_each_bad_row_is_reported_by_line_without_student_data_and_good_rows_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "SECRET1,2024-09-03,unexcused,,,\n"  # line 2: good
        "SECRET1,2024-13-03,unexcused,,,\n"  # line 3
        "SECRET1,2024-09-04,tardie,,,\n"  # line 4
        "SECRET1,2024-09-05,tardy,abc,,\n"  # line 5
        ",2024-09-05,present,,,\n"  # line 6
        "SECRET1,2024-09-03,present,,,\n"  # line 7: duplicate of line 2
        "SECRET1,2024-09-06,present\n"  # line 8: short row
        "SECRET1,2024-09-09,present,,,\n",  # line 9: good
    )

    students, errors = read_attendance_csv(path)

    assert [e.line for e in errors] == [3, 4, 5, 6, 7, 8]
    reasons = [e.reason for e in errors]
    assert "not an ISO date" in reasons[0]
    assert "'tardie' is not one of present, excused, unexcused, tardy, suspension" in reasons[1]
    assert "minutes_absent 'abc'" in reasons[2]
    assert reasons[3] == "student_id is empty"
    assert "first on line 2" in reasons[4]
    assert "3 fields, the header has 6" in reasons[5]
    assert all("SECRET1" not in str(error) for error in errors)
    assert students[0].school_days == (date(2024, 9, 3), date(2024, 9, 9))


def test_a_missing_required_column_is_a_file_error(tmp_path: Path) -> None:
    path = write(tmp_path, "S1,2024-09-03\n", header="student_id,date\n")

    with pytest.raises(CsvFormatError, match=r"attendance.csv: line 1: missing column\(s\) category"):
        read_attendance_csv(path)


def test_students_of_one_school_share_one_calendar(tmp_path: Path) -> None:
    path = write(tmp_path, "S1,2024-09-03,present,,,\nS2,2024-09-03,unexcused,,,\n")

    first, second = read_attendance_csv(path)[0]

    assert first.school_days is second.school_days


def test_an_optional_grade_column_gives_each_student_a_grade(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "S1,2024-09-03,present,,,HS1,KG\n"
        "S1,2024-09-04,unexcused,,,HS1,K\n"
        "S2,2024-09-03,present,,,HS1,07\n"
        "S2,2024-09-04,present,,,HS1,\n"
        "S3,2024-09-03,present,,,HS1,\n",
        header=HEADER.replace("school_id", "school_id,grade"),
    )

    students, errors = read_attendance_csv(path)

    assert errors == []
    assert [(s.student_id, s.grade) for s in students] == [("S1", "K"), ("S2", "7"), ("S3", None)]


def test_a_bad_or_conflicting_grade_rejects_the_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "S1,2024-09-03,present,,,HS1,3\n"
        "S1,2024-09-04,unexcused,,,HS1,4\n"
        "S1,2024-09-05,present,,,HS1,PK\n"
        "S1,2024-09-06,present,,,HS1,3\n",
        header=HEADER.replace("school_id", "school_id,grade"),
    )

    students, errors = read_attendance_csv(path)

    assert [str(e) for e in errors] == [
        "line 3: grade 4 differs from grade 3 on line 2",
        "line 4: grade 'PK' is not K or 1-12",
    ]
    (s1,) = students
    assert s1.grade == "3"
    assert s1.school_days == (date(2024, 9, 3), date(2024, 9, 6))
