"""Casework packs: checklists met or missing with their citations, escalation preconditions as the
statutes read (CA § 48262, TX § 25.0915(a-3), PA § 13-1333.1(d)), deadlines with school days left,
plan progress, and the partner directory refused when malformed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from truancy.mappings.case import CaseState, HeldDesignation
from truancy.mappings.casework import Signer, casework_states, load_casework
from truancy.mappings.casework_directory import load_directory
from truancy.mappings.casework_readiness import checklist, deadlines, escalation_blockers, plan_progress
from truancy.mappings.casework_records import (
    Attempt,
    CaseFile,
    Conference,
    Plan,
    RecordedException,
    Referral,
)
from truancy.mappings.facts import SchoolCalendar
from truancy.mappings.yaml_source import MappingFileError

MET = date(2026, 10, 1)
TODAY = date(2026, 11, 2)


def _case(*designations: str, conditions: dict[str, date] | None = None) -> CaseState:
    held = {
        d: HeldDesignation(d, "", (MET, MET + timedelta(days=7), MET + timedelta(days=14)))
        for d in designations
    }
    return CaseState("s1", "2026-27", "p", "open", None, held, conditions or {}, ())


def _weekdays(start: date, end: date) -> tuple[date, ...]:
    return tuple(
        start + timedelta(days=i)
        for i in range((end - start).days + 1)
        if (start + timedelta(days=i)).weekday() < 5
    )


def _complete_file(meeting: str, signers: tuple[Signer, ...] = ("school", "parent")) -> CaseFile:
    return CaseFile(
        conferences=(
            Conference(
                "c1",
                meeting,
                datetime(2026, 10, 8, 15, 30),
                "Room 4",
                "held",
                date(2026, 10, 8),
                ("parent", "pupil", "counselor"),
                True,
                "daily check-in",
                (Attempt(date(2026, 10, 2), "email"), Attempt(date(2026, 10, 6), "email", "reminder")),
            ),
        ),
        plans=(
            Plan(
                "p1",
                "plan",
                date(2026, 10, 9),
                date(2026, 11, 6),
                signatures=dict.fromkeys(signers, date(2026, 10, 9)),
            ),
        ),
        referrals=(Referral("r1", "frc", "counselling", "accepted", date(2026, 10, 9)),),
    )


def test_every_shipped_pack_loads_and_cites_every_item() -> None:
    assert {"CA", "TX", "PA"} <= set(casework_states())
    for state in casework_states():
        pack = load_casework(state)
        for packet in pack.packets.values():
            assert all(item.citation.strip() for item in packet.checklist)


def test_ca_sarb_checklist_complete_when_every_step_is_on_record() -> None:
    pack = load_casework("CA")
    case = _case("truant", "habitual_truant", conditions={"truancy_notification_sent": MET})
    file = _complete_file("parent_conference")
    progress = {"p1": plan_progress(file.plans[0], dict.fromkeys(_weekdays(MET, TODAY), 1.0), TODAY)}
    items = checklist(pack, "sarb", case, file, progress)
    assert [i.id for i in items if not i.met] == []
    assert all("Cal. Educ. Code" in i.citation for i in items)


def test_ca_sarb_checklist_names_exactly_what_is_missing() -> None:
    pack = load_casework("CA")
    case = _case("truant", "habitual_truant", conditions={"truancy_notification_sent": MET})
    file = CaseFile(conferences=(Conference("c1", "parent_conference", attempts=(Attempt(MET, "mail"),)),))
    missing = [i.id for i in checklist(pack, "sarb", case, file, {}) if not i.met]
    assert missing == ["conference_record", "sart_contract", "community_services"]


def test_ca_sarb_referral_waits_for_a_conscientious_conference_effort() -> None:
    pack = load_casework("CA")
    escalation = pack.escalation("sarb_referral")
    assert escalation is not None
    assert escalation_blockers(escalation, _case("habitual_truant"), CaseFile(), TODAY)
    effort = _case("habitual_truant", conditions={"parent_conference_attempted": MET})
    assert escalation_blockers(escalation, effort, CaseFile(), TODAY) == []


def test_tx_prevention_measure_is_a_plan_or_a_referral() -> None:
    escalation = load_casework("TX").escalation("truancy_court_referral")
    assert escalation is not None
    referral = CaseFile(referrals=(Referral("r", "frc", "mentoring", "made", MET),))
    assert escalation_blockers(escalation, _case("court_referral"), referral, TODAY) == []
    declined = CaseFile(referrals=(Referral("r", "frc", "mentoring", "declined", MET),))
    assert escalation_blockers(escalation, _case("court_referral"), declined, TODAY)


def test_tx_court_referral_needs_a_measure_and_is_barred_by_a_recorded_exception() -> None:
    pack = load_casework("TX")
    escalation = pack.escalation("truancy_court_referral")
    assert escalation is not None
    case = _case("court_referral")
    assert any("25.0915(a-1)" in line for line in escalation_blockers(escalation, case, CaseFile(), TODAY))
    file = _complete_file("attendance_conference", ("school",))
    assert escalation_blockers(escalation, case, file, TODAY) == []
    homeless = CaseFile(
        file.conferences, file.plans, file.referrals, (RecordedException("homelessness", MET),)
    )
    blockers = escalation_blockers(escalation, case, homeless, TODAY)
    assert len(blockers) == 1
    assert blockers[0].startswith("homelessness recorded")


def test_tx_court_referral_deadline_counts_ten_school_days_from_the_tenth_absence() -> None:
    pack = load_casework("TX")
    calendar = SchoolCalendar("sch", _weekdays(date(2026, 8, 17), date(2027, 6, 1)))
    (deadline,) = deadlines(pack, _case("court_referral"), calendar, date(2026, 10, 6))
    assert deadline.due == date(2026, 10, 15)  # 10 weekdays after Thursday 1 October
    assert deadline.school_days_left == 7
    (late,) = deadlines(pack, _case("court_referral"), calendar, date(2026, 10, 19))
    assert late.school_days_left == -2


def test_tx_plan_form_is_at_most_45_school_days() -> None:
    assert load_casework("TX").plan.max_school_days == 45


def test_pa_referral_not_before_the_saic_date() -> None:
    pack = load_casework("PA")
    escalation = pack.escalation("habitual_truancy_referral")
    assert escalation is not None
    case = _case("habitually_truant")
    later = CaseFile(
        conferences=(Conference("c1", "saic", outcome="held", held_on=TODAY + timedelta(days=3)),)
    )
    assert any(
        "not before the saic date" in line for line in escalation_blockers(escalation, case, later, TODAY)
    )
    held = CaseFile(conferences=(Conference("c1", "saic", outcome="no_show", held_on=TODAY),))
    assert escalation_blockers(escalation, case, held, TODAY) == []


def test_plan_progress_compares_the_same_span_before_and_after_the_start() -> None:
    days = _weekdays(date(2026, 9, 1), date(2026, 10, 30))
    start = date(2026, 10, 1)
    attended = {d: (0.6 if d < start else 1.0) if d.day % 5 else 0.0 for d in days}
    plan = Plan("p", "plan", start, target_rate=0.9)
    progress = plan_progress(plan, attended, date(2026, 10, 30))
    assert progress.school_days == len([d for d in days if d >= start])
    assert progress.rate_before is not None
    assert progress.rate_since is not None
    assert progress.rate_since > progress.rate_before
    assert progress.on_track is (progress.rate_since >= 0.9)


def test_a_requirement_must_name_one_kind(tmp_path: Path) -> None:
    bad = tmp_path / "ca.yaml"
    text = (load_casework.__globals__["CASEWORK_DIR"] / "ca.yaml").read_text(encoding="utf-8")
    bad.write_text(
        text.replace("designation: habitual_truant", "designation: habitual_truant\n        condition: x")
    )
    with pytest.raises(MappingFileError, match="exactly one"):
        load_casework(bad)


def test_partner_directory_is_validated(tmp_path: Path) -> None:
    good = tmp_path / "partners.yaml"
    good.write_text(
        "partners:\n  - id: frc\n    name: Family Resource Center\n    services: [counselling, housing]\n"
        "    languages: [en, es]\n    ages: {min: 5, max: 18}\n    contact: {phone: '555-0100'}\n"
        "    consent_required: true\n",
        encoding="utf-8",
    )
    directory = load_directory(good)
    partner = directory.partner("frc")
    assert partner is not None
    assert partner.serves("housing", age=12, language="es")
    assert not partner.serves("tutoring")
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text(encoding="utf-8").replace("housing]", "housin]"), encoding="utf-8")
    with pytest.raises(MappingFileError, match="housin"):
        load_directory(bad)
