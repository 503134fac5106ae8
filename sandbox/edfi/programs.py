"""Some of the sandbox's students in a Section 504 or special education (IEP) program, as Ed-Fi serves them.

Ed-Fi DS 4.0 and DS 5.0 have no resource of their own for a Section 504 plan: it is a
``studentProgramAssociation`` whose ``programReference.programTypeDescriptor`` is
``uri://ed-fi.org/ProgramTypeDescriptor#Section 504 Placement`` (the default ProgramTypeDescriptor
values, ``Descriptors/ProgramTypeDescriptor.xml`` of the Ed-Fi Data Standard). An IEP is a
``studentSpecialEducationProgramAssociation`` (``Special Education`` program type). Both carry the
required ``beginDate``, ``educationOrganizationReference``, ``programReference`` (key:
``educationOrganizationId``, ``programName``, ``programTypeDescriptor``) and ``studentReference``, and
an ``endDate`` once the student left the program (``edFi_studentProgramAssociation``,
``edFi_studentSpecialEducationProgramAssociation`` in the DS 5.0 Resources API OpenAPI definition).

About one student in six has a plan, as in US public schools (IEPs about 15 %, 504 plans a few
percent); a third of those plans ended before the sandbox's today.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from truancy.sandbox.edfi.views import LEA_ID, record_id, student_reference
from truancy.sandbox.model import District, Student

Record = dict[str, Any]
PROGRAM_TYPES = "uri://ed-fi.org/ProgramTypeDescriptor"
SECTION_504 = ("Section 504 Plan", f"{PROGRAM_TYPES}#Section 504 Placement")
SPECIAL_EDUCATION = ("Special Education", f"{PROGRAM_TYPES}#Special Education")


def program_records(district: District) -> tuple[list[Record], list[Record]]:
    """(studentProgramAssociations for 504 plans, studentSpecialEducationProgramAssociations)."""
    begin = date(district.year.start_year, 8, 1)
    section_504: list[Record] = []
    special_education: list[Record] = []
    for student in district.students:
        draw = int(hashlib.sha256(student.student_number.encode()).hexdigest()[:8], 16) % 36
        if draw >= 6:
            continue
        ended = district.as_of - timedelta(days=20) if draw % 3 == 2 else None
        if draw < 3:
            section_504.append(_association(student, SECTION_504, begin, ended))
        else:
            special_education.append(_association(student, SPECIAL_EDUCATION, begin, ended))
    return section_504, special_education


def _association(student: Student, program: tuple[str, str], begin: date, end: date | None) -> Record:
    name, program_type = program
    body: Record = {
        "id": record_id("program", name, student.student_number),
        "beginDate": begin.isoformat(),
        "educationOrganizationReference": {"educationOrganizationId": LEA_ID},
        "programReference": {
            "educationOrganizationId": LEA_ID,
            "programName": name,
            "programTypeDescriptor": program_type,
        },
        "studentReference": student_reference(student),
    }
    if end is not None:
        body["endDate"] = end.isoformat()
    return body
