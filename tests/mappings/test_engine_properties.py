"""Properties every pack must keep, whatever the attendance: an officer's correction can only help
the student, and the result never depends on the order the SIS sent the records in."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.mappings.attendance_factory import CALENDAR
from tests.mappings.packs import load_pack
from truancy.mappings.engine import evaluate
from truancy.mappings.facts import AttendanceEvent, Category, StudentAttendance
from truancy.mappings.policy import Policy, available_policies

PACKS = {code: load_pack(code) for code in available_policies()}
YEAR = CALENDAR[:100]
CONDITIONS = {"parent_conference_attempted": YEAR[20]}


@st.composite
def records(draw: st.DrawFn) -> tuple[StudentAttendance, date]:
    """A student's year: some days missed, each day's record whole or partial, and an evaluation date."""
    missed = draw(st.sets(st.integers(0, len(YEAR) - 1), max_size=40))
    events: list[AttendanceEvent] = []
    for index in sorted(missed):
        category = draw(
            st.sampled_from([Category.UNEXCUSED, Category.EXCUSED, Category.TARDY, Category.SUSPENSION])
        )
        partial = category is Category.TARDY or (category is not Category.SUSPENSION and draw(st.booleans()))
        minutes = draw(st.integers(1, 240)) if partial else None
        events.append(AttendanceEvent("S1", YEAR[index], category, minutes))
    twice = draw(st.booleans())
    if events and twice:
        # Period-level SIS data can leave two records on one day: the strongest must win, always.
        events.append(AttendanceEvent("S1", events[0].date, Category.UNEXCUSED, draw(st.integers(1, 60))))
    as_of = YEAR[draw(st.integers(0, len(YEAR) - 1))]
    return StudentAttendance("S1", YEAR, tuple(events)), as_of


def counts_excused(policy: Policy, designation: str) -> bool:
    counts = policy.rules[designation].counts
    return counts is None or Category.EXCUSED in counts.categories


@pytest.mark.parametrize("code", sorted(PACKS))
@settings(max_examples=40, deadline=None)
@given(case=records(), data=st.data())
def test_an_added_excused_absence_never_adds_a_truancy_designation(
    code: str, case: tuple[StudentAttendance, date], data: st.DataObject
) -> None:
    policy = PACKS[code]
    student, as_of = case
    taken = {event.date for event in student.events}
    free = [day for day in YEAR if day not in taken]
    extra = AttendanceEvent("S1", data.draw(st.sampled_from(free)), Category.EXCUSED)
    before = evaluate(policy, student, as_of, conditions=CONDITIONS)
    after = evaluate(policy, replace(student, events=(*student.events, extra)), as_of, conditions=CONDITIONS)

    added = {d.id for d in after.designations} - {d.id for d in before.designations}
    assert {designation for designation in added if not counts_excused(policy, designation)} == set()


@pytest.mark.parametrize("code", sorted(PACKS))
@settings(max_examples=40, deadline=None)
@given(case=records(), data=st.data())
def test_recoding_an_unexcused_day_as_excused_never_raises_a_truancy_count(
    code: str, case: tuple[StudentAttendance, date], data: st.DataObject
) -> None:
    policy = PACKS[code]
    student, as_of = case
    unexcused = [i for i, event in enumerate(student.events) if event.category is Category.UNEXCUSED]
    if not unexcused:
        return
    index = data.draw(st.sampled_from(unexcused))
    events = list(student.events)
    events[index] = replace(events[index], category=Category.EXCUSED)
    before = evaluate(policy, student, as_of, conditions=CONDITIONS)
    after = evaluate(policy, replace(student, events=tuple(events)), as_of, conditions=CONDITIONS)

    for rule_id, rule in policy.rules.items():
        key = f"{rule_id}.{rule.unit}"
        if rule.enabled and not counts_excused(policy, rule_id):
            assert after.counts[key] <= before.counts[key], key
    assert after.counts["unexcused_days"] <= before.counts["unexcused_days"]


@pytest.mark.parametrize("code", sorted(PACKS))
@settings(max_examples=40, deadline=None)
@given(case=records(), order=st.randoms(use_true_random=False))
def test_input_order_does_not_matter(
    code: str, case: tuple[StudentAttendance, date], order: random.Random
) -> None:
    policy = PACKS[code]
    student, as_of = case
    shuffled = list(student.events)
    order.shuffle(shuffled)

    assert evaluate(
        policy, replace(student, events=tuple(shuffled)), as_of, conditions=CONDITIONS
    ) == evaluate(policy, student, as_of, conditions=CONDITIONS)
