"""The outcomes report's published figures as rows a SIS can hold for a director's page.

One row per figure of the *published* report (small cells already withheld): a count of students,
a rate, a mean or a confidence bound, keyed by what it describes (section, subject, detail,
measure). A withheld cell is a row with an empty value, so the page can say "fewer than 10" rather
than nothing. Nothing here describes one student: subjects are schools, grades, months, kinds of
intervention and referral types; :func:`figure_writes` refuses any value that is not a number.

A figure's ``sync_key`` is its identity within the school year, so writing the same year again
replaces its rows instead of adding more.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from truancy.mappings.writes import stable_key

FIGURE_KIND = "figure"
GROUP_MEASURES = (
    "students",
    "truant",
    "chronically_absent",
    "habitual_truant",
    "chronic_truant",
    "truancy_rate",
    "chronic_absence_rate",
)
MONTH_MEASURES = ("students", "truant", "chronically_absent", "truancy_rate", "chronic_absence_rate")
INTERVENTION_MEASURES = ("students", "not_yet_measurable", "before", "after", "change", "ci_low", "ci_high")
HOLDOUT_MEASURES = ("nudged", "held_out", "effect", "ci_low", "ci_high")
SECTIONS = ("district", "school", "grade", "month", "tier", "intervention", "sarb", "petition", "holdout")
FIELDS = ("school_year", "as_of", "section", "subject", "detail", "measure", "figure_value")
"""The canonical fields of a figure write (the plugin's field map turns them into SIS columns)."""
_NUMBER = re.compile(r"^-?\d+(\.\d+)?(e-?\d+)?$")


class FigureTableMap(BaseModel):
    """Where figures land in the SIS (a field map's ``figure`` entry): one table, no student column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = Field(min_length=1)
    sync_key_column: str = "sync_key"
    columns: dict[str, str] = Field(min_length=1)
    """canonical field (:data:`FIELDS` and ``writer``) → SIS column."""

    @model_validator(mode="after")
    def _every_field_is_mapped(self) -> FigureTableMap:
        missing = sorted({*FIELDS, "writer"} - set(self.columns))
        if missing:
            raise ValueError(f"the figure table map lacks {missing}")
        return self

    def to_columns(self, write: FigureWrite) -> dict[str, str]:
        return {self.columns[name]: value for name, value in write.fields.items() if name in self.columns}

    def to_fields(self, row: Mapping[str, str]) -> dict[str, str]:
        return {name: row.get(column, "") for name, column in self.columns.items()}


@dataclass(frozen=True, slots=True)
class FigureWrite:
    """One published figure the SIS should hold; ``fields`` are strings (``figure_value`` "" when
    the report withheld the cell)."""

    sync_key: str
    fields: Mapping[str, str]


def figure_key(school_year: str, section: str, subject: str, detail: str, measure: str) -> str:
    """40 hex characters naming one figure of one school year (parts joined by a separator no key holds)."""
    return stable_key(FIGURE_KIND, school_year, section, subject, detail, measure)


def figure_text(value: Any) -> str:
    """A published figure as text: "" for a withheld cell, the shortest exact form of a number."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"a report figure must be a number or withheld, not {type(value).__name__}")
    text = str(value) if isinstance(value, int) else repr(float(value))
    if not _NUMBER.match(text):
        raise ValueError("a report figure must be a plain number")
    return text


def _cells(report: Mapping[str, Any]) -> Iterator[tuple[str, str, str, str, Any]]:
    """(section, subject, detail, measure, value) for every figure the report publishes."""
    for measure in GROUP_MEASURES:
        yield "district", "", "", measure, report["district"].get(measure)
    for section, rows, key in (
        ("school", report["schools"], "school_id"),
        ("grade", report["grades"], "grade"),
    ):
        for row in rows:
            for measure in GROUP_MEASURES:
                yield section, str(row[key]), "", measure, row.get(measure)
    for row in report["months"]:
        for measure in MONTH_MEASURES:
            yield "month", row["month"], "", measure, row.get(measure)
    for entry in report["tiers_over_time"]:
        for label, cases in sorted(entry["tiers"].items()):
            yield "tier", entry["month"], label, "cases", cases
    for row in report["interventions"]:
        if row["recorded"]:
            for measure in INTERVENTION_MEASURES:
                yield "intervention", row["kind"], row["language"], measure, row.get(measure)
    sarb = report["sarb_48273"]
    for referral in sarb.get("referrals", []):
        for measure in ("made", "declined"):
            yield "sarb", referral["type"], "", measure, referral[measure]
    for petition in sarb.get("petitions", []):
        yield "petition", petition["type"], "", "requested", petition["requested"]
    for effect in report.get("holdout") or []:
        for measure in HOLDOUT_MEASURES:
            yield "holdout", effect["task"], effect["designation"], measure, effect.get(measure)


def figure_writes(report: Mapping[str, Any]) -> list[FigureWrite]:
    """Every figure of a published report (:func:`truancy.daemon.report_outcomes.publish`), as writes."""
    year, as_of = report["year"], report["as_of"]
    writes = []
    for section, subject, detail, measure, value in _cells(report):
        fields = {
            "school_year": year,
            "as_of": as_of,
            "section": section,
            "subject": subject,
            "detail": detail,
            "measure": measure,
            "figure_value": figure_text(value),
        }
        writes.append(FigureWrite(figure_key(year, section, subject, detail, measure), fields))
    return writes
