"""The truancy case: what a student's designations mean for the officer, as desired state.

``advance_case`` folds the engine's latest determination (and what officers recorded in the SIS)
into the stored case: designations held, reports counted, tiers entered or left, tasks done. Every
change appends to an immutable history, so an officer can show a parent or a judge when and why
each step happened. ``desired_writes`` turns a case into the flags, notes and tasks the SIS should
hold; it is a pure function of the case, the determination and the calendar, so re-running a sync
produces identical writes and the daemon's diff sends nothing.

Advancing is idempotent: the same determination and officer actions applied to the returned state
return an equal state. Notes are keyed by history sequence number and their text is fixed when the
event is recorded, so a note once written never changes and is never retracted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from truancy.mappings.basis import RE_EVALUATION, Basis
from truancy.mappings.case_policy import CasePolicy, EnterWhen, NoteTemplates, TaskTemplate, Tier
from truancy.mappings.determination import Designation, Determination, Evidence
from truancy.mappings.facts import SchoolCalendar
from truancy.mappings.hold import Hold
from truancy.mappings.task_outcomes import options_json
from truancy.mappings.writes import AUTHOR, DesiredWrite, WriteKind, sync_key

CaseStatus = Literal["open", "closed"]
ActionKind = Literal["task_done", "note_added", "flag_dismissed", "absence_excused"]
HistoryKind = Literal[
    "designated",
    "reported",
    "report_withdrawn",
    "retracted",
    "tier_entered",
    "tier_left",
    "closed",
    "task_done",
    "note_added",
    "flag_dismissed",
    "absence_excused",
    "flag_reinstated",
    "officer_override",
    "withdrawn",
    "reenrolled",
]

NOTE_CATEGORIES: Mapping[str, str] = {
    "designated": "designation",
    "reported": "report",
    "report_withdrawn": "retraction",
    "retracted": "retraction",
    "tier_entered": "tier",
    "tier_left": "tier",
    "closed": "case_closed",
    "withdrawn": "case_closed",
    "reenrolled": "case_reopened",
}
"""History kinds that become a case-log note, and the note's category. Officer actions do not: the
officer recorded them in the SIS already."""

COUNTED_UNITS = frozenset({"days", "days_or_parts", "occasions"})
"""Units that count one per dated record, so the count on any day can be read off the evidence."""

_UNIT_WORDS = {
    "days_or_parts": "days or parts of days",
    "percent_of_enrolled_days": "% of enrolled days",
    "reports": "truancy reports",
}


@dataclass(frozen=True)
class HistoryEvent:
    """One change to the case, append-only. ``detail`` holds only dates, counts and the pack's own
    wording (for note-worthy kinds, the note text itself), never a name or text from the SIS."""

    seq: int
    on: date
    kind: HistoryKind
    designation: str | None
    tier: str | None
    detail: str


@dataclass(frozen=True)
class OfficerAction:
    """Something an officer recorded in the SIS, read back by the plugin.

    ``task_id`` or ``sync_key`` names the row acted on; ``outcome`` is the officer's coded result
    of a task (e.g. ``held``, ``no_show``).
    """

    kind: ActionKind
    on: date
    task_id: str | None = None
    outcome: str | None = None
    sync_key: str | None = None


@dataclass(frozen=True)
class HeldDesignation:
    """A designation the case has recorded: the date of each report (the first is when it was met)
    and, once a correction removed its basis, when it stopped holding.

    ``dismissed_on`` is set while an officer's dismissal of the flag stands. New evidence lifts it
    and starts a new ``flag_round``: the flag then lands in a new SIS row, and the dismissed row
    stays as the officer left it.
    """

    label: str
    citation: str
    report_dates: tuple[date, ...]
    retracted_on: date | None = None
    dismissed_on: date | None = None
    flag_round: int = 0

    @property
    def met_on(self) -> date:
        return self.report_dates[0]

    @property
    def occasions(self) -> int:
        return len(self.report_dates)

    @property
    def active(self) -> bool:
        return self.retracted_on is None


@dataclass(frozen=True)
class CompletedTask:
    on: date
    outcome: str | None


@dataclass(frozen=True)
class CaseState:
    """One student's case for one school year, as the daemon stores it between cycles.

    ``conditions`` are officer-fulfilled prerequisites (condition id → date), fed back to the
    engine; ``completed_tasks`` keeps each done task's date and outcome so it stays in the SIS.
    """

    student_id: str
    school_year: str
    policy_id: str
    status: CaseStatus
    tier: str | None
    designations: Mapping[str, HeldDesignation]
    conditions: Mapping[str, date]
    history: tuple[HistoryEvent, ...]
    completed_tasks: Mapping[str, CompletedTask] = field(default_factory=dict)
    basis: Basis | None = None
    """What the case was decided on when it last changed (None before this was kept)."""

    def tier_entries(self) -> dict[str, date]:
        """Tiers the case is in now, with the trigger date of each (the start of its deadlines; a
        re-enrollment after a withdrawal starts them again on the day the student returned)."""
        entries: dict[str, date] = {}
        for event in self.history:
            if event.kind == "tier_entered" and event.tier is not None:
                entries[event.tier] = event.on
            elif event.kind == "tier_left" and event.tier is not None:
                entries.pop(event.tier, None)
            elif event.kind == "reenrolled":
                entries = {tier: max(on, event.on) for tier, on in entries.items()}
        return entries

    def last_entry(self, tier_id: str) -> date | None:
        """When the tier was last entered, even if the case has left it since."""
        dates = [e.on for e in self.history if e.kind == "tier_entered" and e.tier == tier_id]
        return dates[-1] if dates else None


def advance_case(
    previous: CaseState | None,
    determination: Determination,
    *,
    case_policy: CasePolicy,
    calendar: SchoolCalendar,
    school_year: str,
    officer_actions: Sequence[OfficerAction] = (),
    hold: Hold | None = None,
    cause: str = RE_EVALUATION,
) -> CaseState | None:
    """The case after this determination; None when there is no case and nothing to open.

    A case opens at the first designation. When ``school_year`` moves past the case's year (and
    the pack closes cases then), the old case is closed; if the new year's determination already
    holds a designation, a new case opens at once and logs the closure as its first event.

    Under a ``hold`` (records the map cannot count yet) nothing is withdrawn: every designation,
    report and tier stays; new ones may still be recorded, since a record not counted can only
    lower a count. ``cause`` is what changed since the case last did, named in any withdrawal note.
    """
    if previous is not None and previous.student_id != determination.student_id:
        raise ValueError("the determination is for a different student than the case")
    if previous is not None and school_year < previous.school_year:
        raise ValueError(f"school year {school_year} is before the case's year {previous.school_year}")
    draft = _starting_draft(previous, determination, case_policy, school_year)
    if draft is None or isinstance(draft, CaseState):
        return draft
    draft.apply_determination(determination, case_policy.notes, hold=hold, cause=cause)
    draft.move_tiers(case_policy, calendar, determination.as_of)
    draft.apply_officer_actions(officer_actions, case_policy)
    draft.reinstate_on_new_evidence(determination)
    return draft.freeze(case_policy)


def _starting_draft(
    previous: CaseState | None, determination: Determination, policy: CasePolicy, school_year: str
) -> _Draft | CaseState | None:
    """Where this advance starts: a draft to fold the determination into, or a final answer."""
    opening = bool(determination.designations)
    if previous is None:
        return _Draft.new(determination, school_year) if opening else None
    if previous.school_year == school_year:
        return previous if previous.status == "closed" else _Draft.of(previous)
    if previous.status == "closed":
        return _Draft.new(determination, school_year) if opening else previous
    if not policy.close_on_new_school_year:
        return _Draft.of(previous)
    if not opening:
        return closed_for_new_year(previous, determination.as_of, policy)
    fresh = _Draft.new(determination, school_year)
    fresh.record_closing(previous.school_year, determination.as_of, policy.notes)
    return fresh


def closed_for_new_year(previous: CaseState, as_of: date, policy: CasePolicy) -> CaseState:
    """Last year's open case, closed as the new school year starts: kept as that year's history
    beside the new year's case (cases are per student and school year)."""
    closing = _Draft.of(previous)
    closing.status = "closed"
    closing.record_closing(previous.school_year, as_of, policy.notes)
    return closing.freeze(policy)


@dataclass
class _Draft:
    """A case being advanced: mutable while one determination is folded in, then frozen."""

    student_id: str
    school_year: str
    policy_id: str
    status: CaseStatus
    designations: dict[str, HeldDesignation]
    conditions: dict[str, date]
    completed_tasks: dict[str, CompletedTask]
    history: list[HistoryEvent]

    @classmethod
    def new(cls, determination: Determination, school_year: str) -> _Draft:
        return cls(determination.student_id, school_year, determination.policy_id, "open", {}, {}, {}, [])

    @classmethod
    def of(cls, case: CaseState) -> _Draft:
        return cls(
            case.student_id,
            case.school_year,
            case.policy_id,
            case.status,
            dict(case.designations),
            dict(case.conditions),
            dict(case.completed_tasks),
            list(case.history),
        )

    def record(
        self,
        on: date,
        kind: HistoryKind,
        detail: str,
        *,
        designation: str | None = None,
        tier: str | None = None,
    ) -> None:
        self.history.append(HistoryEvent(len(self.history) + 1, on, kind, designation, tier, detail))

    def record_closing(self, school_year: str, on: date, notes: NoteTemplates) -> None:
        self.record(on, "closed", notes.render("closed", school_year=school_year, on=on.isoformat()))

    def apply_determination(
        self,
        determination: Determination,
        notes: NoteTemplates,
        *,
        hold: Hold | None = None,
        cause: str = RE_EVALUATION,
    ) -> None:
        """Retract what no longer holds (never under a hold), record what is newly met or reported again."""
        current = {d.id: d for d in determination.designations}
        as_of = determination.as_of
        for designation_id, held in sorted(self.designations.items()):
            if held.active and designation_id not in current and hold is None:
                self.designations[designation_id] = replace(held, retracted_on=as_of)
                text = notes.render(
                    "retracted",
                    label=held.label,
                    citation=held.citation,
                    met_on=held.met_on.isoformat(),
                    as_of=as_of.isoformat(),
                    cause=cause,
                )
                self.record(as_of, "retracted", text, designation=designation_id)
        for designation in determination.designations:
            held_now = self.designations.get(designation.id)
            if held_now is None or not held_now.active:
                self._designate(designation, notes, as_of)
            else:
                self._follow_reports(held_now, designation, as_of, notes, hold=hold, cause=cause)

    def _designate(self, designation: Designation, notes: NoteTemplates, as_of: date) -> None:
        """A designation newly held. Met again after a withdrawal, its note is dated the day it is
        known again and counts as of that day, so it never repeats the first note word for word."""
        earlier = self.designations.get(designation.id)
        flag_round = 0 if earlier is None else earlier.flag_round + (earlier.dismissed_on is not None)
        self.designations[designation.id] = HeldDesignation(
            designation.label, designation.citation, (designation.met_on,), flag_round=flag_round
        )
        values = {
            "label": designation.label,
            "citation": designation.citation,
            "met_on": designation.met_on.isoformat(),
            "unit": _unit(designation.unit),
            "threshold": _number(designation.threshold),
        }
        if earlier is None:
            text = notes.render("designated", count=_count_on_met(designation), **values)
            self.record(designation.met_on, "designated", text, designation=designation.id)
        else:
            counted = _number(designation.count)
            text = notes.render("redesignated", count=counted, as_of=as_of.isoformat(), **values)
            self.record(as_of, "designated", text, designation=designation.id)
        self._add_reports(self.designations[designation.id], designation, notes)

    def _follow_reports(
        self,
        held: HeldDesignation,
        designation: Designation,
        as_of: date,
        notes: NoteTemplates,
        *,
        hold: Hold | None = None,
        cause: str = RE_EVALUATION,
    ) -> None:
        """Track the count of reports (CA 48261); a correction that lowers it withdraws reports,
        except under a hold, where every report and its date stand."""
        if hold is not None:
            kept = replace(held, label=designation.label, citation=designation.citation)
            self.designations[designation.id] = kept
            self._add_reports(kept, designation, notes)
            return
        dates = (designation.met_on, *held.report_dates[1 : designation.occasions])
        updated = replace(held, label=designation.label, citation=designation.citation, report_dates=dates)
        for occasion in range(held.occasions, designation.occasions, -1):
            text = notes.render(
                "report_withdrawn",
                label=held.label,
                as_of=as_of.isoformat(),
                occasion=str(occasion),
                cause=cause,
            )
            self.record(as_of, "report_withdrawn", text, designation=designation.id)
        self.designations[designation.id] = updated
        self._add_reports(updated, designation, notes)

    def _add_reports(self, held: HeldDesignation, designation: Designation, notes: NoteTemplates) -> None:
        """Reports beyond those held, each dated by the day the engine says it was met (the record
        that made it); without per-report dates, by the latest counted record."""
        if designation.occasions <= held.occasions:
            return
        latest = max((e.date for e in designation.evidence), default=designation.met_on)
        fallback = max(latest, designation.met_on)
        dates: list[date] = []
        for occasion in range(held.occasions + 1, designation.occasions + 1):
            known = designation.report_dates
            reported_on = known[occasion - 1] if len(known) >= occasion else fallback
            dates.append(reported_on)
            text = notes.render(
                "reported",
                label=designation.label,
                citation=designation.citation,
                on=reported_on.isoformat(),
                occasion=str(occasion),
            )
            self.record(reported_on, "reported", text, designation=designation.id)
        self.designations[designation.id] = replace(held, report_dates=(*held.report_dates, *dates))

    def move_tiers(self, policy: CasePolicy, calendar: SchoolCalendar, as_of: date) -> None:
        """Enter each tier whose condition now holds; leave (and log) each whose condition no longer does."""
        entered = self.snapshot().tier_entries()
        for tier in policy.tiers:
            designation_id = tier.enter_when.designation
            trigger = self._trigger(tier.enter_when)
            if tier.id in entered and trigger is None:
                held = self.designations.get(designation_id)
                label = held.label if held is not None else designation_id
                text = policy.notes.render(
                    "tier_left", tier=tier.label, as_of=as_of.isoformat(), designation=label
                )
                self.record(as_of, "tier_left", text, designation=designation_id, tier=tier.id)
            elif tier.id not in entered and trigger is not None:
                held, on = trigger
                text = policy.notes.render(
                    "tier_entered",
                    tier=tier.label,
                    on=on.isoformat(),
                    designation=held.label,
                    citation=held.citation,
                    tasks_due=_tasks_due(tier, calendar, on),
                )
                self.record(on, "tier_entered", text, designation=designation_id, tier=tier.id)

    def _trigger(self, enter_when: EnterWhen) -> tuple[HeldDesignation, date] | None:
        """The held designation a tier rests on and the date its condition was met, if it holds now."""
        held = self.designations.get(enter_when.designation)
        if held is None or not held.active or held.occasions < enter_when.occasions_at_least:
            return None
        return held, held.report_dates[enter_when.occasions_at_least - 1]

    def apply_officer_actions(self, actions: Iterable[OfficerAction], policy: CasePolicy) -> None:
        """Fold in what officers recorded, in date order; an action already in the history is skipped."""
        ordered = sorted(
            actions, key=lambda a: (a.on, a.kind, a.task_id or "", a.sync_key or "", a.outcome or "")
        )
        for action in ordered:
            if action.kind == "task_done":
                self._complete_task(action, policy)
            else:
                self._note_action(action)

    def _complete_task(self, action: OfficerAction, policy: CasePolicy) -> None:
        """A task done, with the officer's outcome; only an outcome that fulfils the task (a
        conference held or attempted, not a referral declined) meets the condition it satisfies.
        An outcome the task's type does not list (an older code) is taken as done and fulfilling."""
        found = self._task_named(action, policy)
        if found is None:
            return
        tier, task = found
        if task.id in self.completed_tasks or self.snapshot().last_entry(tier.id) is None:
            return
        outcome = task.outcome(action.outcome)
        if outcome is not None and not outcome.closes:
            return
        self.completed_tasks[task.id] = CompletedTask(action.on, action.outcome)
        detail = f"Task {task.id} done on {action.on.isoformat()}"
        if outcome is not None:
            detail += f" ({outcome.label})"
        if task.satisfies is not None and (outcome is None or outcome.fulfils):
            earlier = self.conditions.get(task.satisfies)
            self.conditions[task.satisfies] = min(action.on, earlier) if earlier is not None else action.on
            detail += f"; condition {task.satisfies} met"
        self.record(
            action.on, "task_done", detail + ".", designation=tier.enter_when.designation, tier=tier.id
        )

    def _task_named(self, action: OfficerAction, policy: CasePolicy) -> tuple[Tier, TaskTemplate] | None:
        """The pack's task an action refers to, by id or by the sync key of its SIS row."""
        if action.task_id is not None:
            return policy.task(action.task_id)
        for tier in policy.tiers:
            for task in tier.tasks:
                if sync_key(WriteKind.TASK, self.student_id, self.school_year, task.id) == action.sync_key:
                    return tier, task
        return None

    def _note_action(self, action: OfficerAction) -> None:
        designation = self._flag_dismissed(action) if action.kind == "flag_dismissed" else None
        detail = f"Officer action {action.kind} on {action.on.isoformat()}"
        if action.sync_key is not None:
            detail += f" (row {action.sync_key})"
        if any(e.kind == action.kind and e.on == action.on and e.detail == detail for e in self.history):
            return
        if designation is not None:
            held = self.designations[designation]
            self.designations[designation] = replace(held, dismissed_on=action.on)
        self.record(action.on, action.kind, detail, designation=designation)

    def _flag_dismissed(self, action: OfficerAction) -> str | None:
        """The designation whose current flag row the officer dismissed (an older round's is history)."""
        return next(
            (
                designation_id
                for designation_id, held in sorted(self.designations.items())
                if held.dismissed_on is None
                and flag_key(self.student_id, self.school_year, designation_id, held.flag_round)
                == action.sync_key
            ),
            None,
        )

    def reinstate_on_new_evidence(self, determination: Determination) -> None:
        """A dismissed flag returns, in a new row, once a record or report after the dismissal counts."""
        for designation in determination.designations:
            held = self.designations.get(designation.id)
            if held is None or held.dismissed_on is None or not held.active:
                continue
            latest = max((e.date for e in designation.evidence), default=designation.met_on)
            newest = max(latest, held.report_dates[-1])
            if newest <= held.dismissed_on:
                continue
            self.designations[designation.id] = replace(
                held, dismissed_on=None, flag_round=held.flag_round + 1
            )
            detail = (
                f"Flag dismissed on {held.dismissed_on.isoformat()} shown again: "
                f"evidence dated {newest.isoformat()} counts since."
            )
            self.record(determination.as_of, "flag_reinstated", detail, designation=designation.id)

    def record_overrides(self, overrides: Iterable[Override], on: date) -> None:
        """Log each officer edit that wins over the desired state, once per row and field."""
        for override in sorted(overrides):
            detail = (
                f"Officer's {override.field} on {override.kind.value} row {override.sync_key} differs "
                "from truancy-sync's; the officer's value stands."
            )
            if any(e.kind == "officer_override" and e.detail == detail for e in self.history):
                continue
            self.record(on, "officer_override", detail)

    def snapshot(self) -> CaseState:
        return CaseState(
            self.student_id,
            self.school_year,
            self.policy_id,
            self.status,
            None,
            self.designations,
            self.conditions,
            tuple(self.history),
            self.completed_tasks,
        )

    def freeze(self, policy: CasePolicy) -> CaseState:
        view = self.snapshot()
        in_force = [t for t in view.tier_entries() if policy.tier(t) is not None]
        tier = max(in_force, key=policy.rank, default=None)
        return replace(view, tier=tier)


@dataclass(frozen=True, order=True)
class Override:
    """An officer-owned field of a daemon row whose SIS value differs from the desired one."""

    sync_key: str
    kind: WriteKind
    field: str


def record_overrides(case: CaseState, overrides: Sequence[Override], *, on: date) -> CaseState:
    """The case with each officer override logged (once); the SIS keeps the officer's value."""
    if not overrides:
        return case
    draft = _Draft.of(case)
    draft.record_overrides(overrides, on)
    return replace(case, history=tuple(draft.history))


def flag_key(student_id: str, school_year: str, designation_id: str, flag_round: int) -> str:
    """The sync key of a designation's flag row; each reinstatement after a dismissal gets its own."""
    logical_id = designation_id if flag_round == 0 else f"{designation_id}#{flag_round}"
    return sync_key(WriteKind.FLAG, student_id, school_year, logical_id)


def desired_writes(
    case: CaseState,
    determination: Determination,
    *,
    case_policy: CasePolicy,
    calendar: SchoolCalendar,
    hold: Hold | None = None,
) -> list[DesiredWrite]:
    """The flags, tasks and notes the SIS should hold for this case, in a stable order.

    Flags: designations held now (``dismissed`` while an officer's dismissal stands). Tasks: those
    of the tiers the case is in, open until an officer marks them done; a done task stays (status
    ``done``, with its outcome) whatever happens next. Notes: one per note-worthy history event,
    never removed, keyed by what they say (see ``_note``). Under a ``hold`` every flag and task
    stays and carries the hold's marker, so officers see why nothing moves.
    """
    current = {d.id: d for d in determination.designations}
    writes: list[DesiredWrite] = []
    if case.status == "open":
        tier = case_policy.tier(case.tier) if case.tier is not None else None
        label = tier.label if tier is not None else ""
        for d, held in case.designations.items():
            if held.active and d in current:
                writes.append(_flag(case, current[d], held, label, hold))
            elif held.active and hold is not None:
                writes.append(_held_flag(case, d, held, label, hold))
    entries = case.tier_entries()
    for tier in case_policy.tiers:
        started = entries.get(tier.id) if case.status == "open" else None
        for task in tier.tasks:
            done = case.completed_tasks.get(task.id)
            trigger = started if done is None else case.last_entry(tier.id)
            if trigger is not None:
                basis = current.get(tier.enter_when.designation)
                due = calendar.add_school_days(trigger, task.due_school_days)
                writes.append(_task(case, tier, task, due, basis, done, hold if done is None else None))
    writes.extend(_notes(case))
    return writes


def _flag(
    case: CaseState, designation: Designation, held: HeldDesignation, tier: str, hold: Hold | None
) -> DesiredWrite:
    """The flag carries the case's tier, so the SIS can show and filter cases without the daemon."""
    detail = f"{_amount(designation)}; rule {designation.rule}; evidence: {_evidence(designation)}"
    if hold is not None:
        detail = f"{hold.marker} Counted without the held records: {detail}"
    fields = {
        "flag_type": designation.id,
        "label": designation.label,
        "citation": designation.citation,
        "status": "active" if held.dismissed_on is None else "dismissed",
        "since_date": held.met_on.isoformat(),
        "detail": detail,
        "tier": tier,
    }
    key = flag_key(case.student_id, case.school_year, designation.id, held.flag_round)
    return DesiredWrite(WriteKind.FLAG, key, case.student_id, fields)


def _held_flag(
    case: CaseState, designation_id: str, held: HeldDesignation, tier: str, hold: Hold
) -> DesiredWrite:
    """A flag kept by a hold although the countable records alone no longer meet its rule."""
    fields = {
        "flag_type": designation_id,
        "label": held.label,
        "citation": held.citation,
        "status": "active" if held.dismissed_on is None else "dismissed",
        "since_date": held.met_on.isoformat(),
        "detail": f"{hold.marker} Met on {held.met_on.isoformat()}; re-counted once the records can be.",
        "tier": tier,
    }
    key = flag_key(case.student_id, case.school_year, designation_id, held.flag_round)
    return DesiredWrite(WriteKind.FLAG, key, case.student_id, fields)


def _task(
    case: CaseState,
    tier: Tier,
    task: TaskTemplate,
    due: date,
    basis: Designation | None,
    done: CompletedTask | None,
    hold: Hold | None = None,
) -> DesiredWrite:
    parts = [hold.marker] if hold is not None else []
    if task.checklist:
        parts.append("Checklist: " + "; ".join(task.checklist) + ".")
    if basis is not None:
        parts.append(
            f"Basis: {basis.label} met on {basis.met_on.isoformat()} ({_amount(basis)}); "
            f"evidence: {_evidence(basis)}."
        )
    elif hold is not None:
        parts.append(f"Basis: {tier.enter_when.designation}, re-counted once the held records can be.")
    else:
        parts.append(f"Basis: {tier.enter_when.designation} no longer met.")
    fields = {
        "task_type": task.id,
        "title": task.title,
        "due_date": due.isoformat(),
        "status": "open" if done is None else "done",
        "citation": task.citation,
        "detail": " ".join(parts),
        "outcome_options": options_json(task.type, petitions=task.records_petitions),
    }
    if done is not None:
        fields["completed_date"] = done.on.isoformat()
        fields["outcome"] = done.outcome or ""
    return DesiredWrite.build(WriteKind.TASK, case.student_id, case.school_year, task.id, fields)


def _notes(case: CaseState) -> list[DesiredWrite]:
    """One note per note-worthy event, keyed by what it says, never by its place in the history.

    A store rebuilt from scratch (or restored from a backup) re-derives the same events with the
    same words, hence the same keys, so the SIS's notes are recognised instead of written again.
    An event saying word for word what an earlier one said, on the same date (a report recorded
    again after a correction was undone), is that same note: it is written once.
    """
    seen: set[tuple[str, ...]] = set()
    notes = []
    for event in case.history:
        if event.kind not in NOTE_CATEGORIES:
            continue
        identity = (event.kind, event.designation or "", event.tier or "", event.on.isoformat(), event.detail)
        if identity in seen:
            continue
        seen.add(identity)
        fields = {
            "note_date": event.on.isoformat(),
            "category": NOTE_CATEGORIES[event.kind],
            "author": AUTHOR,
            "note_text": event.detail,
        }
        digest = hashlib.sha256("\x1f".join(identity).encode("utf-8")).hexdigest()
        logical_id = f"note:{digest[:32]}"
        notes.append(
            DesiredWrite.build(WriteKind.NOTE, case.student_id, case.school_year, logical_id, fields)
        )
    return notes


def _tasks_due(tier: Tier, calendar: SchoolCalendar, trigger: date) -> str:
    due = [
        f"{t.title} by {calendar.add_school_days(trigger, t.due_school_days).isoformat()}" for t in tier.tasks
    ]
    return "; ".join(due) if due else "no tasks"


def _amount(designation: Designation) -> str:
    return (
        f"{_number(designation.count)} {_unit(designation.unit)}, threshold {_number(designation.threshold)}"
    )


def _evidence(designation: Designation) -> str:
    """Each record's date, category, minutes and SIS code: what an officer needs to find the records
    and check them, nothing more. Where the law counts further reports (CA § 48261), the records are
    grouped by report and the further ones labelled with their section."""
    records = [_record(e) for e in designation.evidence]
    sizes = designation.report_sizes
    if len(sizes) < 2 or sum(sizes) != len(records):
        return ", ".join(records) or "none listed"
    first = ", ".join(records[: sizes[0]])
    further: list[str] = []
    start = sizes[0]
    for number, size in enumerate(sizes[1:], start=2):
        further.append(f"#{number} " + ", ".join(records[start : start + size]))
        start += size
    under = f" ({designation.further_citation})" if designation.further_citation else ""
    return f"first report: {first}; further reports{under}: " + "; ".join(further)


def _record(evidence: Evidence) -> str:
    """``2025-09-10 tardy 45 min UT``: minutes for part days, the district's own code when known."""
    parts = [evidence.date.isoformat(), evidence.category.value]
    if evidence.minutes_absent is not None:
        parts.append(f"{evidence.minutes_absent} min")
    if evidence.code:
        parts.append(evidence.code)
    return " ".join(parts)


def _count_on_met(designation: Designation) -> str:
    """The count as it stood on the day the designation was met, the date its note bears.

    Day and occasion units count one per dated record; for other units (a percentage, hours) the
    count on that day is only known to have reached the threshold, and the note says so.
    """
    if designation.unit in COUNTED_UNITS:
        return _number(len({e.date for e in designation.evidence if e.date <= designation.met_on}))
    latest = max((e.date for e in designation.evidence), default=designation.met_on)
    if latest <= designation.met_on:
        return _number(designation.count)
    return f"at least {_number(designation.threshold)}"


def _number(value: float) -> str:
    return f"{round(value, 1):g}"


def _unit(unit: str) -> str:
    return _UNIT_WORDS.get(unit, unit.replace("_", " "))


def end_enrollment(case: CaseState, exit_on: date, policy: CasePolicy) -> CaseState:
    """The case once the student's enrollment ended on ``exit_on`` (a withdrawal or transfer out).

    An open case closes as of that day with a note naming the withdrawal: its open tasks leave the
    SIS (done ones stay), and the caller evaluates no later than ``exit_on``, so no step starts after
    it. A case already closed is returned as it is.
    """
    if case.status == "closed":
        return case
    draft = _Draft.of(case)
    draft.status = "closed"
    text = policy.notes.render("withdrawn", school_year=case.school_year, exit_on=exit_on.isoformat())
    draft.record(exit_on, "withdrawn", text)
    return draft.freeze(policy)


def withdrawn(case: CaseState) -> bool:
    """Whether the case stands closed because the student's enrollment ended."""
    ends = [e.kind for e in case.history if e.kind in ("withdrawn", "reenrolled", "closed")]
    return case.status == "closed" and bool(ends) and ends[-1] == "withdrawn"


def reopen_on_reenrollment(case: CaseState, since: date, policy: CasePolicy) -> CaseState:
    """A case a withdrawal closed opens again when the student is enrolled again (since ``since``).

    Designations and reports of the year stand; task deadlines count from ``since`` (see
    ``CaseState.tier_entries``). Any other case is returned as it is.
    """
    if not withdrawn(case):
        return case
    draft = _Draft.of(case)
    draft.status = "open"
    text = policy.notes.render("reenrolled", school_year=case.school_year, on=since.isoformat())
    draft.record(since, "reenrolled", text)
    return draft.freeze(policy)


def conditions_from(case: CaseState) -> Mapping[str, date]:
    """The officer-fulfilled conditions the engine evaluates the next cycle with."""
    return dict(case.conditions)


def conditions_with(
    previous: CaseState | None, actions: Sequence[OfficerAction], policy: CasePolicy
) -> Mapping[str, date]:
    """The conditions to evaluate this cycle with: the case's, and those the officer actions read
    back this cycle fulfil, so a conference recorded today counts today, not a cycle later.

    Only tasks of tiers already entered can be done, so the previous case is enough to tell.
    """
    if previous is None:
        return {}
    if not actions or previous.status == "closed":
        return dict(previous.conditions)
    draft = _Draft.of(previous)
    draft.apply_officer_actions(actions, policy)
    return dict(draft.conditions)


_CASE_ADAPTER: TypeAdapter[CaseState] = TypeAdapter(CaseState)


def case_to_dict(case: CaseState) -> dict[str, Any]:
    """JSON-safe form for the daemon's store (ISO dates, lists for tuples)."""
    data: dict[str, Any] = _CASE_ADAPTER.dump_python(case, mode="json")
    return data


def case_from_dict(data: Mapping[str, Any]) -> CaseState:
    """A stored case, validated; the error names the broken keys, never the stored values."""
    try:
        return _CASE_ADAPTER.validate_python(dict(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['type']}" for err in exc.errors()[:5]
        )
        raise ValueError(f"stored case state is not valid: {problems}") from None
