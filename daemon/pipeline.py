"""One sync cycle: pull, evaluate, diff, write back; recorded in the store as it goes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Protocol

from sqlalchemy import Engine, func, select, update

from truancy.connector.errors import ConnectorError, FailureType, failure_of
from truancy.daemon.caseload import CaseloadSettings
from truancy.daemon.caseload_writes import with_caseloads
from truancy.daemon.casework import casework_gate
from truancy.daemon.casework_invitations import InvitationCycle
from truancy.daemon.casework_progress import PlanProgressCycle
from truancy.daemon.dry_run import plan_by_student
from truancy.daemon.evaluate import Evaluation, Evaluator, Target, commit_cases, discard_cases
from truancy.daemon.family_notices import family_cycle
from truancy.daemon.guard import RetractionGuard
from truancy.daemon.held import record_held_rows
from truancy.daemon.holdout import OutcomesSettings, holdable_tasks, without_holdout
from truancy.daemon.ingest import ATTENDANCE_STREAM, ROSTER_STREAM, Ingest, reconcile_due
from truancy.daemon.instance import adopted, foreign_writers, instance_id, refuse_foreign, stamped
from truancy.daemon.notices import NoticeCycle
from truancy.daemon.officer import OfficerWork
from truancy.daemon.outbox import Outbox, WriteCounts, plan_writes
from truancy.daemon.packets import PacketCycle
from truancy.daemon.progress import Reporter, SilentReporter
from truancy.daemon.schema import attendance, cycles, mapping_files, quarantine, students
from truancy.daemon.store import upsert, utcnow
from truancy.daemon.write_pool import DEFAULT_WRITE_CONCURRENCY
from truancy.mappings.casework import CaseworkPack, casework_pack
from truancy.mappings.policy import Policy
from truancy.plugins.base import SisPlugin

log = logging.getLogger("truancy.daemon.pipeline")


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


CALENDAR_STREAM = "calendars"
READBACK_STREAM = "readback"
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
        ingest.calendars()
        self._enter(ATTENDANCE_STREAM)
        # Newly rostered students can unlock rows quarantined for an unknown student: re-read them all.
        # (A changed code map needs no re-read: the store keeps every row's own code.)
        reread = ingest.counts.records["students"] > 0 and self._has_quarantine()
        ingest.attendance(full=full or reread or self._reconcile_due(ATTENDANCE_STREAM))
        summary.quarantined = ingest.counts.quarantined
        summary.pulled = dict(ingest.counts.records)

        # One read of the SIS's truancy rows feeds both the officer's work into the cases and the diff.
        self._enter(READBACK_STREAM)
        phase = self.reporter.phase("Reading back the SIS")
        remote = list(self.plugin.read_back())
        phase.advance(len(remote))
        with self.engine.begin() as connection:  # a second store writing this district stops us here
            own = instance_id(connection)
            refuse_foreign(foreign_writers(remote, self.plugin, own, adopted(connection)))
        officer = OfficerWork.from_rows(remote, self.plugin, today=today)
        gate = casework_gate(self.plugin, self.casework, today, officer)
        if self.notices is not None and not self.dry_run:
            self.notices.before_evaluation(officer, today)
        summary.officer_actions = officer.action_count
        summary.errors.extend(officer.errors())

        self._enter(EVALUATE_STREAM)
        evaluator = Evaluator(
            self.engine,
            self.policy,
            summary.cycle_id,
            self.reporter,
            lookup=self.plugin.categorize,
            officer=officer,
            gate=gate,
            persist=not self.dry_run,
            stage=True,
        )
        if not self.dry_run:  # a dry run may run beside the real cycle: it leaves the stage alone
            discard_cases(self.engine)  # what an interrupted cycle staged and never committed
        evaluation = evaluator.run(today)
        evaluation.desired = without_holdout(
            evaluation.desired,
            self.outcomes,
            self.policy.case,
            district=self.district,
            school_year=evaluation.school_year,
        )
        self._summarise(summary, evaluation)
        if not self.dry_run:
            with self.engine.begin() as connection:
                record_held_rows(connection, evaluation.quarantined, evaluation.unmapped, summary.cycle_id)

        self._enter(WRITEBACK_STREAM)
        outbox = Outbox(
            self.engine, self.plugin, summary.cycle_id, self.reporter, concurrency=self.write_concurrency
        )
        outbox.supersede_stale()
        desired = self._assigned(evaluation.desired)
        if self.notices is not None:
            if not self.dry_run:
                self.notices.schedule(evaluation, today)
                summary.errors.extend(self.notices.errors)
            desired = {**desired, **self._assigned(self.notices.writes())}
        family = family_cycle(self.notices) if self.notices is not None else None
        cased = {target.write.student_id for target in evaluation.desired.values()}
        if family is not None:  # letters to every family once a school year (TX § 25.095(a))
            if not self.dry_run:
                family.schedule(today)
                summary.errors.extend(family.errors)
            desired = {**desired, **self._assigned(family.writes(cased))}
        if self.invitations is not None:
            desired = {**desired, **self._assigned(self.invitations.writes())}
        plan = plan_writes(stamped(desired, own), remote, self.plugin)
        summary.planned = {op: dict(kinds) for op, kinds in plan.counts_by_kind().items()}
        held_back = self.guard.check(plan, remote, self.plugin, expected=evaluation.year_closed)
        if held_back is not None:
            summary.blocked = held_back.as_json()
            log.warning("retraction guard held the cycle's writes", extra={"retractions": held_back.total})
        if self.dry_run:
            summary.writes = WriteCounts(unchanged=plan.unchanged)
            summary.student_plans = [p.as_json() for p in plan_by_student(evaluation, plan)]
            return
        if held_back is not None:
            discard_cases(self.engine)
            summary.writes = WriteCounts(unchanged=plan.unchanged)
            return
        commit_cases(self.engine)
        if self.notices is not None:
            if self.notices.deliver(today):
                # the letters just sent are logged in the SIS in this same cycle
                desired = {**desired, **self._assigned(self.notices.writes())}
                plan = plan_writes(stamped(desired, own), remote, self.plugin)
            summary.errors.extend(self.notices.delivery_errors)
        if family is not None and family.deliver(today):
            desired = {**desired, **self._assigned(family.writes(cased))}
            plan = plan_writes(stamped(desired, own), remote, self.plugin)
        if self.invitations is not None:
            if self.invitations.run(today):  # a translation task for an invitation just sent
                desired = {**desired, **self._assigned(self.invitations.writes())}
                plan = plan_writes(stamped(desired, own), remote, self.plugin)
            summary.errors.extend(self.invitations.errors)
        summary.writes = outbox.apply(plan)
        if self.progress is not None:
            self.progress.run(today)
        if self.packets is not None:  # after this cycle's case changes, so the packet shows them
            self.packets.run(today)
        summary.errors.extend(
            f"{failure}: {count} write(s) refused ({reason})"
            for (failure, reason), count in outbox.errors.items()
        )

    def _summarise(self, summary: CycleSummary, evaluation: Evaluation) -> None:
        summary.as_of = evaluation.as_of
        summary.cases = dict(evaluation.designations)
        summary.open_cases = evaluation.open_cases
        summary.quarantined += len(evaluation.quarantined)
        summary.unknown_codes = dict(evaluation.unmapped)
        summary.held_cases = evaluation.held
        summary.held_codes = dict(evaluation.held_codes)
        if evaluation.missing_sis_ref:
            summary.errors.append(
                f"data: {evaluation.missing_sis_ref} student(s) with a case have no SIS key for write-back"
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
