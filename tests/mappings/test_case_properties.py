"""Properties over any sequence of determinations within one school year."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from truancy.mappings.case import CaseState, OfficerAction, advance_case, desired_writes
from truancy.mappings.determination import Designation, Determination
from truancy.mappings.writes import WriteKind

from .case_fixtures import CALENDAR, CASE_POLICY, YEAR, designation, determination

START = date(2025, 9, 1)


@st.composite
def designations(draw: st.DrawFn, as_of: date) -> tuple[Designation, ...]:
    found = []
    for designation_id in draw(st.sets(st.sampled_from(["truant", "habitual_truant", "chronically_absent"]))):
        met_on = as_of - timedelta(days=draw(st.integers(0, 30)))
        later = draw(st.lists(st.integers(0, 30), max_size=3))
        absences = (
            met_on,
            *sorted(met_on + timedelta(days=d) for d in later if met_on + timedelta(days=d) <= as_of),
        )
        found.append(
            designation(designation_id, met_on, occasions=draw(st.integers(1, 4)), absences=absences)
        )
    return tuple(sorted(found, key=lambda d: d.id))


@st.composite
def cycles(draw: st.DrawFn) -> list[tuple[Determination, tuple[OfficerAction, ...]]]:
    as_of = START
    result = []
    for _ in range(draw(st.integers(1, 8))):
        as_of += timedelta(days=draw(st.integers(0, 20)))
        actions = draw(
            st.lists(
                st.builds(
                    OfficerAction,
                    kind=st.sampled_from(["task_done", "note_added", "flag_dismissed", "absence_excused"]),
                    on=st.just(as_of),
                    task_id=st.sampled_from(
                        [None, "truancy_notification", "parent_conference", "sarb_referral"]
                    ),
                    outcome=st.sampled_from([None, "held"]),
                ),
                max_size=2,
            )
        )
        result.append((determination(as_of, *draw(designations(as_of))), tuple(actions)))
    return result


@settings(max_examples=150, deadline=None)
@given(cycles())
def test_any_sequence_keeps_history_unique_keys_fixed_notes_and_idempotence(
    sequence: list[tuple[Determination, tuple[OfficerAction, ...]]],
) -> None:
    case: CaseState | None = None
    notes_so_far: dict[str, str] = {}
    for found, actions in sequence:
        advanced = advance_case(
            case, found, case_policy=CASE_POLICY, calendar=CALENDAR, school_year=YEAR, officer_actions=actions
        )
        if advanced is None:
            assert case is None
            continue
        previous_history = case.history if case is not None else ()
        assert advanced.history[: len(previous_history)] == previous_history
        assert [e.seq for e in advanced.history] == list(range(1, len(advanced.history) + 1))
        again = advance_case(
            advanced,
            found,
            case_policy=CASE_POLICY,
            calendar=CALENDAR,
            school_year=YEAR,
            officer_actions=actions,
        )
        assert again == advanced
        writes = desired_writes(advanced, found, case_policy=CASE_POLICY, calendar=CALENDAR)
        keys = [w.sync_key for w in writes]
        assert len(keys) == len(set(keys))
        notes = {w.sync_key: w.content_hash for w in writes if w.kind is WriteKind.NOTE}
        assert notes_so_far.items() <= notes.items()
        notes_so_far = notes
        flagged = {w.fields["flag_type"] for w in writes if w.kind is WriteKind.FLAG}
        assert flagged == {d.id for d in found.designations}
        case = advanced
