"""Caseloads: which attendance officer works each case, by the district's rules in ``[caseloads]``.

The officer is decided from what the state store holds about a student — the school they attend
now and their grade — and written with the case's flags and tasks (PowerSchool: the ``officer``
column), so the start page inside the SIS can show the signed-in officer *their* caseload.
Rules by last-name range, common in districts, cannot be offered: names never pass through the
daemon (the SIS's pages look them up). A SIS staff field is not read either: neither PowerSchool
nor Ed-Fi has a standard "attendance officer of this student" field to read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

GRADES: tuple[str, ...] = ("K", *(str(n) for n in range(1, 13)))
"""Grades in order, as the store reads them (``canonical_grade``): a range runs along this list."""
_RANGE = re.compile(r"^\s*(?P<low>KG?|\d{1,2})\s*(?:-\s*(?P<high>KG?|\d{1,2})\s*)?$", re.IGNORECASE)
USERNAME = r"^[A-Za-z0-9_.@-]{1,100}$"


def _grade(value: str) -> str:
    grade = "K" if value.upper() in ("K", "KG") else value.lstrip("0")
    if grade not in GRADES:
        raise ValueError(f"{value!r} is not a grade (K, 1-12)")
    return grade


def expand_grades(items: Iterable[str]) -> frozenset[str]:
    """``["K-5", "8"]`` → {K, 1, ..., 5, 8}; a bad item is a ValueError naming it."""
    found: set[str] = set()
    for item in items:
        match = _RANGE.match(item)
        if match is None:
            raise ValueError(f'{item!r} is not a grade or a range of grades like "9-12" or "K-5"')
        low = GRADES.index(_grade(match["low"]))
        high = GRADES.index(_grade(match["high"] or match["low"]))
        if high < low:
            raise ValueError(f"grade range {item!r} runs backwards")
        found.update(GRADES[low : high + 1])
    return frozenset(found)


class CaseloadRule(BaseModel):
    """One rule: the officer (their SIS username) for students of these schools and/or grades.

    A rule with both lists needs both to match; a rule needs at least one of them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    officer: str = Field(pattern=USERNAME, description="the officer's SIS username (PowerSchool LOGINID)")
    schools: tuple[str, ...] = Field(default=(), description="school ids as the roster names them")
    grades: tuple[str, ...] = Field(default=(), description='grades or ranges: "K-5", "9-12", "8"')

    @field_validator("grades")
    @classmethod
    def _grades_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        expand_grades(value)
        return value

    @model_validator(mode="after")
    def _names_students(self) -> CaseloadRule:
        if not self.schools and not self.grades:
            raise ValueError(f"caseload rule for {self.officer!r} names no schools and no grades")
        return self

    def matches(self, school_id: str | None, grade: str | None) -> bool:
        if self.schools and school_id not in self.schools:
            return False
        return not self.grades or (grade is not None and grade in expand_grades(self.grades))


class CaseloadSettings(BaseModel):
    """``[caseloads]``: the first rule that matches a student names their officer; else ``default_officer``.

    Unset (no rules, no default): cases carry no officer and the start page shows every case.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[CaseloadRule, ...] = Field(
        default=(),
        description='e.g. [{officer = "dkim", schools = ["2"]}, {officer = "aokafor", grades = ["9-12"]}]',
    )
    default_officer: str | None = Field(default=None, pattern=USERNAME, description="when no rule matches")

    def officer_for(self, school_id: str | None, grade: str | None) -> str:
        """The officer's username, or "" when no rule matches and there is no default."""
        for rule in self.rules:
            if rule.matches(school_id, grade):
                return rule.officer
        return self.default_officer or ""
