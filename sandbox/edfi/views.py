"""The generated district as Ed-Fi DS 5.0 records: schools, students, enrollments, calendars, events.

Ids are deterministic GUIDs (32 hex digits, as the ODS/API writes them), so a record keeps its id
across restarts of the same (students, seed) district. District attendance codes become Ed-Fi
attendance-event categories: the default ``uri://ed-fi.org`` descriptors where one fits, and a
district namespace for out-of-school suspension, which the Ed-Fi defaults lack.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from truancy.sandbox.calendar import SchoolYear
from truancy.sandbox.model import AttendanceRow, District, School, Student

Record = dict[str, Any]

LEA_ID = 255901
CALENDAR_CODE = "REGULAR"
SCHOOL_DAY_MINUTES = 360
ED_FI = "uri://ed-fi.org"
DISTRICT_NAMESPACE = "uri://sandbox.k12.example.org"
SCHOOL_CATEGORY = f"{ED_FI}/EducationOrganizationCategoryDescriptor#School"
_IDS = uuid.UUID("6f1c1c55-4a59-4f1e-9d7c-0b5e3c1ad001")

CATEGORY_OF_CODE = {
    "A": f"{ED_FI}/AttendanceEventCategoryDescriptor#Unexcused Absence",
    "UNX": f"{ED_FI}/AttendanceEventCategoryDescriptor#Unexcused Absence",
    "EX": f"{ED_FI}/AttendanceEventCategoryDescriptor#Excused Absence",
    "ILL": f"{ED_FI}/AttendanceEventCategoryDescriptor#Excused Absence",
    "MED": f"{ED_FI}/AttendanceEventCategoryDescriptor#Excused Absence",
    "T": f"{ED_FI}/AttendanceEventCategoryDescriptor#Tardy",
    "T30": f"{ED_FI}/AttendanceEventCategoryDescriptor#Tardy",
    "UT": f"{ED_FI}/AttendanceEventCategoryDescriptor#Tardy",
    "ED": f"{ED_FI}/AttendanceEventCategoryDescriptor#Early departure",
    "SUS": f"{DISTRICT_NAMESPACE}/AttendanceEventCategoryDescriptor#Out-of-School Suspension",
    "ISS": f"{ED_FI}/AttendanceEventCategoryDescriptor#In Attendance",
    "FT": f"{ED_FI}/AttendanceEventCategoryDescriptor#In Attendance",
    "PRE": f"{ED_FI}/AttendanceEventCategoryDescriptor#Present",
}
GRADE_LEVELS = {
    "KG": "Kindergarten", "01": "First grade", "02": "Second grade", "03": "Third grade",
    "04": "Fourth grade", "05": "Fifth grade", "06": "Sixth grade", "07": "Seventh grade",
    "08": "Eighth grade", "09": "Ninth grade", "10": "Tenth grade", "11": "Eleventh grade",
    "12": "Twelfth grade",
}  # fmt: skip


def record_id(*parts: object) -> str:
    return uuid.uuid5(_IDS, ":".join(str(part) for part in parts)).hex


def grade_descriptor(grade: str) -> str:
    return f"{ED_FI}/GradeLevelDescriptor#{GRADE_LEVELS[grade]}"


def school_reference(school_id: int) -> Record:
    return {"schoolId": school_id}


def student_reference(student: Student) -> Record:
    return {"studentUniqueId": student.student_number}


def school(record: School) -> Record:
    return {
        "id": record_id("school", record.schoolid),
        "schoolId": record.schoolid,
        "nameOfInstitution": record.name,
        "localEducationAgencyReference": {"localEducationAgencyId": LEA_ID},
        "educationOrganizationCategories": [{"educationOrganizationCategoryDescriptor": SCHOOL_CATEGORY}],
        "gradeLevels": [{"gradeLevelDescriptor": grade_descriptor(grade)} for grade in record.grades],
    }


def student(record: Student) -> Record:
    return {
        "id": record_id("student", record.dcid),
        "studentUniqueId": record.student_number,
        "firstName": record.given_name,
        "lastSurname": record.family_name,
        "birthDate": record.birth_date.isoformat(),
    }


def session_name(year: SchoolYear) -> str:
    return f"{year.start_year}-{year.end_year} School Year"


def enrollment(record: Student, year: SchoolYear) -> Record:
    body: Record = {
        "id": record_id("ssa", record.dcid),
        "entryDate": record.entry_date.isoformat(),
        "schoolReference": school_reference(record.schoolid),
        "studentReference": student_reference(record),
        "entryGradeLevelDescriptor": grade_descriptor(record.grade),
        "calendarReference": {
            "calendarCode": CALENDAR_CODE,
            "schoolId": record.schoolid,
            "schoolYear": year.end_year,
        },
    }
    if record.exit_date < year.last_day:
        body["exitWithdrawDate"] = record.exit_date.isoformat()
    return body


def session(record: School, year: SchoolYear) -> Record:
    return {
        "id": record_id("session", record.schoolid),
        "sessionName": session_name(year),
        "schoolReference": school_reference(record.schoolid),
        "schoolYearTypeReference": {"schoolYear": year.end_year},
        "beginDate": year.first_day.isoformat(),
        "endDate": year.last_day.isoformat(),
        "termDescriptor": f"{ED_FI}/TermDescriptor#Year Round",
        "totalInstructionalDays": len(record.in_session),
    }


def calendar(record: School, year: SchoolYear) -> Record:
    return {
        "id": record_id("calendar", record.schoolid),
        "calendarCode": CALENDAR_CODE,
        "schoolReference": school_reference(record.schoolid),
        "schoolYearTypeReference": {"schoolYear": year.end_year},
        "calendarTypeDescriptor": f"{ED_FI}/CalendarTypeDescriptor#Student Specific",
        "gradeLevels": [{"gradeLevelDescriptor": grade_descriptor(grade)} for grade in record.grades],
    }


def calendar_dates(record: School, year: SchoolYear) -> list[Record]:
    """Every weekday of the year: instructional days, and the closed ones marked as holidays."""
    in_session = set(record.in_session)
    dates: list[Record] = []
    day = year.first_day
    while day <= year.last_day:
        if day.weekday() < 5:
            event = "Instructional day" if day in in_session else "Holiday"
            dates.append(
                {
                    "id": record_id("calendarDate", record.schoolid, day),
                    "date": day.isoformat(),
                    "calendarReference": {
                        "calendarCode": CALENDAR_CODE,
                        "schoolId": record.schoolid,
                        "schoolYear": year.end_year,
                    },
                    "calendarEvents": [
                        {"calendarEventDescriptor": f"{ED_FI}/CalendarEventDescriptor#{event}"}
                    ],
                }
            )
        day += timedelta(days=1)
    return dates


def attendance_event_id(row: AttendanceRow, generation: int) -> str:
    """The natural key includes the category, so a re-coded row is a different Ed-Fi record; each
    re-coding is a new generation of the row, so an id is never handed out twice."""
    return record_id("sse", row.dcid, generation)


def attendance_event(row: AttendanceRow, district: District, event_id: str) -> Record:
    body: Record = {
        "id": event_id,
        "attendanceEventCategoryDescriptor": CATEGORY_OF_CODE[row.att_code],
        "eventDate": row.att_date.isoformat(),
        "schoolReference": school_reference(row.schoolid),
        "sessionReference": {
            "schoolId": row.schoolid,
            "schoolYear": district.year.end_year,
            "sessionName": session_name(district.year),
        },
        "studentReference": {"studentUniqueId": district.student(row.studentsdcid).student_number},
        "attendanceEventReason": district.code(row.att_code).description,
    }
    if row.minutes is not None:
        body["schoolAttendanceDuration"] = row.minutes
        body["eventDuration"] = round(min(1.0, row.minutes / SCHOOL_DAY_MINUTES), 2)
    else:
        body["eventDuration"] = 1
    return body


def descriptors() -> dict[str, list[Record]]:
    """Descriptor resources the district uses, keyed by resource name."""
    categories = sorted(set(CATEGORY_OF_CODE.values()))
    return {
        "attendanceEventCategoryDescriptors": [_descriptor(uri) for uri in categories],
        "calendarEventDescriptors": [
            _descriptor(f"{ED_FI}/CalendarEventDescriptor#{value}")
            for value in ("Holiday", "Instructional day")
        ],
        "gradeLevelDescriptors": [_descriptor(grade_descriptor(grade)) for grade in GRADE_LEVELS],
        # The write-back's interventions use these (default values of Data Standard 5.2).
        "deliveryMethodDescriptors": [
            _descriptor(f"{ED_FI}/DeliveryMethodDescriptor#{value}")
            for value in ("Individual", "Small Group", "Whole Class", "Whole School")
        ],
        "interventionClassDescriptors": [
            _descriptor(f"{ED_FI}/InterventionClassDescriptor#{value}")
            for value in ("Curriculum", "Other", "Practice", "Supplement")
        ],
    }


def _descriptor(uri: str) -> Record:
    namespace, code = uri.split("#", 1)
    return {
        "id": record_id("descriptor", uri),
        "namespace": namespace,
        "codeValue": code,
        "shortDescription": code,
        "description": code,
    }
