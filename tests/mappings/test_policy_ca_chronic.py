"""CA § 48263.6 as the statute reads: a chronic truant only once §§ 48260-48263 and 48291 are on record.

"... is deemed a chronic truant, provided that the appropriate school district officer or employee
has complied with Sections 48260, 48260.5, 48261, 48262, 48263, and 48291." The percentage alone
(3 unexcused days of the first 4) is not enough; the designation follows the steps, and the evidence
an officer reads shows each record's minutes and code, further reports (§ 48261) labelled as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pytest

from tests.mappings.attendance_factory import CALENDAR, absence, day, student, tardy
from truancy.mappings.case import CaseState, OfficerAction, advance_case, conditions_with, desired_writes
from truancy.mappings.engine import evaluate
from truancy.mappings.facts import SchoolCalendar
from truancy.mappings.policy import Policy, load_policy

STEPS = {
    "parent_conference_attempted": day(12),
    "truancy_notification_sent": day(8),
    "sarb_referral_made": day(20),
    "sarb_determination_recorded": day(40),
}
# Unexcused days 3, 5, 7 (truant on day 7, § 48260), 9 and 11 (further reports, § 48261): the
# third report on day 11 with the conference on day 12 makes the habitual truant (§ 48262).
UNEXCUSED = tuple(absence(day(n), code="A") for n in (3, 5, 7, 9, 11))


@pytest.fixture(scope="module")
def ca() -> Policy:
    return load_policy("ca")


def test_three_unexcused_days_of_the_first_four_make_a_truant_not_a_chronic_truant(ca: Policy) -> None:
    events = [absence(day(n)) for n in (1, 2, 3)]
    result = evaluate(ca, student(*events), day(4))

    assert result.holds("truant")
    assert result.counts["chronic_truant.percent_of_enrolled_days"] == 75.0
    assert not result.holds("chronic_truant")


def test_every_step_on_record_makes_the_chronic_truant_on_the_day_the_last_one_held(ca: Policy) -> None:
    result = evaluate(ca, student(*UNEXCUSED), day(50), conditions=STEPS)

    (chronic,) = [d for d in result.designations if d.id == "chronic_truant"]
    assert chronic.met_on == day(40)
    assert result.counts["chronic_truant.percent_of_enrolled_days"] == 10.0
    assert chronic.citation == "Cal. Educ. Code § 48263.6"


@pytest.mark.parametrize("missing", sorted(STEPS))
def test_a_missing_step_means_no_chronic_truant(ca: Policy, missing: str) -> None:
    conditions = {name: on for name, on in STEPS.items() if name != missing}
    result = evaluate(ca, student(*UNEXCUSED), day(50), conditions=conditions)

    assert result.counts["chronic_truant.percent_of_enrolled_days"] == 10.0
    assert not result.holds("chronic_truant")


def test_a_step_recorded_after_the_evaluation_date_has_not_happened_yet(ca: Policy) -> None:
    later = {**STEPS, "sarb_determination_recorded": day(60)}

    assert not evaluate(ca, student(*UNEXCUSED), day(50), conditions=later).holds("chronic_truant")


def test_without_the_habitual_truant_designation_there_is_no_chronic_truant(ca: Policy) -> None:
    # Two reports only (truant on day 7, one further report): no § 48262 designation to rest on.
    events = [absence(day(n)) for n in (3, 5, 7, 9)]
    result = evaluate(ca, student(*events), day(40), conditions=STEPS)

    assert result.counts["chronic_truant.percent_of_enrolled_days"] == 10.0
    assert not result.holds("habitual_truant")
    assert not result.holds("chronic_truant")


def _cycle(
    ca: Policy, case: CaseState | None, on: date, actions: tuple[OfficerAction, ...] = ()
) -> tuple[CaseState, Mapping[str, date]]:
    assert ca.case is not None
    conditions = conditions_with(case, actions, ca.case)
    determination = evaluate(ca, student(*UNEXCUSED), on, conditions=conditions)
    advanced = advance_case(
        case,
        determination,
        case_policy=ca.case,
        calendar=SchoolCalendar("school-1", CALENDAR),
        school_year="2024-25",
        officer_actions=actions,
    )
    assert advanced is not None
    return advanced, conditions


def _done(task_id: str, on: date, outcome: str) -> OfficerAction:
    return OfficerAction("task_done", on, task_id=task_id, outcome=outcome)


def test_officer_steps_read_back_lead_to_the_chronic_truancy_tier_after_the_determination(ca: Policy) -> None:
    case, _ = _cycle(ca, None, day(11))
    assert case.tier == "conference"
    case, _ = _cycle(
        ca,
        case,
        day(13),
        (_done("truancy_notification", day(8), "sent_mail"), _done("parent_conference", day(12), "held")),
    )
    assert case.tier == "sarb"
    assert "chronic_truant" not in case.designations
    case, _ = _cycle(ca, case, day(21), (_done("sarb_referral", day(20), "made"),))
    assert "chronic_truant" not in case.designations

    case, conditions = _cycle(ca, case, day(41), (_done("sarb_determination", day(40), "completed"),))

    assert conditions == STEPS
    assert case.designations["chronic_truant"].met_on == day(40)
    assert case.tier == "chronic_truancy"
    assert case.tier_entries()["chronic_truancy"] == day(40)


def test_a_declined_referral_is_no_referral_so_no_chronic_truant(ca: Policy) -> None:
    case, _ = _cycle(ca, None, day(11))
    case, _ = _cycle(
        ca,
        case,
        day(13),
        (_done("truancy_notification", day(8), "phone"), _done("parent_conference", day(12), "no_show")),
    )
    case, _ = _cycle(
        ca,
        case,
        day(41),
        (_done("sarb_referral", day(20), "declined"), _done("sarb_determination", day(40), "completed")),
    )

    assert "sarb_referral_made" not in case.conditions
    assert "chronic_truant" not in case.designations


def test_the_evidence_shows_minutes_and_codes_and_labels_further_reports(ca: Policy) -> None:
    assert ca.case is not None
    events = [
        absence(day(2), code="A"),
        tardy(day(4), 45),
        absence(day(6), minutes=40, code="ED"),
        absence(day(8), code="UNX"),
        absence(day(10), "tardy", 5, "T"),
    ]
    determination = evaluate(ca, student(*events), day(12))
    case = advance_case(
        None,
        determination,
        case_policy=ca.case,
        calendar=SchoolCalendar("school-1", CALENDAR),
        school_year="2024-25",
    )
    assert case is not None
    writes = desired_writes(case, determination, case_policy=ca.case, calendar=SchoolCalendar("s", CALENDAR))
    flag = next(w for w in writes if w.fields.get("flag_type") == "truant")

    first, further = (
        f"first report: {day(2).isoformat()} unexcused A, {day(4).isoformat()} tardy 45 min, "
        f"{day(6).isoformat()} unexcused 40 min ED",
        f"further reports (Cal. Educ. Code § 48261): #2 {day(8).isoformat()} unexcused UNX; "
        f"#3 {day(10).isoformat()} tardy 5 min T",
    )
    assert flag.fields["detail"].endswith(f"evidence: {first}; {further}")
