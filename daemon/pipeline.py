"""One sync cycle: pull, evaluate, diff, write back; recorded in the store as it goes."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Protocol

from sqlalchemy import Engine, func, select, update

from truancy.connector.errors import ConnectorError, FailureType, failure_of
from truancy.daemon.caseload import CaseloadSettings
from truancy.daemon.caseload_writes import with_caseloads
from truancy.daemon.casework import CaseworkGate, casework_gate
from truancy.daemon.casework_invitations import InvitationCycle
from truancy.daemon.casework_progress import PlanProgressCycle
from truancy.daemon.dry_run import plan_by_student
from truancy.daemon.due import clear_marks, due_students, mark_sis_refs, mark_students, students_of
from truancy.daemon.evaluate import (
    Evaluation,
    Evaluator,
    Target,
    commit_cases,
    discard_cases,
    id_order,
)
from truancy.daemon.family_notices import FamilyNoticeCycle, family_cycle
from truancy.daemon.family_notices_schema import family_notice_students, family_notices
from truancy.daemon.guard import RetractionGuard, retracting
from truancy.daemon.held import record_held_rows, settle_held
from truancy.daemon.holdout import OutcomesSettings, holdable_tasks, without_holdout
from truancy.daemon.ingest import (
    ATTENDANCE_STREAM,
    CALENDAR_STREAM,
    READBACK_STREAM,
    ROSTER_STREAM,
    Ingest,
    reconcile_due,
)
from truancy.daemon.instance import adopted, instance_id, stamped
from truancy.daemon.mirror import Mirror, orphan_refs, rows_of
from truancy.daemon.mirror import open_rows as mirror_open_rows
from truancy.daemon.notices import NoticeCycle
from truancy.daemon.notices_schema import notices
from truancy.daemon.officer import OfficerWork
from truancy.daemon.outbox import Outbox, Plan, WriteCounts, plan_writes
from truancy.daemon.ownership import may_retract
from truancy.daemon.packets import PacketCycle
from truancy.daemon.progress import Reporter, SilentReporter
from truancy.daemon.schema import (
    attendance,
    calendar_days,
    cycles,
    enrollments,
    mapping_files,
    quarantine,
    students,
)
from truancy.daemon.store import read_bookmark, upsert, utcnow, write_bookmark
from truancy.daemon.tallies import Totals, evaluation_totals
from truancy.daemon.write_pool import DEFAULT_WRITE_CONCURRENCY
from truancy.mappings.case import OfficerAction
from truancy.mappings.casework import CaseworkPack, casework_pack
from truancy.mappings.facts import SchoolCalendar
from truancy.mappings.policy import Policy
from truancy.plugins.base import RemoteRow, SisPlugin

log = logging.getLogger("truancy.daemon.pipeline")

EVALUATE_BATCH = 1000
"""Students evaluated, and their SIS rows diffed, at a time: memory stays flat as the district grows."""
BASIS_KEY = "evaluation:basis"
"""The bookmark holding what the last standing cycle's evaluations rested on (``SyncPipeline._basis``)."""


@dataclass
class CycleSummary:
    """What one cycle did; ``--json`` prints exactly this."""

    cycle_id: int
    as_of: date | None = None
    students: int = 0
    attendance_records: int = 0
    cases: dict[str, int] = field(default_factory=dict)
    open_cases: int = 0
    writes: WriteCounts = field(default_factory=WriteCounts)
    planned: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantined: int = 0
    unknown_codes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False
    student_plans: list[dict[str, Any]] = field(default_factory=list)
    """A dry run's planned changes per student (SIS key, designations, writes)."""
    pulled: dict[str, int] = field(default_factory=dict)
    failed_stream: str | None = None
    officer_actions: int = 0
    held_cases: int = 0
    """Open cases held (nothing withdrawn) because the code map cannot count some of their records."""
    held_codes: dict[str, int] = field(default_factory=dict)
    """The codes holding cases, with the number of cases each holds."""
    blocked: dict[str, Any] | None = None
    """Set when the retraction guard held this cycle's writes back: what, and why."""
    evaluated: int = 0
    """Students evaluated this cycle: those whose records changed or whose case a date moves
    (every student after a map, policy or school-year change, on the reconcile schedule, ``--full``)."""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def failure(self) -> FailureType | None:
        """The most pressing kind among the errors (each written ``"<kind>: ..."``), None without any."""
        kinds = {_failure_named(error.split(":", 1)[0]) for error in self.errors}
        return next((kind for kind in FAILURE_ORDER if kind in kinds), None)

    @property
    def anything_quarantined(self) -> bool:
        """Rows the sync could not use: ``truancy sync`` then exits 4, so cron and monitoring see it."""
        return self.quarantined > 0 or bool(self.unknown_codes) or self.held_cases > 0

    def as_json(self) -> dict[str, Any]:
        return {
            "cycle_id": self.cycle_id,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "students": self.students,
            "attendance_records": self.attendance_records,
            "cases": dict(sorted(self.cases.items())),
            "open_cases": self.open_cases,
            "writes": self.writes.as_dict(),
            "planned": self.planned,
            "quarantined": self.quarantined,
            "unknown_codes": dict(sorted(self.unknown_codes.items())),
            "errors": self.errors,
            "dry_run": self.dry_run,
            "pulled": dict(sorted(self.pulled.items())),
            "failed_stream": self.failed_stream,
            "officer_actions": self.officer_actions,
            "held_cases": self.held_cases,
            "held_codes": dict(sorted(self.held_codes.items())),
            "blocked": self.blocked,
            "evaluated": self.evaluated,
            **({"student_plans": self.student_plans} if self.dry_run else {}),
        }


def _failure_named(prefix: str) -> FailureType:
    try:
        return FailureType(prefix.strip())
    except ValueError:
        return FailureType.DATA


class CycleInterrupted(Exception):  # noqa: N818 (a request, not an error)
    """Raised between batches when the service is shutting down; the cycle ends as ``interrupted``."""


class CycleObserver(Protocol):
    """Hooks for the service (metrics, log context); the pipeline itself stays free of them."""

    def cycle_started(self, cycle_id: int) -> None: ...

    def stream_started(self, stream: str) -> None: ...

    def cycle_finished(self, summary: CycleSummary, status: str, error_class: str | None) -> None: ...


class NoObserver:
    def cycle_started(self, cycle_id: int) -> None:
        return None

    def stream_started(self, stream: str) -> None:
        return None

    def cycle_finished(self, summary: CycleSummary, status: str, error_class: str | None) -> None:
        return None


EVALUATE_STREAM = "evaluate"
WRITEBACK_STREAM = "writeback"
STREAMS = (
    ROSTER_STREAM,
    CALENDAR_STREAM,
    ATTENDANCE_STREAM,
    READBACK_STREAM,
    EVALUATE_STREAM,
    WRITEBACK_STREAM,
)
"""The stages of a cycle, in order; logs, metrics and the status page name them."""


def error_class(exc: BaseException) -> FailureType:
    """What the status page tells IT staff to do about a failure (``FailureType``)."""
    return failure_of(exc)


FAILURE_ORDER = (FailureType.CONFIGURATION, FailureType.INTERNAL, FailureType.TRANSIENT, FailureType.DATA)
"""Which kind a cycle with several reports first: the one a person must act on."""


@dataclass(frozen=True)
class _Extra:
    """What each batch adds beyond its evaluation: the letters' actions for the case, by SIS key;
    the family letters; the invitation translation tasks, by student."""

    actions: dict[str, list[OfficerAction]]
    family: FamilyNoticeCycle | None
    invited: dict[str, dict[str, Target]]


@dataclass
class _CycleTotals:
    """What a cycle's batches add up to, until the retraction guard weighs it."""

    cycle_id: int
    officer: OfficerWork
    evaluated: int = 0
    officer_actions: int = 0
    planned: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    unchanged: int = 0
    retractions: Counter[str] = field(default_factory=Counter)
    student_plans: list[dict[str, Any]] = field(default_factory=list)
    totals: Totals = field(default_factory=Totals)
    held_rows: int = 0
    unmapped: Counter[str] = field(default_factory=Counter)
    cased_refs: set[str] = field(default_factory=set)
    """SIS keys of the students this cycle's evaluations wrote for (the family letters' notes)."""

    def add(self, evaluation: Evaluation) -> None:
        self.totals.add(evaluation)
        self.held_rows += len(evaluation.quarantined)
        self.unmapped.update(evaluation.unmapped)


class SyncPipeline:
    def __init__(
        self,
        engine: Engine,
        plugin: SisPlugin,
        policy: Policy,
        *,
        reporter: Reporter | None = None,
        dry_run: bool = False,
        reconcile_every: timedelta = timedelta(hours=24),
        observer: CycleObserver | None = None,
        timezone: tzinfo = UTC,
        guard: RetractionGuard | None = None,
        caseloads: CaseloadSettings | None = None,
        outcomes: OutcomesSettings | None = None,
        district: str = "district",
        notices: NoticeCycle | None = None,
        invitations: InvitationCycle | None = None,
        packets: PacketCycle | None = None,
        progress: PlanProgressCycle | None = None,
        casework: CaseworkPack | None = None,
        write_concurrency: int = DEFAULT_WRITE_CONCURRENCY,
    ) -> None:
        """``guard`` limits what one cycle may withdraw (default: 25 rows or 2% of open ones);
        ``caseloads`` names each case's officer on its rows (default: no officer); ``casework`` is
        the district's casework pack (default: the state's shipped one)."""
        self.guard = guard or RetractionGuard()
        self.caseloads = caseloads or CaseloadSettings()
        self.outcomes = outcomes or OutcomesSettings()
        self.district = district
        holdable_tasks(self.outcomes, policy.case)  # a hold-out the law forbids is refused before any cycle
        self.notices = notices
        self.invitations = invitations
        self.packets = packets
        self.progress = progress
        self.casework = casework if casework is not None else casework_pack(policy.id)
        self.timezone = timezone
        self.reconcile_every = reconcile_every
        self.write_concurrency = write_concurrency
        self.observer = observer or NoObserver()
        self._stream: str | None = None
        self.engine = engine
        self.plugin = plugin
        self.policy = policy
        self.reporter = reporter or SilentReporter()
        self.dry_run = dry_run

    def _assigned(self, desired: dict[str, Target]) -> dict[str, Target]:
        """The writes with their case's officer ([caseloads]), letters awaiting approval included."""
        return with_caseloads(desired, self.engine, self.caseloads, self.policy.case)

    def run_cycle(self, *, today: date | None = None, full: bool = False) -> CycleSummary:
        cycle_id = self._start_cycle()
        summary = CycleSummary(cycle_id=cycle_id, dry_run=self.dry_run)
        self._stream = None
        self.observer.cycle_started(cycle_id)
        try:
            self._run(summary, today or datetime.now(self.timezone).date(), full=full)
        except CycleInterrupted:
            self._finish_cycle(summary, "interrupted", None)
            raise
        except ConnectorError as exc:
            summary.errors.append(f"{error_class(exc)}: {exc}")
            summary.failed_stream = self._stream
            self._finish_cycle(summary, "failed", error_class(exc))
            raise
        except Exception as exc:
            summary.errors.append(f"{FailureType.INTERNAL}: {type(exc).__name__}")
            summary.failed_stream = self._stream
            self._finish_cycle(summary, "failed", FailureType.INTERNAL)
            raise
        blocked = summary.blocked is not None and not summary.dry_run
        status = "blocked" if blocked else "succeeded" if summary.ok else "failed"
        self._finish_cycle(summary, status, summary.failure if status == "failed" else None)
        return summary

    def _enter(self, stream: str) -> None:
        self._stream = stream
        self.observer.stream_started(stream)

    def _run(self, summary: CycleSummary, today: date, *, full: bool) -> None:
        ingest = Ingest(self.engine, self.plugin, summary.cycle_id, self.reporter)
        self._record_mappings_in_force(summary.cycle_id)
        self._enter(ROSTER_STREAM)
        ingest.roster(full=full or self._reconcile_due(ROSTER_STREAM))
        self._enter(CALENDAR_STREAM)
        # Calendars are the size of the district and change a few times a year: read on the
        # reconcile schedule, and at once when a student is enrolled in a school without one.
        if full or self._reconcile_due(CALENDAR_STREAM) or self._school_without_calendar():
            ingest.calendars()
        self._enter(ATTENDANCE_STREAM)
        # Newly rostered students can unlock rows quarantined for an unknown student: re-read them all.
        # (A changed code map needs no re-read: the store keeps every row's own code.)
        reread = ingest.counts.records["students"] > 0 and self._has_quarantine()
        ingest.attendance(full=full or reread or self._reconcile_due(ATTENDANCE_STREAM))

        # The SIS's truancy rows changed since the last cycle (all of them on the reconcile
        # schedule) into the store's mirror: the officer's work and the diff are read from there.
        self._enter(READBACK_STREAM)
        with self.engine.begin() as connection:  # a second store writing this district stops us here
            own = instance_id(connection)
            mirror = Mirror(self.plugin, summary.cycle_id, own=own, adopted=adopted(connection))
        full_readback = full or self._reconcile_due(READBACK_STREAM)
        ingest.readback(mirror, full=full_readback)
        summary.quarantined = ingest.counts.quarantined
        summary.pulled = dict(ingest.counts.records)
        outbox = Outbox(
            self.engine, self.plugin, summary.cycle_id, self.reporter, concurrency=self.write_concurrency
        )
        if not self.dry_run:
            outbox.supersede_stale()  # what a crashed cycle did not send: its students are due again

        self._enter(EVALUATE_STREAM)
        officer_before = self._officer_before_evaluation(today)
        gate = casework_gate(self.plugin, self.casework, today, OfficerWork(self.plugin))
        family = family_cycle(self.notices) if self.notices is not None else None
        if family is not None and not self.dry_run:  # letters to every family once a school year
            family.schedule(today)
            summary.errors.extend(family.errors)
        invited = self._by_student(self.invitations.writes()) if self.invitations is not None else {}
        evaluator = Evaluator(
            self.engine,
            self.policy,
            summary.cycle_id,
            self.reporter,
            lookup=self.plugin.categorize,
            gate=gate,
            persist=not self.dry_run,
            stage=True,
        )
        if not self.dry_run:  # a dry run may run beside the real cycle: it leaves the stage alone
            discard_cases(self.engine)  # what an interrupted cycle staged and never committed
        prepared = evaluator.prepare(today)
        basis = self._basis(prepared.school_year, evaluator.calendars, own)
        everyone = self.dry_run or full_readback or basis != self._stored_basis()
        cycle = _CycleTotals(summary.cycle_id, OfficerWork(self.plugin))
        extra = _Extra(officer_before, family, invited)
        with self.engine.connect() as connection:
            early = not self.dry_run and self.guard.cannot_hold(mirror_open_rows(connection))
        if early:  # nothing the guard could hold back: the writes go out as batches are planned
            outbox.start_sending()
        try:
            for batch, refs in self._batches(everyone, prepared.as_of, gate):
                self._evaluate_batch(batch, refs, evaluator, extra, gate, outbox, own, cycle, today)
                if early:
                    outbox.send_journalled()
            if everyone:
                for orphans in self._orphans():  # rows of students the store no longer knows: not wanted
                    with self.engine.connect() as connection:
                        rows = rows_of(connection, orphans)
                    self._plan({}, rows, outbox, cycle, frozenset())
            outbox.finish_sending()  # before any delivery re-plans a write
        finally:
            outbox.stop_sending()
        summary.evaluated = cycle.evaluated
        summary.officer_actions = cycle.officer_actions
        summary.errors.extend(cycle.officer.errors())
        if self.notices is not None and not self.dry_run:
            summary.errors.extend(self.notices.errors)
        self._summarise(summary, prepared, cycle)

        self._enter(WRITEBACK_STREAM)
        summary.planned = {op: dict(kinds) for op, kinds in cycle.planned.items()}
        with self.engine.connect() as connection:
            open_rows = mirror_open_rows(connection)
        held_back = self.guard.weigh(cycle.retractions, open_rows)
        if held_back is not None:
            summary.blocked = held_back.as_json()
            log.warning("retraction guard held the cycle's writes", extra={"retractions": held_back.total})
        if self.dry_run:
            summary.writes = WriteCounts(unchanged=cycle.unchanged)
            summary.student_plans = cycle.student_plans
            return
        if held_back is not None:
            discard_cases(self.engine)
            outbox.discard_planned()
            summary.writes = WriteCounts(unchanged=cycle.unchanged)
            return
        commit_cases(self.engine)
        with self.engine.begin() as connection:
            clear_marks(connection, summary.cycle_id)
            mark_sis_refs(connection, outbox.refused, summary.cycle_id)  # refused while planning: stays
            write_bookmark(connection, BASIS_KEY, basis)
        if self.notices is not None:
            with self.engine.connect() as connection:
                approved = list(
                    connection.execute(
                        select(notices.c.student_id).where(notices.c.status == "approved")
                    ).scalars()
                )
            if self.notices.deliver(today):  # sent, or held on an uncertain delivery
                self._plan_sent_notes(approved, outbox, own, cycle)  # logged in the SIS this same cycle
            summary.errors.extend(self.notices.delivery_errors)
        if family is not None and family.deliver(today):
            self._plan_family_notes(family, today, outbox, own, cycle)
        if self.invitations is not None:
            if self.invitations.run(today):  # a translation task for an invitation just sent
                self._plan_additions(self._assigned(self.invitations.writes()), outbox, own, cycle)
            summary.errors.extend(self.invitations.errors)
        summary.writes = outbox.send_planned(unchanged=cycle.unchanged)
        if self.progress is not None:
            self.progress.run(today)
        if self.packets is not None:  # after this cycle's case changes, so the packet shows them
            self.packets.run(today)
        summary.errors.extend(
            f"{failure}: {count} write(s) refused ({reason})"
            for (failure, reason), count in outbox.errors.items()
        )

    def _officer_before_evaluation(self, today: date) -> dict[str, list[OfficerAction]]:
        """The officer's decisions on letters (read from the review rows of undecided notices) and
        the letters sent, which the case counts as their task done: the actions this adds, by SIS key."""
        if self.notices is None or self.dry_run:
            return {}
        with self.engine.connect() as connection:
            undecided = connection.execute(
                select(notices.c.sis_ref).where(notices.c.status.in_(("pending", "held"))).distinct()
            ).scalars()
            work = OfficerWork.from_rows(rows_of(connection, list(undecided)), self.plugin, today=today)
        read = {ref: len(actions) for ref, actions in work.actions.items()}
        self.notices.before_evaluation(work, today)
        return {
            ref: actions[read.get(ref, 0) :]
            for ref, actions in work.actions.items()
            if len(actions) > read.get(ref, 0)
        }

    def _batches(
        self, everyone: bool, as_of: date, gate: CaseworkGate | None
    ) -> Iterator[tuple[list[str], dict[str, str | None]]]:
        """The students to evaluate, a batch at a time, with their SIS keys (deleted students too:
        their rows are diffed against nothing)."""
        if everyone:
            after = ""
            while True:
                with self.engine.connect() as connection:
                    found = connection.execute(
                        select(students.c.student_id, students.c.sis_ref)
                        .where(students.c.student_id > after)
                        .order_by(id_order(self.engine)(students.c.student_id))
                        .limit(EVALUATE_BATCH)
                    ).all()
                if not found:
                    return
                after = found[-1][0]
                yield [row[0] for row in found], dict(found)
        with self.engine.connect() as connection:
            also = students_of(connection, gate.files.keys()) if gate is not None else set()
            due = due_students(connection, as_of, also)
        for start in range(0, len(due), EVALUATE_BATCH):
            batch = due[start : start + EVALUATE_BATCH]
            with self.engine.connect() as connection:
                refs = dict(
                    connection.execute(
                        select(students.c.student_id, students.c.sis_ref).where(
                            students.c.student_id.in_(batch)
                        )
                    ).all()
                )
            yield batch, refs

    def _orphans(self) -> Iterator[list[str]]:
        with self.engine.connect() as connection:
            found = list(orphan_refs(connection))
        for start in range(0, len(found), EVALUATE_BATCH):
            yield found[start : start + EVALUATE_BATCH]

    def _evaluate_batch(
        self,
        batch: list[str],
        refs: dict[str, str | None],
        evaluator: Evaluator,
        extra: _Extra,
        gate: CaseworkGate | None,
        outbox: Outbox,
        own: str,
        cycle: _CycleTotals,
        today: date,
    ) -> None:
        """Evaluate one batch of students and journal the writes that bring their SIS rows in line."""
        sis_refs = [ref for ref in refs.values() if ref is not None]
        with self.engine.connect() as connection:
            rows = rows_of(connection, sis_refs)
        officer = OfficerWork.from_rows(rows, self.plugin, today=today)
        for ref in sis_refs:
            officer.actions[ref].extend(extra.actions.get(ref, ()))
        cycle.officer.unreadable += officer.unreadable
        cycle.officer.future_dated += officer.future_dated
        cycle.officer_actions += officer.action_count
        if gate is not None:  # the batch's officer work: escalations in the SIS stay, reviews done
            gate.existing, gate.officer = officer.rows.keys(), officer
        evaluator.officer = officer
        evaluation = evaluator.evaluate(batch)
        cycle.evaluated += evaluation.evaluated
        evaluation.desired = without_holdout(
            evaluation.desired,
            self.outcomes,
            self.policy.case,
            district=self.district,
            school_year=evaluation.school_year,
        )
        cycle.add(evaluation)
        if not self.dry_run:
            with self.engine.begin() as connection:
                record_held_rows(connection, evaluation.quarantined, evaluation.source_keys, cycle.cycle_id)
        desired = self._assigned(evaluation.desired)
        if self.notices is not None:
            if not self.dry_run:
                self.notices.schedule(evaluation, today)
            desired = {**desired, **self._assigned(self.notices.writes(batch))}
        cased = {target.write.student_id for target in evaluation.desired.values()}
        cycle.cased_refs.update(refs[student] or "" for student in cased if student in refs)
        if extra.family is not None:  # letters to every family once a school year (TX § 25.095(a))
            desired = {**desired, **self._assigned(extra.family.writes(cased))}
        for student in batch:
            desired.update(self._assigned(extra.invited.get(student, {})))
        plan = self._plan(stamped(desired, own), rows, outbox, cycle, evaluation.year_closed)
        if self.dry_run:
            cycle.student_plans.extend(p.as_json() for p in plan_by_student(evaluation, plan))

    def _plan(
        self,
        desired: dict[str, Target],
        rows: list[RemoteRow],
        outbox: Outbox,
        cycle: _CycleTotals,
        expected: Collection[str],
    ) -> Plan:
        plan = plan_writes(desired, rows, self.plugin)
        for op, kinds in plan.counts_by_kind().items():
            cycle.planned[op].update(kinds)
        cycle.unchanged += plan.unchanged
        cycle.retractions.update(retracting(plan, expected))
        if not self.dry_run:
            outbox.journal(plan)
        return plan

    def _plan_sent_notes(self, students: list[str], outbox: Outbox, own: str, cycle: _CycleTotals) -> None:
        """The rows logging the letters a delivery just changed, of the students whose letters were
        approved (they may not be in this cycle's batches); the next cycle tells their cases."""
        assert self.notices is not None
        with self.engine.begin() as connection:
            mark_students(connection, students, cycle.cycle_id)
        self._plan_additions(self._assigned(self.notices.writes(students)), outbox, own, cycle)

    def _plan_family_notes(
        self, family: FamilyNoticeCycle, today: date, outbox: Outbox, own: str, cycle: _CycleTotals
    ) -> None:
        """The notes on the students whose family letter was just printed, those with a case."""
        with self.engine.connect() as connection:
            printed = connection.execute(
                select(family_notice_students.c.student_id, family_notice_students.c.sis_ref)
                .join(family_notices, family_notices.c.notice_id == family_notice_students.c.notice_id)
                .where(family_notices.c.sent_on == today)
            ).all()
            with_rows = {row.sis_ref for row in rows_of(connection, [ref for _, ref in printed if ref])}
        cased = {student for student, ref in printed if ref in with_rows or ref in cycle.cased_refs}
        self._plan_additions(self._assigned(family.writes(cased)), outbox, own, cycle)

    def _plan_additions(
        self, writes: dict[str, Target], outbox: Outbox, own: str, cycle: _CycleTotals
    ) -> None:
        """Writes a cycle's deliveries added or changed after its batches were planned, against their
        students' rows, retracting nothing (the rest of each student's rows are their batch's)."""
        if not writes:
            return
        outbox.unplan(writes)  # what a batch planned for these rows is planned again, as it is now
        refs = {target.sis_ref for target in writes.values()}
        with self.engine.connect() as connection:
            rows = outbox.as_sent(rows_of(connection, refs), refs)  # with what this cycle sent already
        kept = [row for row in rows if row.sync_key in writes or not may_retract(row, self.plugin)]
        self._plan(stamped(writes, own), kept, outbox, cycle, ())

    @staticmethod
    def _by_student(writes: Mapping[str, Target]) -> dict[str, dict[str, Target]]:
        found: dict[str, dict[str, Target]] = defaultdict(dict)
        for key, target in writes.items():
            found[target.write.student_id][key] = target
        return found

    def _basis(self, school_year: str, calendars: Mapping[str, SchoolCalendar], own: str) -> str:
        """What every student's evaluation rests on beyond their own records: when it changes (a code
        map, field map or policy, the school year, a calendar, the caseload, hold-out or notice
        settings), every student is evaluated again, from the store."""
        digests = {source.kind: source.digest for source in self.plugin.mapping_sources}
        days = hashlib.sha256()
        for school, calendar in sorted(calendars.items()):
            days.update(f"{school}:{','.join(d.isoformat() for d in calendar.days)};".encode())
        parts = {
            **digests,
            "policy": self.policy.digest,
            "school_year": school_year,
            "calendars": days.hexdigest(),
            "caseloads": repr(self.caseloads),
            "outcomes": repr(self.outcomes),
            "district": self.district,
            "notices": repr(self.notices.settings) if self.notices is not None else "",
            "writer": own,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def _stored_basis(self) -> str | None:
        with self.engine.connect() as connection:
            return read_bookmark(connection, BASIS_KEY)

    def _summarise(self, summary: CycleSummary, prepared: Evaluation, cycle: _CycleTotals) -> None:
        summary.as_of = prepared.as_of
        if self.dry_run:  # nothing was recorded: the batches (every student) are the totals
            totals = cycle.totals
            summary.quarantined += cycle.held_rows
            summary.unknown_codes = dict(cycle.unmapped)
        else:
            with self.engine.begin() as connection:
                totals = evaluation_totals(connection, prepared.school_year)
                held_rows, unknown = settle_held(connection, self.plugin.categorize)
            summary.quarantined += held_rows
            summary.unknown_codes = dict(unknown)
        summary.cases = dict(totals.designations)
        summary.open_cases = totals.open_cases
        summary.held_cases = totals.held
        summary.held_codes = dict(totals.held_codes)
        if totals.missing_sis_ref:
            summary.errors.append(
                f"data: {totals.missing_sis_ref} student(s) with a case have no SIS key for write-back"
            )
        with self.engine.connect() as connection:
            summary.students = connection.execute(
                select(func.count()).select_from(students).where(~students.c.deleted)
            ).scalar_one()
            summary.attendance_records = connection.execute(
                select(func.count()).select_from(attendance)
            ).scalar_one()

    def _reconcile_due(self, stream: str) -> bool:
        with self.engine.connect() as connection:
            return reconcile_due(connection, stream, self.reconcile_every)

    def _school_without_calendar(self) -> bool:
        with self.engine.connect() as connection:
            known = select(calendar_days.c.school_id).distinct()
            found = connection.execute(
                select(enrollments.c.school_id).where(enrollments.c.school_id.not_in(known)).limit(1)
            ).first()
        return found is not None

    def _has_quarantine(self) -> bool:
        with self.engine.connect() as connection:
            found = connection.execute(
                select(quarantine.c.source_key).where(quarantine.c.stream == ATTENDANCE_STREAM).limit(1)
            ).first()
        return found is not None

    def _record_mappings_in_force(self, cycle_id: int) -> bool:
        """Record every mapping file and the policy this cycle runs with; True when the code map is new."""
        sources = {source.kind: source for source in self.plugin.mapping_sources}
        new_code_map = False
        for kind, source in sources.items():
            new = self._record_mapping_file(kind, source.digest, cycle_id, path=source.path)
            new_code_map = new_code_map or (new and kind == "code_map")
        self._record_mapping_file(
            "policy",
            self.policy.digest,
            cycle_id,
            path=" + ".join(self.policy.sources),
            version=self.policy.version,
        )
        with self.engine.begin() as connection:
            connection.execute(
                update(cycles)
                .where(cycles.c.id == cycle_id)
                .values(
                    code_map_digest=sources["code_map"].digest if "code_map" in sources else None,
                    field_map_digest=sources["field_map"].digest if "field_map" in sources else None,
                    policy_digest=self.policy.digest,
                )
            )
        return new_code_map

    def _record_mapping_file(
        self, kind: str, digest: str, cycle_id: int, *, path: str | None = None, version: str | None = None
    ) -> bool:
        """Remember each mapping version the daemon used (and from which cycle); True when new."""
        with self.engine.begin() as connection:
            known = connection.execute(
                select(mapping_files.c.digest).where(mapping_files.c.digest == digest)
            ).first()
            if known is not None:
                return False
            upsert(
                connection,
                mapping_files,
                [
                    {
                        "digest": digest,
                        "kind": kind,
                        "source": self.plugin.name,
                        "path": path,
                        "version": version,
                        "first_cycle": cycle_id,
                        "first_seen": utcnow(),
                    }
                ],
                ["digest"],
            )
        return True

    def _start_cycle(self) -> int:
        with self.engine.begin() as connection:
            cycle_id: int = connection.execute(
                cycles.insert().values(started_at=utcnow(), status="running").returning(cycles.c.id)
            ).scalar_one()
            return cycle_id

    def _finish_cycle(self, summary: CycleSummary, status: str, error: str | None) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(cycles)
                .where(cycles.c.id == summary.cycle_id)
                .values(
                    finished_at=utcnow(),
                    status=status,
                    # a dry run's per-student plan is printed, never kept: least data at rest
                    summary={k: v for k, v in summary.as_json().items() if k != "student_plans"},
                    error_class=error,
                )
            )
        self.observer.cycle_finished(summary, status, error)
