"""California (Ed. Code §§ 48260-48263.6, 60901), tested from the statute's own wording."""

from __future__ import annotations

from datetime import date

import pytest

from tests.mappings.attendance_factory import CALENDAR, absence, day, student, tardy
from truancy.mappings.engine import evaluate
from truancy.mappings.facts import AttendanceEvent
from truancy.mappings.policy import Policy, load_policy


@pytest.fixture(scope="module")
def ca() -> Policy:
    return load_policy("ca")


AS_OF = day(180)


def test_two_unexcused_full_days_are_not_yet_truancy(ca: Policy) -> None:
    result = evaluate(ca, student(absence(day(3)), absence(day(9))), AS_OF)

    assert not result.holds("truant")
    assert result.counts["truant.occasions"] == 2


def test_the_third_unexcused_full_day_makes_a_truant_on_that_day(ca: Policy) -> None:
    result = evaluate(ca, student(absence(day(3)), absence(day(9)), absence(day(20))), AS_OF)

    (truant,) = [d for d in result.designations if d.id == "truant"]
    assert truant.met_on == day(20)
    assert truant.citation.startswith("Cal. Educ. Code § 48260(a)")
    assert [e.date for e in truant.evidence] == [day(3), day(9), day(20)]
    assert truant.occasions == 1
    assert truant.rule == "at least 3 occasions (unexcused, tardy; part days over 30 min) in school_year"


def test_tardies_of_exactly_30_minutes_do_not_count(ca: Policy) -> None:
    result = evaluate(ca, student(tardy(day(2), 30), tardy(day(4), 30), tardy(day(6), 30)), AS_OF)

    assert not result.holds("truant")


def test_tardies_of_31_minutes_count_as_occasions(ca: Policy) -> None:
    result = evaluate(ca, student(tardy(day(2), 31), tardy(day(4), 31), tardy(day(6), 31)), AS_OF)

    assert result.holds("truant")


def test_an_unexcused_early_departure_over_30_minutes_counts(ca: Policy) -> None:
    events = [absence(day(2), minutes=45), absence(day(4)), tardy(day(6), 31)]
    result = evaluate(ca, student(*events), AS_OF)

    assert result.holds("truant")


def test_excused_absences_never_count_toward_truancy(ca: Policy) -> None:
    events = [absence(day(n), "excused") for n in range(1, 20)]
    result = evaluate(ca, student(*events), AS_OF)

    assert not result.holds("truant")
    assert result.holds("chronically_absent")


def test_each_later_unexcused_day_or_tardy_is_a_further_report_48261(ca: Policy) -> None:
    events = [absence(day(1)), absence(day(2)), absence(day(3)), tardy(day(10), 5), absence(day(30))]
    result = evaluate(ca, student(*events), AS_OF)

    (truant,) = [d for d in result.designations if d.id == "truant"]
    assert truant.met_on == day(3)
    assert truant.occasions == 3
    assert [e.date for e in truant.evidence] == [day(1), day(2), day(3), day(10), day(30)]


def _three_reports() -> list[AttendanceEvent]:
    return [absence(day(1)), absence(day(2)), absence(day(3)), absence(day(8)), absence(day(12))]


def test_habitual_truant_needs_three_reports_and_the_conference_effort_48262(ca: Policy) -> None:
    without = evaluate(ca, student(*_three_reports()), AS_OF)
    with_conference = evaluate(
        ca, student(*_three_reports()), AS_OF, conditions={"parent_conference_attempted": day(9)}
    )

    assert not without.holds("habitual_truant")
    (habitual,) = [d for d in with_conference.designations if d.id == "habitual_truant"]
    assert habitual.met_on == day(12)
    assert habitual.count == 3


def test_a_conference_after_the_third_report_dates_the_designation(ca: Policy) -> None:
    conference = {"parent_conference_attempted": day(40)}
    result = evaluate(ca, student(*_three_reports()), AS_OF, conditions=conference)

    (habitual,) = [d for d in result.designations if d.id == "habitual_truant"]
    assert habitual.met_on == day(40)


def test_a_conference_dated_after_the_evaluation_date_has_not_happened(ca: Policy) -> None:
    conference = {"parent_conference_attempted": day(21)}
    result = evaluate(ca, student(*_three_reports()), day(20), conditions=conference)

    assert not result.holds("habitual_truant")


def test_two_reports_are_not_habitual_truancy(ca: Policy) -> None:
    events = [absence(day(1)), absence(day(2)), absence(day(3)), absence(day(8))]
    result = evaluate(ca, student(*events), AS_OF, conditions={"parent_conference_attempted": day(5)})

    assert result.counts["habitual_truant.reports"] == 2
    assert not result.holds("habitual_truant")


@pytest.mark.parametrize(("absences", "expected"), [(3, False), (4, True)])
def test_chronic_absence_is_ten_percent_of_enrolled_days(ca: Policy, absences: int, expected: bool) -> None:
    events = [absence(day(n), "excused") for n in range(1, absences + 1)]
    result = evaluate(ca, student(*events), day(40))

    assert result.counts["enrolled_days"] == 40
    assert result.holds("chronically_absent") is expected


def test_chronic_absence_counts_out_of_school_suspension_but_not_tardies(ca: Policy) -> None:
    events = [absence(day(n), "suspension") for n in range(1, 5)] + [tardy(day(n), 90) for n in range(5, 20)]
    result = evaluate(ca, student(*events), day(40))

    assert result.counts["chronically_absent.percent_of_enrolled_days"] == 10.0
    assert result.holds("chronically_absent")


def test_chronic_absence_waits_for_31_enrolled_days(ca: Policy) -> None:
    events = [absence(day(n), "excused") for n in range(1, 6)]

    assert not evaluate(ca, student(*events), day(30)).holds("chronically_absent")
    (designation,) = evaluate(ca, student(*events), day(31)).designations
    assert designation.id == "chronically_absent"
    assert designation.met_on == day(31)


def test_chronic_absence_ends_when_attendance_recovers_and_dates_the_current_run(ca: Policy) -> None:
    events = [absence(day(n), "excused") for n in (1, 2, 3, 4, 45, 46)]

    assert evaluate(ca, student(*events), day(40)).holds("chronically_absent")  # 4 of 40
    assert not evaluate(ca, student(*events), day(41)).holds("chronically_absent")  # 4 of 41
    result = evaluate(ca, student(*events), day(50))  # 6 of 50; 5 of 45 on day 45, 4 of 44 the day before
    (designation,) = result.designations
    assert result.counts["chronically_absent.percent_of_enrolled_days"] == 12.0
    assert designation.met_on == day(45)
    assert [e.date for e in designation.evidence] == [day(n) for n in (1, 2, 3, 4, 45, 46)]


def test_mid_year_enrolment_counts_only_the_days_enrolled(ca: Policy) -> None:
    enrolled = CALENDAR[99:]
    events = [absence(enrolled[n], "unexcused") for n in range(4)]
    result = evaluate(ca, student(*events, days=enrolled), CALENDAR[138])

    assert result.counts["enrolled_days"] == 40
    assert result.counts["chronic_truant.percent_of_enrolled_days"] == 10.0
    assert not result.holds("chronic_truant")  # § 48263.6 waits for the steps before it
    assert result.holds("chronically_absent")


def test_records_after_the_evaluation_date_or_on_days_not_enrolled_are_ignored(ca: Policy) -> None:
    holiday = date(2024, 11, 11)
    events = [absence(day(1)), absence(holiday), absence(day(150))]
    result = evaluate(ca, student(*events), day(100))

    assert result.counts["truant.occasions"] == 1
    assert result.counts["enrolled_days"] == 100
