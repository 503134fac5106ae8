"""Proposed code maps: plain descriptions are placed, vague or contradicted ones left to a person."""

from __future__ import annotations

import pytest

from truancy.mappings.codemap import CodeEntry, CodeMap
from truancy.mappings.discover import (
    Confidence,
    ObservedCode,
    compare_with_map,
    render_code_map,
    suggest,
    suggest_all,
)
from truancy.mappings.facts import Category


def code(
    description: str,
    present: bool | None = None,
    name: str = "X",
    occurrences: int = 0,
    with_minutes: int = 0,
) -> ObservedCode:
    return ObservedCode(name, description, present, occurrences=occurrences, with_minutes=with_minutes)


@pytest.mark.parametrize(
    ("description", "present", "category", "partial_day"),
    [
        ("Unexcused Absence", False, Category.UNEXCUSED, False),
        ("Truant", False, Category.UNEXCUSED, False),
        ("Excused Absence", False, Category.EXCUSED, False),
        ("Illness - Excused", False, Category.EXCUSED, False),
        ("Dental appointment", False, Category.EXCUSED, False),
        ("Tardy over 30 minutes", True, Category.TARDY, True),
        ("Unexcused Tardy", True, Category.TARDY, True),
        ("Early Dismissal - Unexcused", True, Category.UNEXCUSED, True),
        ("Left early (excused)", False, Category.EXCUSED, True),
        ("Out-of-School Suspension", False, Category.SUSPENSION, False),
        ("In-School Suspension", True, Category.PRESENT, False),
        ("Field Trip", True, Category.PRESENT, False),
        ("Present", True, Category.PRESENT, False),
    ],
)
def test_a_plain_description_is_placed(
    description: str, present: bool, category: Category, partial_day: bool
) -> None:
    suggestion = suggest(code(description, present))

    assert (suggestion.category, suggestion.partial_day) == (category, partial_day)
    assert suggestion.confidence is not None


@pytest.mark.parametrize(
    "description",
    [
        "Absent - Unverified",
        "Absent",
        "Not present",
        "Excused Tardy",
        "Early Dismissal",
        "Excused/Unexcused pending review",
        "Other",
        "",
        "Code 7",
    ],
)
def test_a_vague_description_is_left_unmapped_with_a_reason(description: str) -> None:
    suggestion = suggest(code(description, present=False))

    assert suggestion.category is None
    assert suggestion.reasons[0]


def test_a_description_the_sis_presence_flag_contradicts_is_left_unmapped() -> None:
    suggestion = suggest(code("Unexcused Absence", present=True))

    assert suggestion.category is None
    assert "presence status says present" in suggestion.reasons[0]


def test_confidence_rises_when_the_sis_flag_agrees_and_the_wording_is_plain() -> None:
    assert suggest(code("Excused Absence", present=False)).confidence is Confidence.HIGH
    assert suggest(code("Excused Absence")).confidence is Confidence.MEDIUM
    assert suggest(code("Medical Appointment", present=False)).confidence is Confidence.MEDIUM
    assert suggest(code("Medical Appointment")).confidence is Confidence.LOW


def test_the_ada_flag_stands_in_when_there_is_no_presence_flag() -> None:
    agreeing = suggest(ObservedCode("EX", "Excused Absence", counts_for_ada=False))
    contradicting = suggest(ObservedCode("EX", "Excused Absence", counts_for_ada=True))

    assert agreeing.confidence is Confidence.HIGH
    assert contradicting.category is None


def test_minutes_on_a_whole_day_code_are_pointed_out() -> None:
    suggestion = suggest(code("Excused Absence", False, occurrences=10, with_minutes=4))

    assert any("4 row(s) carry minutes" in reason for reason in suggestion.reasons)


def test_unmapped_codes_come_first_then_codes_in_order() -> None:
    observed = [code("Tardy", True, "T"), code("Absent", False, "A2"), code("Unexcused", False, "U")]

    assert [s.code for s in suggest_all(observed)] == ["A2", "T", "U"]


def test_the_proposed_file_loads_and_keeps_unmapped_codes_out_of_the_map() -> None:
    suggestions = suggest_all(
        [
            code("Absent - Unverified", False, "A", occurrences=12),
            code("Tardy", True, "T", occurrences=30, with_minutes=30),
            code("Excused", False, "N", occurrences=5),
            code("Unexcused", False, "1"),
        ]
    )
    text = render_code_map(suggestions, source="test SIS")

    proposed = CodeMap.from_yaml_text(text, source="codes.proposed.yaml")
    assert set(proposed.entries) == {"T", "N", "1"}
    tardy = proposed.categorize("T")
    assert tardy is not None
    assert (tardy.category, tardy.partial_day) == (Category.TARDY, True)
    assert text.index('# "A": {category: CHOOSE') < text.index('"T": {category: tardy')
    assert "12 row(s) this year" in text


def test_comparison_names_added_changed_unplaceable_and_undefined_codes() -> None:
    current = {
        "T": CodeEntry(category=Category.TARDY, partial_day=True),
        "EX": CodeEntry(category=Category.UNEXCUSED),
        "A": CodeEntry(category=Category.UNEXCUSED),
        "OLD": CodeEntry(category=Category.EXCUSED),
    }
    suggestions = suggest_all(
        [
            code("Tardy", True, "T"),
            code("Excused Absence", False, "EX"),
            code("Absent - Unverified", False, "A"),
            code("Out-of-School Suspension", False, "SUS"),
        ]
    )

    changes = {d.code: (d.change, d.current, d.proposed) for d in compare_with_map(current, suggestions)}

    assert changes == {
        "EX": ("changed", "unexcused", "excused"),
        "A": ("unmapped in proposal", "unexcused", None),
        "SUS": ("added", None, "suspension"),
        "OLD": ("not defined in the SIS", "excused", None),
    }
