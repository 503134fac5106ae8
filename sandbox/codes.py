"""The district's own PowerSchool attendance codes, as its ATTENDANCE_CODE table holds them.

These are deliberately not the canonical categories: mapping them is the sync's job.
"""

from truancy.sandbox.model import AttendanceCode


def _code(
    att_code: str, description: str, present: bool, counts_for_ada: bool, partial: bool
) -> AttendanceCode:
    return AttendanceCode(
        att_code=att_code,
        description=description,
        presence_status_cd="Present" if present else "Absent",
        calculate_ada_yn="1" if counts_for_ada else "0",
        partial_day=partial,
    )


DISTRICT_CODES: tuple[AttendanceCode, ...] = (
    _code("A", "Absent - Unverified", present=False, counts_for_ada=False, partial=False),
    _code("UNX", "Unexcused Absence", present=False, counts_for_ada=False, partial=False),
    _code("EX", "Excused Absence", present=False, counts_for_ada=False, partial=False),
    _code("ILL", "Illness - Excused", present=False, counts_for_ada=False, partial=False),
    _code("MED", "Medical Appointment", present=False, counts_for_ada=False, partial=False),
    _code("T", "Tardy", present=True, counts_for_ada=True, partial=True),
    _code("T30", "Tardy over 30 minutes", present=True, counts_for_ada=True, partial=True),
    _code("UT", "Unexcused Tardy", present=True, counts_for_ada=True, partial=True),
    _code("ED", "Early Dismissal - Unexcused", present=True, counts_for_ada=True, partial=True),
    _code("SUS", "Out-of-School Suspension", present=False, counts_for_ada=False, partial=False),
    _code("ISS", "In-School Suspension", present=True, counts_for_ada=True, partial=False),
    _code("FT", "Field Trip", present=True, counts_for_ada=True, partial=False),
    _code("PRE", "Present", present=True, counts_for_ada=True, partial=False),
)
