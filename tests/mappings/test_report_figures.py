"""The published report flattened into figure rows: every cell once, numbers only, keyed per year."""

from __future__ import annotations

from typing import Any

import pytest

from truancy.mappings.report_figures import FigureTableMap, figure_key, figure_text, figure_writes


def _report(**changes: Any) -> dict[str, Any]:
    group = {"students": 120, "truant": 15, "chronically_absent": None, "habitual_truant": None,
             "chronic_truant": None, "truancy_rate": 0.125, "chronic_absence_rate": None}  # fmt: skip
    report: dict[str, Any] = {
        "year": "2025-26",
        "as_of": "2026-06-04",
        "district": group,
        "schools": [{"school_id": "100", **group}],
        "grades": [],
        "months": [
            {
                "month": "2026-01",
                "students": 100,
                "truant": 12,
                "chronically_absent": None,
                "truancy_rate": 0.12,
                "chronic_absence_rate": None,
            }
        ],
        "tiers_over_time": [{"month": "2026-01", "tiers": {"Parent conference": 11, "SARB": None}}],
        "interventions": [
            {
                "kind": "letter",
                "language": "all",
                "students": 40,
                "not_yet_measurable": None,
                "recorded": True,
                "before": 0.9,
                "after": 0.95,
                "change": 0.05,
                "ci_low": 0.01,
                "ci_high": 0.09,
            },
            {
                "kind": "plan",
                "language": "all",
                "students": None,
                "not_yet_measurable": None,
                "recorded": False,
                "before": None,
                "after": None,
                "change": None,
                "ci_low": None,
                "ci_high": None,
            },
        ],
        "sarb_48273": {
            "referrals": [{"type": "sarb_referral", "title": "SARB", "made": 12, "declined": None}]
        },
        "holdout": None,
    }
    report.update(changes)
    return report


def test_every_published_cell_is_one_row_and_withheld_cells_are_empty() -> None:
    writes = figure_writes(_report())
    cells = {(w.fields["section"], w.fields["subject"], w.fields["detail"], w.fields["measure"]):
             w.fields["figure_value"] for w in writes}  # fmt: skip
    assert len(cells) == len(writes) == 7 + 7 + 5 + 2 + 7 + 2
    assert cells[("district", "", "", "students")] == "120"
    assert cells[("district", "", "", "chronically_absent")] == ""
    assert cells[("school", "100", "", "truancy_rate")] == "0.125"
    assert cells[("tier", "2026-01", "SARB", "cases")] == ""
    assert cells[("intervention", "letter", "all", "change")] == "0.05"
    assert not any(key[1] == "plan" for key in cells)  # nothing recorded, nothing published
    assert cells[("sarb", "sarb_referral", "", "declined")] == ""
    assert {w.fields["school_year"] for w in writes} == {"2025-26"}


def test_the_key_names_the_figure_and_the_year() -> None:
    first = {w.sync_key for w in figure_writes(_report())}
    assert first == {w.sync_key for w in figure_writes(_report())}
    assert not first & {w.sync_key for w in figure_writes(_report(year="2026-27"))}
    assert figure_key("2025-26", "a\x1fb", "", "", "m") != figure_key("2025-26", "a", "b", "", "m")


@pytest.mark.parametrize("value", ["Lopez, Ana", "100234", True, float("nan"), [1]])
def test_a_figure_that_is_not_a_number_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="must be a number"):
        figure_text(value)


def test_a_table_map_must_place_every_field() -> None:
    with pytest.raises(ValueError, match="lacks"):
        FigureTableMap(table="U_X", columns={"measure": "measure"})
