"""What the record shows against what the law asks: packet checklists, escalation preconditions,
deadlines with the school days left, and a plan's progress.

Pure functions of the case, the officer's case file and the calendar, so the packet, the SIS page
and the engine's gate all say the same thing about the same student on the same day.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from truancy.mappings.case import CaseState
from truancy.mappings.casework import CaseworkPack, Escalation, PacketKind, Requirement
from truancy.mappings.casework_records import CaseFile, Plan
from truancy.mappings.facts import SchoolCalendar

DONE_REFERRAL = ("made", "accepted", "started", "completed")


@dataclass(frozen=True, slots=True)
class PlanProgress:
    """Attendance since the plan started against the same number of school days before it."""

    school_days: int
    rate_since: float | None
    rate_before: float | None
    on_track: bool | None


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    id: str
    label: str
    citation: str
    met: bool
    evidence: str


@dataclass(frozen=True, slots=True)
class DeadlineStatus:
    id: str
    label: str
    citation: str
    starts: date
    due: date
    school_days_left: int


def plan_progress(plan: Plan, attended: Mapping[date, float], today: date) -> PlanProgress:
    """``attended`` holds each enrolled school day's share attended (1.0 present, 0.0 absent)."""
    days = sorted(day for day in attended if day <= today)
    start = bisect_left(days, plan.start_date)
    since = days[start:]
    before = days[max(0, start - len(since)) : start]
    rate_since = _rate(attended, since)
    rate_before = _rate(attended, before)
    on_track: bool | None = None
    if rate_since is not None:
        if plan.target_rate is not None:
            on_track = rate_since >= plan.target_rate
        elif rate_before is not None:
            on_track = rate_since > rate_before or rate_since == 1.0
    return PlanProgress(len(since), rate_since, rate_before, on_track)


def _rate(attended: Mapping[date, float], days: Sequence[date]) -> float | None:
    return sum(attended[day] for day in days) / len(days) if days else None


def _met(
    requirement: Requirement,
    case: CaseState,
    file: CaseFile,
    progress: Mapping[str, PlanProgress],
    signatures: Sequence[str],
) -> tuple[bool, str]:
    """Whether the record meets ``requirement``, and the evidence (dates and codes only)."""
    if requirement.designation is not None:
        held = case.designations.get(requirement.designation)
        if held is not None and held.active:
            return True, f"met {held.met_on.isoformat()}; {held.occasions} report(s)"
        return False, "not designated"
    if requirement.condition is not None:
        on = case.conditions.get(requirement.condition)
        return (True, f"recorded {on.isoformat()}") if on else (False, "not recorded")
    if requirement.attempts_at_least is not None:
        attempts = file.attempts()
        evidence = "; ".join(
            f"{a.on.isoformat()} {a.purpose} by {a.channel}" + (f" ({a.reference})" if a.reference else "")
            for _, a in attempts
        )
        return len(attempts) >= requirement.attempts_at_least, evidence or "no attempt logged"
    if requirement.conference is not None:
        wanted = requirement.conference
        found = [
            c
            for c in file.conferences
            if c.meeting == wanted.meeting and c.outcome in wanted.outcomes and c.held_on is not None
        ]
        if found:
            last = max(found, key=lambda c: c.held_on or date.min)
            return True, f"{last.outcome} {last.held_on.isoformat() if last.held_on else ''}".strip()
        return False, "no conference outcome recorded"
    if requirement.plan is not None:
        for plan in file.plans:
            signed = all(signer in plan.signatures for signer in signatures)
            measured = plan.record_id in progress and progress[plan.record_id].school_days > 0
            if (signed or not requirement.plan.signed) and (measured or not requirement.plan.progress):
                signers = ", ".join(sorted(plan.signatures))
                return True, f"started {plan.start_date.isoformat()}; signed by {signers}"
        return False, "no signed plan" if requirement.plan.signed else "no plan"
    if requirement.referral is not None:
        statuses = requirement.referral.statuses
        made = [r for r in file.referrals if r.status in statuses]
        if made:
            return True, "; ".join(f"{r.service} ({r.status}) {r.made_on.isoformat()}" for r in made)
        return False, "no referral on record"
    if requirement.notice is not None:
        sent = file.notices_sent.get(requirement.notice)
        return (True, f"sent {sent.isoformat()}") if sent else (False, "not sent this school year")
    if requirement.any_of is not None:
        results = [_met(option, case, file, progress, signatures) for option in requirement.any_of]
        met = [evidence for ok, evidence in results if ok]
        return (True, met[0]) if met else (False, "; ".join(evidence for _, evidence in results))
    raise AssertionError("a requirement sets one kind")  # the model validator guarantees it


def checklist(
    pack: CaseworkPack,
    kind: PacketKind,
    case: CaseState,
    file: CaseFile,
    progress: Mapping[str, PlanProgress],
) -> list[ChecklistItem]:
    """Each item of the ``kind`` packet's checklist, met or missing, with its citation."""
    packet = pack.packets[kind]
    return [_item(r, case, file, progress, pack.plan.required_signatures) for r in packet.checklist]


def _item(
    requirement: Requirement,
    case: CaseState,
    file: CaseFile,
    progress: Mapping[str, PlanProgress],
    signatures: Sequence[str],
) -> ChecklistItem:
    met, evidence = _met(requirement, case, file, progress, signatures)
    return ChecklistItem(requirement.id, requirement.label, requirement.citation, met, evidence)


def escalation_blockers(
    escalation: Escalation,
    case: CaseState,
    file: CaseFile,
    today: date,
    signatures: Sequence[str] = ("school",),
) -> list[str]:
    """Why the punitive step may not be taken yet, one line each (empty: it may)."""
    blockers = [
        f"{exception.kind.replace('_', ' ')} recorded {exception.recorded_on.isoformat()}"
        f" ({escalation.citation})"
        for exception in file.exceptions
        if exception.kind in escalation.barred_by
    ]
    for requirement in escalation.requires:
        item = _item(requirement, case, file, {}, signatures)
        if not item.met:
            blockers.append(f"{requirement.label} ({requirement.citation})")
    if escalation.after_meeting is not None:
        held = [
            c.held_on
            for c in file.conferences
            if c.meeting == escalation.after_meeting and c.held_on is not None and c.outcome != "rescheduled"
        ]
        if not held or min(held) > today:
            blockers.append(f"not before the {escalation.after_meeting} date ({escalation.citation})")
    return blockers


def deadlines(
    pack: CaseworkPack, case: CaseState, calendar: SchoolCalendar, today: date
) -> list[DeadlineStatus]:
    """The pack's deadlines that the case has started, with the school days left (negative: late)."""
    found = []
    for deadline in pack.deadlines:
        held = case.designations.get(deadline.designation)
        if held is None or not held.active:
            continue
        due = calendar.add_school_days(held.met_on, deadline.school_days)
        left = _days_between(calendar, today, due)
        found.append(DeadlineStatus(deadline.id, deadline.label, deadline.citation, held.met_on, due, left))
    return found


def _days_between(calendar: SchoolCalendar, today: date, due: date) -> int:
    """School days after ``today`` up to and including ``due``; negative when ``due`` has passed."""
    days = calendar.days
    if due >= today:
        return bisect_right(days, due) - bisect_right(days, today)
    return -(bisect_right(days, today) - bisect_right(days, due))
