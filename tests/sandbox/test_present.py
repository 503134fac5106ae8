"""The sandbox lives in the present: the school year in progress today, attendance up to yesterday.

``as_of`` pins the sandbox's today; the same district seen later keeps its past and adds days.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import requests

from tests.sandbox.helpers import TIMEOUT, powerschool_headers, roster_headers
from tests.sandbox_year import PINNED_AS_OF
from truancy.sandbox.calendar import SchoolLevel, SchoolYear
from truancy.sandbox.generator import district_today, generate_district
from truancy.sandbox.server import SandboxServer

MID_YEAR = date(2026, 12, 1)


def test_by_default_the_year_in_progress_today_with_attendance_up_to_yesterday() -> None:
    today = district_today()
    district = generate_district(students=300, seed=1)
    assert district.as_of == today
    assert district.year.first_day <= today
    assert district.year == SchoolYear.containing(today)
    dates = {row.att_date for row in district.attendance()}
    assert max(dates) < today
    school_days_before = [day for s in district.schools for day in s.in_session if day < today]
    assert max(dates) == max(school_days_before)


@pytest.mark.parametrize(
    ("day", "label", "first", "last"),
    [
        (date(2026, 12, 1), "2026-27", date(2026, 8, 17), date(2027, 6, 3)),
        (date(2026, 8, 17), "2026-27", date(2026, 8, 17), date(2027, 6, 3)),
        (date(2026, 8, 16), "2025-26", date(2025, 8, 18), date(2026, 6, 4)),
        (date(2031, 3, 2), "2030-31", date(2030, 8, 19), date(2031, 6, 5)),
    ],
)
def test_the_year_containing_a_day(day: date, label: str, first: date, last: date) -> None:
    year = SchoolYear.containing(day)
    assert (year.label, year.first_day, year.last_day) == (label, first, last)


@pytest.mark.parametrize("start_year", [2026, 2027, 2028, 2033])
def test_holidays_follow_the_year(start_year: int) -> None:
    year = SchoolYear(start_year)
    thanksgiving = next(
        day for day in (date(start_year, 11, 22) + timedelta(n) for n in range(7)) if day.weekday() == 3
    )
    assert {thanksgiving - timedelta(1), thanksgiving, thanksgiving + timedelta(1)} <= year.holidays
    assert {date(start_year, 12, 25), date(start_year + 1, 1, 1)}.isdisjoint(year.district_days)
    assert date(start_year, 9, 1) + timedelta((7 - date(start_year, 9, 1).weekday()) % 7) in year.holidays
    for level in SchoolLevel:
        days = year.in_session_days(level)
        assert len(days) == 182
        assert all(day.weekday() < 5 and day not in year.holidays for day in days)
    assert len({year.in_session_days(level) for level in SchoolLevel}) == 3


def test_as_of_pins_the_year_and_cuts_the_record_at_the_day_before() -> None:
    early = generate_district(students=300, seed=1, as_of=date(2026, 1, 14))
    whole = generate_district(students=300, seed=1, as_of=PINNED_AS_OF)
    assert early.year.label == whole.year.label == "2025-26"
    assert max(row.att_date for row in early.attendance()) == date(2026, 1, 13)
    # The same past, seen later: every day recorded by then is still there (a correction due
    # later had not happened yet, so the code may differ).
    assert {(r.dcid, r.att_date) for r in early.attendance()} == {
        (r.dcid, r.att_date) for r in whole.attendance() if r.att_date < date(2026, 1, 14)
    }
    assert all(r.whenmodified.date() < date(2026, 1, 14) for r in early.attendance())
    # A withdrawal still to come is not in the SIS yet; one already past is.
    later_exits = [s for s in whole.students if date(2026, 1, 14) <= s.exit_date < whole.year.last_day]
    earlier_exits = [s for s in whole.students if s.exit_date < date(2026, 1, 14)]
    assert later_exits
    assert earlier_exits
    early_students = {s.dcid: s for s in early.students}
    assert all(early_students[s.dcid].exit_date == early.year.last_day for s in later_exits)
    assert all(early_students[s.dcid].exit_date == s.exit_date for s in earlier_exits)


def test_a_subprocess_sandbox_serves_the_pinned_year_over_http() -> None:
    with SandboxServer(students=30, seed=1, in_process=False, as_of=MID_YEAR) as server:
        roster = roster_headers(server.url)
        session = requests.get(
            f"{server.url}/ims/oneroster/rostering/v1p2/academicSessions/as-2026-27",
            headers=roster,
            timeout=TIMEOUT,
        ).json()["academicSession"]
        assert (session["startDate"], session["endDate"], session["schoolYear"]) == (
            "2026-08-17",
            "2027-06-03",
            "2027",
        )
        headers = powerschool_headers(server.url)
        dates: list[str] = []
        for page in range(1, 100):
            rows = requests.post(
                f"{server.url}/ws/schema/query/com.truancysync.attendance.daily.records",
                headers=headers,
                params={"page": page, "pagesize": 1000},
                timeout=TIMEOUT,
            ).json()["record"]
            if not rows:
                break
            dates += [row["att_date"] for row in rows]
        dates.sort()
        assert dates[0] >= "2026-08-17"
        assert dates[-1] == "2026-11-30"
