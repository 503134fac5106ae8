"""Small-cell suppression for the outcomes report: no student can be picked out of what it publishes.

A cell counting fewer than ``MIN_CELL`` students is withheld (``None``), and so is every figure
of a group that small. Where a published total would give a lone withheld cell back (the district
total minus the schools shown), the next smallest cell of that column is withheld too
(complementary suppression). Rates are computed only from published counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MIN_CELL = 10
"""Fewer than ten students is a small cell (the threshold the issue sets; CDE's DataQuest uses 11)."""


def cell(value: int | None) -> int | None:
    return value if value is not None and value >= MIN_CELL else None


def rate(part: int | None, whole: int | None) -> float | None:
    return part / whole if part is not None and whole else None


def group_rows(
    groups: Mapping[str, Mapping[str, int]],
    measures: Sequence[str],
    *,
    key: str,
    total_published: bool = True,
) -> list[dict[str, Any]]:
    """One row per group (``key`` names the group), small cells withheld, complements withheld."""
    rows: list[dict[str, Any]] = []
    for name in sorted(groups):
        counts = groups[name]
        small_group = counts.get("students", 0) < MIN_CELL
        row: dict[str, Any] = {key: name}
        for measure in ("students", *measures):
            row[measure] = None if small_group else cell(counts.get(measure, 0))
        rows.append(row)
    if total_published:
        for measure in ("students", *measures):
            _complement(rows, measure, groups, key)
    return rows


def _complement(
    rows: list[dict[str, Any]], measure: str, groups: Mapping[str, Mapping[str, int]], key: str
) -> None:
    """Withhold the smallest published cell while exactly one of the column is withheld."""
    while sum(row[measure] is None for row in rows) == 1:
        published = [row for row in rows if row[measure] is not None]
        if not published:
            return
        smallest = min(published, key=lambda row: (groups[row[key]].get(measure, 0), row[key]))
        smallest[measure] = None


def with_rates(row: dict[str, Any], measures: Mapping[str, str]) -> dict[str, Any]:
    """The row with ``rate_name: measure / students`` for each published pair."""
    return {
        **row,
        **{name: rate(row.get(measure), row.get("students")) for name, measure in measures.items()},
    }
