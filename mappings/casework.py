"""Casework after the letter as data: which meeting each state's step is, what its plan form asks
for, which supports must be on record before any punitive step, and what a referral packet needs.

A casework pack (``policies/casework/<state>.yaml``) sits beside the state's policy pack. Every
checklist item and precondition carries its citation, so a packet's readiness page shows the
statute for each line, and a district overrides the pack with its own file, validated here.

Requirements are evaluated against a :class:`truancy.mappings.casework_records.CaseFile` by
:mod:`truancy.mappings.casework_readiness`; this module only says what the law asks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from truancy.mappings.yaml_source import load_model

CASEWORK_DIR = Path(__file__).resolve().parent / "policies" / "casework"

PacketKind = Literal["sarb", "court", "saic"]
ConferenceOutcome = Literal["held", "no_show", "declined", "rescheduled"]
ReferralStatus = Literal["made", "accepted", "started", "completed", "declined"]
Signer = Literal["school", "parent", "student"]
ExceptionKind = Literal["pregnancy", "foster_care", "homelessness", "principal_earner", "severe_illness"]
_ID = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Meeting(_Strict):
    """A meeting the state's escalation calls for; ``task`` is the case task it works (if any)."""

    id: str = Field(pattern=_ID)
    label: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    task: str | None = None
    reminder_days_before: int = Field(default=2, ge=0, le=14)
    minutes: int = Field(default=45, gt=0, le=480)


class PlanReview(_Strict):
    """The task a plan's review date opens, so the review is on the officer's list that day.

    ``school_days_after_start`` sets the review date of a plan the officer gave none (TX: the end of
    the 45 school days a behavior improvement plan may run); ``next_school_day`` moves a review date
    on a day without school to the next school day.
    """

    title: str = Field(default="Review attendance improvement plan", min_length=1)
    citation: str = Field(min_length=1)
    school_days_after_start: int | None = Field(default=None, gt=0)
    next_school_day: bool = False


class PlanForm(_Strict):
    """The attendance improvement plan the state's law or guidance names, and what it must hold."""

    name: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    max_school_days: int | None = Field(default=None, gt=0)
    """Longest effective period the statute allows (TX § 25.0915(a-1)(1)(A)(ii): 45 school days)."""
    fields: tuple[str, ...] = Field(min_length=1)
    required_signatures: tuple[Signer, ...] = ("school",)
    requested_signatures: tuple[Signer, ...] = ()
    """Signatures the school must make a good-faith effort to obtain (recorded when given)."""
    review: PlanReview | None = None


class ConferenceRequirement(_Strict):
    meeting: str = Field(pattern=_ID)
    outcomes: tuple[ConferenceOutcome, ...] = ("held",)


class PlanRequirement(_Strict):
    signed: bool = True
    progress: bool = False
    """Also require the plan's progress to have been measured (at least one school day since start)."""


class ReferralRequirement(_Strict):
    statuses: tuple[ReferralStatus, ...] = ("made", "accepted", "started", "completed")


class Requirement(_Strict):
    """One thing that must be on record; exactly one kind is set."""

    id: str = Field(pattern=_ID)
    label: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    designation: str | None = None
    condition: str | None = None
    conference: ConferenceRequirement | None = None
    plan: PlanRequirement | None = None
    referral: ReferralRequirement | None = None
    attempts_at_least: int | None = Field(default=None, ge=1)
    """Invitation or reminder attempts logged for any meeting (CA § 48262's conscientious effort)."""
    notice: str | None = None
    """A notice of the notice pack sent to the student's family this school year (TX § 25.095(a)'s
    start-of-year notice, on which a § 25.093 complaint rests)."""
    any_of: tuple[Requirement, ...] | None = Field(default=None, min_length=2)
    """Met when one of these is (TX § 25.0915(a-1): a plan, community service or a referral)."""

    @model_validator(mode="after")
    def _one_kind(self) -> Requirement:
        kinds: list[object] = [self.designation, self.condition, self.conference, self.plan]
        kinds += [self.referral, self.attempts_at_least, self.notice, self.any_of]
        if sum(kind is not None for kind in kinds) != 1:
            raise ValueError(
                "set exactly one of designation, condition, conference, plan, referral, attempts_at_least,"
                " notice, any_of"
            )
        return self


class Escalation(_Strict):
    """A punitive step (a case task) withheld until ``requires`` are all on record.

    ``after_meeting`` withholds it also until that meeting's held date has passed (PA: no referral
    before the SAIC date); ``barred_by`` lists exceptions the SIS may record that forbid it outright
    (TX § 25.0915(a-3)).
    """

    task: str
    citation: str = Field(min_length=1)
    requires: tuple[Requirement, ...] = ()
    after_meeting: str | None = None
    barred_by: tuple[ExceptionKind, ...] = ()


class Deadline(_Strict):
    """A deadline the law sets, counted in school days from the day a designation was met."""

    id: str = Field(pattern=_ID)
    label: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    designation: str
    school_days: int = Field(gt=0)


class Packet(_Strict):
    title: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    checklist: tuple[Requirement, ...] = Field(min_length=1)


class CaseworkPack(_Strict):
    state: str = Field(pattern=r"^[A-Z]{2}$")
    meetings: tuple[Meeting, ...] = Field(min_length=1)
    plan: PlanForm
    escalations: tuple[Escalation, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    packets: dict[PacketKind, Packet] = Field(min_length=1)

    @model_validator(mode="after")
    def _meetings_named(self) -> CaseworkPack:
        known = {meeting.id for meeting in self.meetings}
        named = [r.conference.meeting for r in self._requirements() if r.conference is not None]
        named += [e.after_meeting for e in self.escalations if e.after_meeting is not None]
        unknown = sorted(set(named) - known)
        if unknown:
            raise ValueError(f"unknown meeting(s) {', '.join(unknown)}; the pack's meetings: {sorted(known)}")
        return self

    def _requirements(self) -> list[Requirement]:
        found = [r for packet in self.packets.values() for r in packet.checklist]
        found += [r for escalation in self.escalations for r in escalation.requires]
        nested = [n for r in found if r.any_of for n in r.any_of]
        return found + nested

    def meeting(self, meeting_id: str) -> Meeting:
        for meeting in self.meetings:
            if meeting.id == meeting_id:
                return meeting
        raise KeyError(meeting_id)

    def escalation(self, task_id: str) -> Escalation | None:
        return next((e for e in self.escalations if e.task == task_id), None)


def casework_states() -> tuple[str, ...]:
    return tuple(sorted(path.stem.upper() for path in CASEWORK_DIR.glob("*.yaml")))


def casework_pack(state: str) -> CaseworkPack | None:
    """The shipped casework pack of ``state``, or None for a state that has none yet."""
    return load_casework(state) if state.upper() in casework_states() else None


def load_casework(state: str | Path) -> CaseworkPack:
    """The shipped casework pack of ``state`` (e.g. ``"CA"``) or a district's own file."""
    path = state if isinstance(state, Path) else CASEWORK_DIR / f"{state.lower()}.yaml"
    return load_model(path, CaseworkPack, "the casework pack")
