"""The IL and FL gates as the packs read the statutes: 105 ILCS 5/26-12(a) wants supportive services
provided (a referral only made is an offer) and school resources (a plan the school signed); Fla.
Stat. § 1003.26(1)(b)-(c) wants the child study team's meeting and an intervention, a plan or a
referral."""

from __future__ import annotations

from datetime import date

from truancy.mappings.case import CaseState
from truancy.mappings.casework import load_casework
from truancy.mappings.casework_readiness import escalation_blockers
from truancy.mappings.casework_records import CaseFile, Conference, Plan, Referral

MET = date(2026, 10, 1)
TODAY = date(2026, 11, 2)
CASE = CaseState("s1", "2026-27", "p", "open", None, {}, {}, ())
SIGNED = Plan("p1", "plan", MET, signatures={"school": MET})


def _blocked(state: str, task: str, file: CaseFile) -> list[str]:
    escalation = load_casework(state).escalation(task)
    assert escalation is not None
    return escalation_blockers(escalation, CASE, file, TODAY)


def test_il_no_hearing_referral_until_services_were_provided_and_school_resources_given() -> None:
    made = Referral("r1", "frc", "counselling", "made", MET)
    started = Referral("r1", "frc", "counselling", "started", MET)
    assert _blocked("IL", "truancy_hearing_referral", CaseFile(plans=(SIGNED,), referrals=(made,))) == [
        "Appropriate and available supportive services provided to the student "
        "(105 ILCS 5/26-12(a) (provided = started or completed; the pack's reading))"
    ]
    only_services = _blocked("IL", "truancy_hearing_referral", CaseFile(referrals=(started,)))
    assert [line.split(" (")[0] for line in only_services] == ["Other school resources provided"]
    both = CaseFile(plans=(SIGNED,), referrals=(started,))
    assert _blocked("IL", "truancy_hearing_referral", both) == []


def test_fl_no_truancy_petition_before_the_child_study_team_met_and_intervened() -> None:
    met = Conference("c1", "child_study_team", outcome="held", held_on=MET)
    assert len(_blocked("FL", "truancy_petition", CaseFile())) == 2
    assert [b.split(" (")[0] for b in _blocked("FL", "truancy_petition", CaseFile(conferences=(met,)))] == [
        "Interventions implemented"
    ]
    referral = Referral("r1", "frc", "family_support", "made", MET)
    assert _blocked("FL", "truancy_petition", CaseFile(conferences=(met,), referrals=(referral,))) == []
    assert _blocked("FL", "truancy_petition", CaseFile(conferences=(met,), plans=(SIGNED,))) == []
