"""The PowerQueries the sandbox district has installed, as flat string rows.

Each query takes optional JSON arguments and yields rows in a stable order, so paging is exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from truancy.sandbox.model import AttendanceRow, District

Row = dict[str, str]


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The matching items in their stable order; only the requested page is rendered to rows."""

    items: Sequence[Any]
    render: Callable[[Any], Row]

    def page(self, start: int, size: int) -> list[Row]:
        return [self.render(item) for item in self.items[start : start + size]]


Query = Callable[[District, Mapping[str, Any]], QueryResult]

ATTENDANCE_QUERY = "com.truancysync.attendance.daily.records"
CODES_QUERY = "com.truancysync.attendance.codes.table"
CALENDAR_QUERY = "com.truancysync.calendar.days.insession"


class QueryArgumentError(ValueError):
    """A PowerQuery argument the SIS refuses (HTTP 400); the message names the argument."""


def _argument(args: Mapping[str, Any], name: str, parse: Callable[[str], Any], shape: str) -> Any:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse(str(raw))
    except ValueError as error:
        raise QueryArgumentError(f"argument {name!r} must be {shape}") from error


def _check_arguments(args: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise QueryArgumentError(f"unknown argument(s) {', '.join(map(repr, unknown))}")


def attendance_records(district: District, args: Mapping[str, Any]) -> QueryResult:
    """Daily attendance rows, ordered by (whenmodified, dcid)."""
    _check_arguments(args, frozenset({"modified_since", "start_date", "end_date"}))
    since = _argument(args, "modified_since", datetime.fromisoformat, "YYYY-MM-DDTHH:MM:SS")
    start = _argument(args, "start_date", date.fromisoformat, "YYYY-MM-DD")
    end = _argument(args, "end_date", date.fromisoformat, "YYYY-MM-DD")
    rows = district.attendance_modified_after(since or datetime.min)
    if start is not None or end is not None:
        rows = [row for row in rows if (start or date.min) <= row.att_date <= (end or date.max)]

    def render(row: AttendanceRow) -> Row:
        return {
            "dcid": str(row.dcid),
            "studentsdcid": str(row.studentsdcid),
            "student_number": district.student(row.studentsdcid).student_number,
            "schoolid": str(row.schoolid),
            "att_date": row.att_date.isoformat(),
            "att_code": row.att_code,
            "att_mode_code": "ATT_ModeDaily",
            "presence_status_cd": district.code(row.att_code).presence_status_cd,
            "minutes": "" if row.minutes is None else str(row.minutes),
            "whenmodified": row.whenmodified.isoformat(timespec="seconds"),
        }

    return QueryResult(rows, render)


def attendance_codes(district: District, args: Mapping[str, Any]) -> QueryResult:
    _check_arguments(args, frozenset())
    rows = [
        {
            "att_code": code.att_code,
            "description": code.description,
            "presence_status_cd": code.presence_status_cd,
            "calculate_ada_yn": code.calculate_ada_yn,
            "schoolid": str(school.schoolid),
            "yearid": str(district.year.powerschool_yearid),
        }
        for school in district.schools
        for code in district.codes
    ]
    return QueryResult(rows, dict)


def in_session_days(district: District, args: Mapping[str, Any]) -> QueryResult:
    _check_arguments(args, frozenset())
    rows = [
        {"schoolid": str(school.schoolid), "date_value": day.isoformat()}
        for school in district.schools
        for day in school.in_session
    ]
    return QueryResult(rows, dict)


QUERIES: dict[str, Query] = {
    ATTENDANCE_QUERY: attendance_records,
    CODES_QUERY: attendance_codes,
    CALENDAR_QUERY: in_session_days,
}
