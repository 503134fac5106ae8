"""Family notices as data: what each notice a state requires must say, when, to whom and how.

A notice pack (``policies/notices/<state>.yaml``) sits beside the state's policy pack. Each notice
names its trigger (a case task, or enrollment: every enrolled student's family once a school
year), its audience, its deadline in school days, its channels, and the elements the statute
requires, each with its citation and the dates it is operative, so a letter dated before a
statute's amendment carries the elements of the version then in force. An element whose words
could not be checked in the statute text says so in its citation ("pack's reading"). A notice the
district must write itself (``district_authored``) ships as a skeleton whose placeholders stop the
letter until the district's own catalog replaces them. A district overrides the pack with its own
file, validated here (``truancy mappings check``).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from truancy.mappings.yaml_source import load_model

NOTICE_DIR = Path(__file__).resolve().parent / "policies" / "notices"

Channel = Literal["print", "email"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Element(_Strict):
    """One thing the statute says the notice must tell the family."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    requirement: str = Field(min_length=1)
    """What the statute requires, in the statute's terms (the letter says it in plain words)."""
    citation: str = Field(min_length=1)
    operative_from: date | None = None
    operative_until: date | None = None
    """The last day the element is required (None: still in force)."""

    def operative_on(self, day: date) -> bool:
        after_start = self.operative_from is None or day >= self.operative_from
        before_end = self.operative_until is None or day <= self.operative_until
        return after_start and before_end


class Trigger(_Strict):
    """What makes the notice due: a case task's opening (its basis is the designation it rests on),
    or ``enrollment``: every enrolled student, once a school year, at the first cycle of the year
    and on each later enrollment (TX § 25.095(a)'s start-of-year notice)."""

    task: str = ""
    designation: str = ""
    enrollment: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Trigger:
        if bool(self.task and self.designation) == self.enrollment or (
            self.enrollment and (self.task or self.designation)
        ):
            raise ValueError("set either task and designation, or enrollment: true")
        return self


class Audience(_Strict):
    """Guardians who receive mail; a contact restriction (custody order) always excludes a guardian."""

    receives_mail_only: bool = True
    respect_contact_restrictions: Literal[True] = True
    per: Literal["student", "family"] = "student"
    """``family``: one letter per family (see :mod:`truancy.mappings.families`) naming each of its
    enrolled children, instead of one per student."""


class Budget(_Strict):
    """How long and how hard the letter may be: over either, it does not render."""

    max_words: int = Field(gt=0)
    max_grade_level: float = Field(gt=0)
    """Flesch-Kincaid grade of the English letter (the formula is defined for English only)."""


class Notice(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    citation: str
    trigger: Trigger
    audience: Audience = Audience()
    deadline_school_days: int = Field(ge=0)
    channels: tuple[Channel, ...] = Field(min_length=1)
    elements: tuple[Element, ...] = Field(min_length=1)
    budget: Budget
    template: str = "letter.html.j2"
    district_authored: bool = False
    """The law leaves the letter to the district (NY: its attendance policy): the shipped strings
    are a skeleton, and no letter goes until the district's catalog has replaced every placeholder."""
    needs: tuple[str, ...] = ()
    """Values the letter names beyond the case's own facts (e.g. the SARB's name and address),
    which the district or the referral supplies; without them the letter is not generated."""

    @model_validator(mode="after")
    def _unique_elements(self) -> Notice:
        ids = [element.id for element in self.elements]
        doubled = sorted({i for i in ids if ids.count(i) > 1})
        if doubled:
            raise ValueError(f"element ids appear twice: {', '.join(doubled)}")
        if self.trigger.enrollment != (self.audience.per == "family"):
            raise ValueError("an enrollment notice goes per family, and only an enrollment notice does")
        return self

    def elements_on(self, day: date) -> tuple[Element, ...]:
        """The elements a letter dated ``day`` must carry."""
        return tuple(element for element in self.elements if element.operative_on(day))


class NoticePack(_Strict):
    state: str = Field(pattern=r"^[A-Z]{2}$|^US$|^FEDERAL$")
    sources: tuple[str, ...] = Field(min_length=1)
    """Where the statute text was read, so a reviewer can check every element."""
    primary_language_share: float | None = Field(default=None, gt=0, le=1)
    """A school's share of pupils speaking one primary language that requires notices in it too
    (CA § 48985: 15 percent)."""
    notices: tuple[Notice, ...]

    def notice(self, notice_id: str) -> Notice:
        for notice in self.notices:
            if notice.id == notice_id:
                return notice
        raise KeyError(notice_id)

    def for_task(self, task_id: str) -> Notice | None:
        return next((n for n in self.notices if task_id and n.trigger.task == task_id), None)

    def by_enrollment(self) -> tuple[Notice, ...]:
        """The notices every enrolled student's family gets once a school year."""
        return tuple(n for n in self.notices if n.trigger.enrollment)


def notice_states() -> tuple[str, ...]:
    return tuple(sorted(path.stem.upper() for path in NOTICE_DIR.glob("*.yaml")))


def load_notices(state: str | Path) -> NoticePack:
    """The shipped notice pack of ``state`` (e.g. ``"CA"``) or a district's own file."""
    path = state if isinstance(state, Path) else NOTICE_DIR / f"{state.lower()}.yaml"
    return load_model(path, NoticePack, "the notice pack")
