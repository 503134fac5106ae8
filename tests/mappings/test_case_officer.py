"""Officer work in the case: a dismissed flag stays dismissed until new evidence; overrides are logged."""

from __future__ import annotations

from datetime import date

from truancy.mappings.case import (
    CaseState,
    OfficerAction,
    Override,
    advance_case,
    case_from_dict,
    case_to_dict,
    desired_writes,
    flag_key,
    record_overrides,
)
from truancy.mappings.determination import Determination
from truancy.mappings.writes import DesiredWrite, WriteKind, sync_key

from .case_fixtures import CALENDAR, CASE_POLICY, STUDENT, YEAR, designation, determination

TRUANT_ON = date(2025, 11, 7)
FIRST_THREE = (date(2025, 11, 3), date(2025, 11, 5), TRUANT_ON)
DISMISSED_ON = date(2025, 11, 14)


def truant(as_of: date, *absences: date, occasions: int = 1) -> Determination:
    return determination(
        as_of, designation("truant", TRUANT_ON, occasions=occasions, absences=FIRST_THREE + absences)
    )


def advance(previous: CaseState | None, found: Determination, *actions: OfficerAction) -> CaseState | None:
    return advance_case(
        previous, found, case_policy=CASE_POLICY, calendar=CALENDAR, school_year=YEAR, officer_actions=actions
    )


def flags(case: CaseState, found: Determination) -> list[DesiredWrite]:
    writes = desired_writes(case, found, case_policy=CASE_POLICY, calendar=CALENDAR)
    return [w for w in writes if w.kind is WriteKind.FLAG]


def dismissed_case() -> tuple[CaseState, Determination]:
    found = truant(DISMISSED_ON)
    opened = advance(None, found)
    assert opened is not None
    dismissal = OfficerAction("flag_dismissed", DISMISSED_ON, sync_key=flag_key(STUDENT, YEAR, "truant", 0))
    dismissed = advance(opened, found, dismissal)
    assert dismissed is not None
    return dismissed, found


def test_the_first_flag_key_is_the_designations_own() -> None:
    assert flag_key(STUDENT, YEAR, "truant", 0) == sync_key(WriteKind.FLAG, STUDENT, YEAR, "truant")
    assert flag_key(STUDENT, YEAR, "truant", 1) != flag_key(STUDENT, YEAR, "truant", 0)


def test_a_dismissed_flag_is_desired_dismissed_and_stays_so_without_new_evidence() -> None:
    case, found = dismissed_case()
    assert case.designations["truant"].dismissed_on == DISMISSED_ON
    assert [(f.sync_key, f.fields["status"]) for f in flags(case, found)] == [
        (flag_key(STUDENT, YEAR, "truant", 0), "dismissed")
    ]
    later = truant(date(2025, 12, 1))
    again = advance(case, later)
    assert again is not None
    assert again.designations["truant"].dismissed_on == DISMISSED_ON
    assert [e.kind for e in again.history] == [e.kind for e in case.history]


def test_new_evidence_after_a_dismissal_shows_the_flag_again_in_a_new_row() -> None:
    case, _ = dismissed_case()
    dismissal = OfficerAction("flag_dismissed", DISMISSED_ON, sync_key=flag_key(STUDENT, YEAR, "truant", 0))
    newer = truant(date(2025, 12, 3), date(2025, 12, 1), date(2025, 12, 2), date(2025, 12, 3), occasions=2)
    back = advance(case, newer, dismissal)
    assert back is not None
    held = back.designations["truant"]
    assert (held.dismissed_on, held.flag_round) == (None, 1)
    assert back.history[-1].kind == "flag_reinstated"
    assert "2025-11-14" in back.history[-1].detail
    assert [(f.sync_key, f.fields["status"]) for f in flags(back, newer)] == [
        (flag_key(STUDENT, YEAR, "truant", 1), "active")
    ]
    # the old row is still read back as dismissed every cycle: nothing changes
    assert advance(back, newer, dismissal) == back


def test_dismissing_a_flag_when_newer_evidence_already_counts_settles_in_one_step() -> None:
    found = truant(date(2025, 12, 3), date(2025, 12, 1), date(2025, 12, 2), date(2025, 12, 3), occasions=2)
    opened = advance(None, found)
    assert opened is not None
    dismissal = OfficerAction("flag_dismissed", DISMISSED_ON, sync_key=flag_key(STUDENT, YEAR, "truant", 0))
    once = advance(opened, found, dismissal)
    assert once is not None
    assert [e.kind for e in once.history][-2:] == ["flag_dismissed", "flag_reinstated"]
    assert advance(once, found, dismissal) == once


def test_a_redesignation_after_a_dismissal_gets_a_new_flag_row() -> None:
    case, _ = dismissed_case()
    gone = advance(case, determination(date(2025, 11, 20)))
    assert gone is not None
    assert not gone.designations["truant"].active
    met_again = date(2026, 1, 9)
    back = determination(met_again, designation("truant", met_again, absences=(met_again,)))
    again = advance(gone, back)
    assert again is not None
    assert [f.sync_key for f in flags(again, back)] == [flag_key(STUDENT, YEAR, "truant", 1)]


def test_overrides_are_logged_once_and_survive_storage() -> None:
    case, _ = dismissed_case()
    task_key = sync_key(WriteKind.TASK, STUDENT, YEAR, "truancy_notification")
    override = Override(task_key, WriteKind.TASK, "status")
    logged = record_overrides(case, [override], on=date(2025, 11, 20))
    assert logged.history[-1].kind == "officer_override"
    assert task_key in logged.history[-1].detail
    assert "status" in logged.history[-1].detail
    assert record_overrides(logged, [override], on=date(2025, 11, 21)) == logged
    assert record_overrides(logged, [], on=date(2025, 11, 21)) is logged
    assert case_from_dict(case_to_dict(logged)) == logged
