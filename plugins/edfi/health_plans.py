"""Which students have a Section 504 plan or an IEP in force, over the Ed-Fi ODS/API.

Ed-Fi DS 4.0 and DS 5.0 keep an IEP as ``ed-fi/studentSpecialEducationProgramAssociations`` and a
Section 504 plan as ``ed-fi/studentProgramAssociations`` whose ``programReference`` names a program of
type ``Section 504 Placement`` (neither standard has a resource of its own for 504 plans; program
types: ``Descriptors/ProgramTypeDescriptor.xml`` of the Ed-Fi Data Standard). An association is in
force from its ``beginDate`` until its ``endDate``, "the month, day, and year on which the student
exited the program" (DS 5.0 Resources API OpenAPI, ``edFi_studentSpecialEducationProgramAssociation``).

Only the students asked for are read, from the live ODS, and only the yes/no leaves: nothing about
the plan is kept or logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from truancy.connector.edfi import EdFiClient

SPECIAL_EDUCATION = "ed-fi/studentSpecialEducationProgramAssociations"
PROGRAMS = "ed-fi/studentProgramAssociations"
SECTION_504 = "section 504 placement"


def health_plans(client: EdFiClient, student_ids: Iterable[str], on: date) -> set[str]:
    """The students of ``student_ids`` (studentUniqueIds) with a 504 plan or an IEP in force ``on``."""
    found: set[str] = set()
    for student_id in student_ids:
        query = {"studentUniqueId": student_id}
        plans = [*client.find(SPECIAL_EDUCATION, query)]
        plans += [a for a in client.find(PROGRAMS, query) if _is_504(a)]
        if any(_in_force(plan, on) for plan in plans):
            found.add(student_id)
    return found


def _is_504(association: Mapping[str, Any]) -> bool:
    program = association.get("programReference") or {}
    descriptor = str(program.get("programTypeDescriptor") or "")
    return descriptor.rsplit("#", 1)[-1].lower() == SECTION_504


def _in_force(association: Mapping[str, Any], on: date) -> bool:
    try:
        begin = date.fromisoformat(str(association.get("beginDate") or ""))
        end = date.fromisoformat(str(association["endDate"])) if association.get("endDate") else None
    except ValueError:
        return True  # a date the host wrote unreadably: hold for the officer rather than send
    return begin <= on and (end is None or end > on)
