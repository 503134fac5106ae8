"""What the engine concludes about one student: designations, each with the evidence behind it.

Shared by the engine (which produces it) and the case model (which turns it into flags, notes and
tasks), so that an officer can defend every designation with the dated records and the statute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from truancy.mappings.facts import Category


@dataclass(frozen=True, slots=True)
class Evidence:
    """One dated record that counted toward a rule."""

    date: date
    category: Category
    minutes_absent: int | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class Designation:
    """A legal status a student meets under one rule of a policy pack.

    ``met_on`` is the school day the threshold was first crossed (the trigger for deadlines);
    ``occasions`` counts how many times the rule has been met this school year where the law
    counts repeated reports (e.g. California 48261), else 1; ``report_dates`` holds the day each of
    those occasions was met, in order (empty where the rule has no repeated reports).
    ``report_sizes`` says how many of the ``evidence`` records (in order) each report rests on, and
    ``further_citation`` is the section further reports are made under, so the evidence can be
    shown report by report.
    """

    id: str
    label: str
    citation: str
    rule: str
    met_on: date
    count: float
    threshold: float
    unit: str
    evidence: tuple[Evidence, ...]
    occasions: int = 1
    report_dates: tuple[date, ...] = ()
    report_sizes: tuple[int, ...] = ()
    further_citation: str | None = None


@dataclass(frozen=True, slots=True)
class Determination:
    """The engine's result for one student, as of one date."""

    student_id: str
    policy_id: str
    policy_version: str
    as_of: date
    designations: tuple[Designation, ...]
    counts: dict[str, float] = field(default_factory=dict)

    def holds(self, designation_id: str) -> bool:
        return any(d.id == designation_id for d in self.designations)
