"""The schema of a state policy pack: each rule says in data what the statute counts.

A rule names which records count (``counts``), how they are tallied (``unit``), over which period
(``window``) and against which threshold, so a new state or a district override needs no code.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from truancy.mappings.case_policy import CasePolicy
from truancy.mappings.facts import Category

Unit = Literal["days", "days_or_parts", "occasions", "percent_of_enrolled_days", "reports"]
WindowKind = Literal[
    "school_year",
    "calendar_month",
    "rolling_school_days",
    "rolling_calendar_days",
    "rolling_weeks",
    "rolling_months",
    "past_school_days",
]
_LENGTHLESS = ("school_year", "calendar_month")
_COUNT_UNITS = ("days", "days_or_parts", "occasions")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartialDays(_Strict):
    """Which part-day records count: ``more_than_minutes: 30`` (CA) or ``at_least_minutes: 1``.

    A tardy whose minutes the SIS did not record is taken as one minute late: the least it can be.
    """

    more_than_minutes: int | None = Field(default=None, ge=0)
    at_least_minutes: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> PartialDays:
        if (self.more_than_minutes is None) == (self.at_least_minutes is None):
            raise ValueError("give exactly one of more_than_minutes or at_least_minutes")
        return self

    @property
    def minimum_minutes(self) -> int:
        if self.more_than_minutes is not None:
            return self.more_than_minutes + 1
        assert self.at_least_minutes is not None
        return self.at_least_minutes


class Counts(_Strict):
    """Which records count: their categories, and whether whole days and/or part days do."""

    categories: tuple[Category, ...] = Field(min_length=1)
    full_days: bool = True
    partial_days: PartialDays | None = None

    @model_validator(mode="after")
    def _meaningful(self) -> Counts:
        if Category.PRESENT in self.categories:
            raise ValueError("'present' is attendance and never counts as an absence")
        if not self.full_days and self.partial_days is None:
            raise ValueError("counts nothing: set full_days or partial_days")
        return self


class Window(_Strict):
    """The period a threshold is measured over: ``school_year`` or ``{rolling_calendar_days: 90}``."""

    kind: WindowKind
    length: int | None = Field(default=None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _from_yaml_shape(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"kind": value}
        if isinstance(value, dict) and len(value) == 1 and "kind" not in value:
            ((kind, length),) = value.items()
            return {"kind": kind, "length": length}
        return value

    @model_validator(mode="after")
    def _length_matches_kind(self) -> Window:
        if self.kind in _LENGTHLESS and self.length is not None:
            raise ValueError(f"window '{self.kind}' takes no length")
        if self.kind not in _LENGTHLESS and self.length is None:
            raise ValueError(f"window '{self.kind}' needs a length, e.g. {{{self.kind}: 90}}")
        return self

    def describe(self) -> str:
        return self.kind if self.length is None else f"{self.kind}: {self.length}"


class Criterion(_Strict):
    """An alternative way to meet a rule (FL: 5 in a calendar month, or 10 in 90 calendar days)."""

    window: Window
    threshold: float = Field(gt=0)


class Repeat(_Strict):
    """Further reports after the first (CA 48261): one more per ``every`` records that ``counts``."""

    every: int = Field(default=1, ge=1)
    counts: Counts | None = None


class Requires(_Strict):
    """Other designations that must hold, and officer-confirmed conditions (read back from the SIS)."""

    designations: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()


class Rule(_Strict):
    label: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    statute_text: str = Field(min_length=1)
    enabled: bool = True
    counts: Counts | None = None
    unit: Unit
    reports_of: str | None = None
    window: Window = Window(kind="school_year")
    threshold: float = Field(gt=0)
    compare: Literal["at_least", "more_than"] = "at_least"
    threshold_max: float | None = Field(default=None, gt=0)
    denominator: Literal["enrolled_days", "window_days"] = "enrolled_days"
    min_enrolled_days: int = Field(default=0, ge=0)
    alternatives: tuple[Criterion, ...] = ()
    repeat: Repeat | None = None
    requires: Requires = Requires()

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        problems = _rule_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def is_percent(self) -> bool:
        return self.unit == "percent_of_enrolled_days"

    def criteria(self) -> tuple[Criterion, ...]:
        return (Criterion(window=self.window, threshold=self.threshold), *self.alternatives)


def _rule_problems(rule: Rule) -> list[str]:
    """Combinations the engine cannot count faithfully, named so the author can fix the pack."""
    problems: list[str] = []
    if rule.unit == "reports":
        if rule.reports_of is None or rule.counts is not None:
            problems.append("unit 'reports' counts another rule's reports: set reports_of, not counts")
        if rule.window.kind != "school_year":
            problems.append("unit 'reports' counts over the school_year window only")
    elif rule.counts is None:
        problems.append("counts is required: which records count toward this rule")
    elif rule.reports_of is not None:
        problems.append("reports_of is only for unit 'reports'")
    if rule.unit == "days" and rule.counts is not None and rule.counts.partial_days is not None:
        problems.append("unit 'days' counts whole days: use days_or_parts to count partial days")
    if rule.is_percent:
        if rule.threshold > 100:
            problems.append("a percentage threshold cannot exceed 100")
        if rule.window.kind not in ("school_year", "past_school_days"):
            problems.append("a percentage is measured over school_year or past_school_days")
        if rule.alternatives or rule.repeat is not None:
            problems.append("alternatives and repeat apply to counted days and occasions, not percentages")
    else:
        if not math.isclose(rule.threshold, round(rule.threshold)):
            problems.append(f"a count threshold must be a whole number, not {rule.threshold}")
        if rule.window.kind == "past_school_days":
            problems.append("past_school_days is for percentages; counts use rolling_school_days")
        if rule.denominator != "enrolled_days" or rule.min_enrolled_days:
            problems.append("denominator and min_enrolled_days apply to percentages only")
    if rule.denominator == "window_days" and rule.window.kind != "past_school_days":
        problems.append("denominator 'window_days' needs a past_school_days window")
    if rule.threshold_max is not None and not rule.is_percent:
        problems.append("threshold_max (an exclusive upper bound) applies to percentages only")
    if rule.threshold_max is not None and rule.threshold_max <= rule.threshold:
        problems.append("threshold_max must be greater than threshold")
    if rule.repeat is not None and rule.window.kind != "school_year":
        problems.append("repeat reports are counted over the school_year window only")
    if rule.unit in _COUNT_UNITS and any(alt.window.kind == "past_school_days" for alt in rule.alternatives):
        problems.append("past_school_days is for percentages; counts use rolling_school_days")
    return problems


class PolicyPack(_Strict):
    """One state's pack as written in ``policies/<state>.yaml``."""

    policy: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    rules: dict[str, Rule] = Field(min_length=1)
    case: CasePolicy | None = None


class CaseFile(_Strict):
    """``policies/cases/<state>.yaml``: a built-in pack's case section, kept in its own file."""

    case: CasePolicy


class OverrideFile(_Strict):
    """A district's override: changed fields of existing rules, whole new rules, own wording."""

    version: Literal[1]
    policy: str
    name: str | None = None
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)
    case: dict[str, Any] | None = None
