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

Unit = Literal["days", "days_or_parts", "occasions", "percent_of_enrolled_days", "reports", "hours"]
WindowKind = Literal[
    "school_year",
    "calendar_month",
    "consecutive_school_days",
    "rolling_school_days",
    "rolling_calendar_days",
    "rolling_weeks",
    "rolling_months",
    "past_school_days",
]
_LENGTHLESS = ("school_year", "calendar_month", "consecutive_school_days")
_COUNT_UNITS = ("days", "days_or_parts", "occasions")
DAY_MINUTES = "school_day_minutes"
ParameterName = Literal["school_day_minutes"]
"""District parameters the engine knows; a pack declares those its rules need (Ohio: the day's length)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartialDays(_Strict):
    """Which part-day records count: ``more_than_minutes: 30`` (CA), ``at_least_minutes: 1``, or
    ``more_than_day_fraction: 0.5`` (MI: "missed more than half the day", which needs the
    ``school_day_minutes`` parameter).

    A tardy whose minutes the SIS did not record is taken as one minute late: the least it can be.
    """

    more_than_minutes: int | None = Field(default=None, ge=0)
    at_least_minutes: int | None = Field(default=None, ge=1)
    more_than_day_fraction: float | None = Field(default=None, gt=0, lt=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> PartialDays:
        given = (self.more_than_minutes, self.at_least_minutes, self.more_than_day_fraction)
        if sum(value is not None for value in given) != 1:
            raise ValueError("give one of more_than_minutes, at_least_minutes or more_than_day_fraction")
        return self

    def minimum_minutes_of(self, day_minutes: int | None) -> int:
        """The fewest minutes absent that count; a day fraction needs the day's length."""
        if self.more_than_minutes is not None:
            return self.more_than_minutes + 1
        if self.at_least_minutes is not None:
            return self.at_least_minutes
        assert self.more_than_day_fraction is not None
        assert day_minutes is not None, "a day fraction needs school_day_minutes"
        return math.floor(day_minutes * self.more_than_day_fraction) + 1


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


class Parameter(_Strict):
    """A value the law leaves to the district (Ohio: the length of its instructional day).

    A pack may give a ``default`` only with the ``source`` that sets it; without one, a district
    must set the value in its override file, and the pack does not load until it does.
    """

    description: str = Field(min_length=1)
    minimum: int = Field(default=1, ge=1)
    maximum: int | None = Field(default=None, ge=1)
    default: int | None = Field(default=None, ge=1)
    source: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _sourced_default(self) -> Parameter:
        if self.default is not None and self.source is None:
            raise ValueError("a default needs the source that sets it (source: ...)")
        if self.maximum is not None and self.maximum < self.minimum:
            raise ValueError("maximum must not be below minimum")
        if self.default is not None and self.problem(self.default):
            raise ValueError(f"default {self.default}: {self.problem(self.default)}")
        return self

    def problem(self, value: int) -> str | None:
        """Why ``value`` is out of range, or None."""
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            upper = f" and {self.maximum}" if self.maximum is not None else ""
            return f"must be between {self.minimum}{upper}" if upper else f"must be at least {self.minimum}"
        return None


Grade = Literal["K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]


class GradeThreshold(_Strict):
    """A threshold for some grades only (Ohio: 10% of 910 hours in K-6, of 1,001 in 7-12)."""

    grades: tuple[Grade, ...] = Field(min_length=1)
    threshold: float = Field(gt=0)


class Criterion(_Strict):
    """An alternative way to meet a rule (FL: 5 in a calendar month, or 10 in 90 calendar days)."""

    window: Window
    threshold: float = Field(gt=0)


class Repeat(_Strict):
    """Further reports after the first (CA 48261): one more per ``every`` records that ``counts``;
    ``citation`` labels them in the evidence an officer reads (e.g. "Cal. Educ. Code § 48261")."""

    every: int = Field(default=1, ge=1)
    counts: Counts | None = None
    citation: str | None = Field(default=None, min_length=1)


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
    grade_thresholds: tuple[GradeThreshold, ...] = ()
    outside_membership_codes: tuple[str, ...] = ()
    """SIS codes of days that are neither absences nor days in membership (NJ State-excused)."""

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        problems = _rule_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def is_percent(self) -> bool:
        return self.unit == "percent_of_enrolled_days"

    @property
    def parameters_needed(self) -> frozenset[str]:
        """District parameters this rule cannot be counted without (hours, day fractions)."""
        partial = self.counts.partial_days if self.counts is not None else None
        fraction = partial is not None and partial.more_than_day_fraction is not None
        return frozenset({DAY_MINUTES}) if self.unit == "hours" or fraction else frozenset()

    def criteria(self) -> tuple[Criterion, ...]:
        return (Criterion(window=self.window, threshold=self.threshold), *self.alternatives)

    def threshold_for(self, grade: str | None) -> float:
        """The threshold for a student in ``grade``: its band's, else ``threshold``."""
        for band in self.grade_thresholds:
            if grade in band.grades:
                return band.threshold
        return self.threshold


def _grade_problems(rule: Rule) -> list[str]:
    """Grade bands pick the threshold by the student's grade; ``threshold`` is the one for a student
    whose grade is unknown, so it must be one that every grade's threshold is met by."""
    if not rule.grade_thresholds:
        return []
    problems: list[str] = []
    grades = [grade for band in rule.grade_thresholds for grade in band.grades]
    repeated = sorted({grade for grade in grades if grades.count(grade) > 1})
    if repeated:
        problems.append(f"grade {repeated[0]} is in more than one of grade_thresholds")
    if rule.unit != "hours" or rule.alternatives:
        problems.append("grade_thresholds apply to unit 'hours' without alternatives")
    highest = max(band.threshold for band in rule.grade_thresholds)
    if rule.threshold < highest:
        problems.append(
            f"threshold (for a student of unknown grade) must be at least every band's, here {highest:g}"
        )
    return problems


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
    windows = [rule.window.kind, *(alt.window.kind for alt in rule.alternatives)]
    if rule.unit != "hours" and "consecutive_school_days" in windows:
        problems.append("consecutive_school_days counts a run of hours: use it with unit 'hours'")
    if rule.unit == "hours" and rule.repeat is not None:
        problems.append("repeat reports apply to counted days and occasions, not hours")
    problems += _grade_problems(rule)
    if rule.outside_membership_codes and (not rule.is_percent or rule.window.kind != "school_year"):
        problems.append("outside_membership_codes apply to a percentage over the school_year")
    if rule.is_percent:
        if rule.threshold > 100:
            problems.append("a percentage threshold cannot exceed 100")
        if rule.window.kind not in ("school_year", "past_school_days"):
            problems.append("a percentage is measured over school_year or past_school_days")
        if rule.alternatives or rule.repeat is not None:
            problems.append("alternatives and repeat apply to counted days and occasions, not percentages")
    else:
        if rule.unit != "hours" and not math.isclose(rule.threshold, round(rule.threshold)):
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
    if rule.unit in (*_COUNT_UNITS, "hours") and "past_school_days" in windows[1:]:
        problems.append("past_school_days is for percentages; counts use rolling_school_days")
    return problems


class PolicyPack(_Strict):
    """One state's pack as written in ``policies/<state>.yaml``."""

    policy: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    parameters: dict[ParameterName, Parameter] = Field(default_factory=dict)
    rules: dict[str, Rule] = Field(min_length=1)
    case: CasePolicy | None = None

    @model_validator(mode="after")
    def _parameters_declared(self) -> PolicyPack:
        for rule_id, rule in self.rules.items():
            for name in sorted(rule.parameters_needed - set(self.parameters)):
                raise ValueError(f"rule {rule_id!r} needs parameter {name!r}: declare it under parameters")
        return self


class CaseFile(_Strict):
    """``policies/cases/<state>.yaml``: a built-in pack's case section, kept in its own file."""

    case: CasePolicy


class OverrideFile(_Strict):
    """A district's override: changed fields of existing rules, whole new rules, own wording."""

    version: Literal[1]
    policy: str
    name: str | None = None
    parameters: dict[str, int] = Field(default_factory=dict)
    rules: dict[str, dict[str, Any]] = Field(default_factory=dict)
    case: dict[str, Any] | None = None
