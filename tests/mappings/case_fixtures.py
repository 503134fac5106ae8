"""Hand-built determinations and a CA-shaped case policy, so case tests do not depend on the engine."""

from __future__ import annotations

from datetime import date, timedelta

from truancy.mappings.case_policy import CasePolicy
from truancy.mappings.determination import Designation, Determination, Evidence
from truancy.mappings.facts import Category, SchoolCalendar

STUDENT = "stu-1"
YEAR = "2025-26"
VETERANS_DAY = date(2025, 11, 11)

CASE_POLICY = CasePolicy.model_validate(
    {
        "tiers": [
            {
                "id": "notification",
                "label": "Truancy notification",
                "enter_when": {"designation": "truant"},
                "tasks": [
                    {
                        "id": "truancy_notification",
                        "title": "Notify parent/guardian of truancy",
                        "citation": "Cal. Educ. Code § 48260.5",
                        "due_school_days": 5,
                        "checklist": ["that the pupil is truant", "alternative programs"],
                    }
                ],
            },
            {
                "id": "conference",
                "label": "Parent conference",
                "enter_when": {"designation": "truant", "occasions_at_least": 2},
                "tasks": [
                    {
                        "id": "parent_conference",
                        "title": "Hold a conference with parent and pupil",
                        "citation": "Cal. Educ. Code § 48262",
                        "due_school_days": 10,
                        "satisfies": "parent_conference_attempted",
                    }
                ],
            },
            {
                "id": "sarb",
                "label": "SARB referral",
                "enter_when": {"designation": "habitual_truant"},
                "tasks": [
                    {
                        "id": "sarb_referral",
                        "title": "Refer to SARB",
                        "citation": "Cal. Educ. Code § 48263",
                        "due_school_days": 10,
                    }
                ],
            },
        ]
    }
)


def school_calendar(first: date = date(2025, 8, 18), last: date = date(2026, 6, 12)) -> SchoolCalendar:
    """Weekdays of the 2025-26 year, without Veterans Day."""
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5 and day != VETERANS_DAY:
            days.append(day)
        day += timedelta(days=1)
    return SchoolCalendar("school-1", tuple(days))


CALENDAR = school_calendar()


def designation(
    designation_id: str, met_on: date, *, occasions: int = 1, absences: tuple[date, ...] = ()
) -> Designation:
    evidence = tuple(Evidence(day, Category.UNEXCUSED) for day in absences or (met_on,))
    return Designation(
        id=designation_id,
        label=designation_id.replace("_", " ").capitalize(),
        citation=f"Code § {designation_id}",
        rule=designation_id,
        met_on=met_on,
        count=float(len(evidence)),
        threshold=3.0,
        unit="occasions",
        evidence=evidence,
        occasions=occasions,
    )


def determination(as_of: date, *designations: Designation, student_id: str = STUDENT) -> Determination:
    return Determination(student_id, "CA", "2025.1", as_of, tuple(designations))
