"""Turn the store's facts into cases and desired writes, one student at a time.

Students, their attendance and their case state are read as three streams ordered by student id
and merged, so memory holds one student at a time whatever the district's size. The sync cycle
evaluates in batches (``Evaluator.evaluate``: the students due, a batch at a time), and records for
each student what it adds to the cycle's summary and the first day its case can change with no new
data (``evaluations.wake_on``), so the next cycle evaluates only the students something happened to.

Attendance is stored raw (the SIS's own codes) and normalised here with the code map in force, so a
map change applies to the whole stored year at once. A student with records the map cannot count
is held: nothing is withdrawn from the case until they can be.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, delete, func, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from truancy.daemon.casework import Gate
from truancy.daemon.officer import OfficerWork
from truancy.daemon.progress import Reporter
from truancy.daemon.schema import (
    attendance,
    calendar_days,
    cases,
    cases_pending,
    enrollments,
    evaluations,
    evaluations_pending,
    students,
)
from truancy.daemon.store import upsert
from truancy.mappings.basis import Basis, Looking, change_cause, marks_digest
from truancy.mappings.case import (
    CaseState,
    advance_case,
    case_from_dict,
    case_to_dict,
    closed_for_new_year,
    conditions_with,
    desired_writes,
    end_enrollment,
    record_overrides,
    reopen_on_reenrollment,
    withdrawn,
)
from truancy.mappings.codemap import CodeLookup, Quarantined, RawMark, normalise
from truancy.mappings.determination import Determination
from truancy.mappings.engine import changes_as_days_pass, evaluate
from truancy.mappings.facts import (
    AttendanceEvent,
    Category,
    SchoolCalendar,
    StudentAttendance,
    canonical_grade,
)
from truancy.mappings.hold import Hold, hold_for
from truancy.mappings.policy import Policy
from truancy.mappings.writes import DesiredWrite

CASE_BATCH = 500
CASE_KEY = ["student_id", "school_year"]  # a case per student and school year


@dataclass(frozen=True, slots=True)
class Target:
    """A write the SIS should hold, with the SIS's key for the student it belongs to."""

    write: DesiredWrite
    sis_ref: str


@dataclass
class Evaluation:
    as_of: date
    school_year: str
    desired: dict[str, Target] = field(default_factory=dict)
    designations: Counter[str] = field(default_factory=Counter)
    open_cases: int = 0
    missing_sis_ref: int = 0
    designation_changes: dict[str, DesignationChange] = field(default_factory=dict)
    """Students whose held designations changed this evaluation, by student id."""
    quarantined: dict[str, str] = field(default_factory=dict)
    """Stored rows the code map cannot count (source key → reason naming the code), any date."""
    unmapped: Counter[str] = field(default_factory=Counter)
    """Rows per code the map does not list."""
    held: int = 0
    """Students whose case is held this evaluation (quarantined records in its window)."""
    held_codes: Counter[str] = field(default_factory=Counter)
    """The codes holding cases, with the number of held cases each holds."""
    year_closed: set[str] = field(default_factory=set)
    """SIS keys of students whose open case closed this evaluation because a new school year began:
    their rows leave the SIS by design, which the retraction guard does not count."""
    amounts: dict[tuple[str, str], tuple[int, float]] = field(default_factory=dict)
    """(student id, designation) → (days in its evidence, its count): what a letter states, e.g.
    the days missed and the percent of enrolled days of a chronic-absence notice."""
    students: list[str] | None = None
    """The students this evaluation covered (None: every student in the store)."""
    evaluated: int = 0
    """The enrolled students among them, each evaluated."""
    source_keys: set[str] = field(default_factory=set)
    """The stored attendance rows of the students evaluated (the held rows are among them)."""


@dataclass(frozen=True, slots=True)
class _Advanced:
    """One student's evaluation: the case, the engine's determination, and what it means for the
    summary and the next cycles."""

    case: CaseState | None
    determination: Determination | None = None
    no_sis_ref: bool = False
    withheld: bool = False
    """The casework gate held back an escalation: its preconditions may be met by a date."""


@dataclass(frozen=True, slots=True)
class DesignationChange:
    """What one student held before this evaluation and holds after it (designation ids, sorted)."""

    sis_ref: str | None
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One stored attendance row: the raw mark, or (written before raw codes were kept) the event."""

    source_key: str
    mark: RawMark | None
    legacy: AttendanceEvent | None


def school_year_of(day: date) -> str:
    """US school years run July to June: 2026-03-02 is in "2025-26"."""
    start = day.year if day.month >= 7 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def load_calendars(engine: Engine) -> dict[str, SchoolCalendar]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(calendar_days.c.school_id, calendar_days.c.day).order_by(
                calendar_days.c.school_id, calendar_days.c.day
            )
        ).all()
        return {
            school: SchoolCalendar(school, tuple(day for _, day in days))
            for school, days in groupby(rows, key=itemgetter(0))
        }


def evaluation_date(calendars: dict[str, SchoolCalendar], today: date) -> date:
    """Today, or the last instructional day when the SIS's school year is already over."""
    last_days = [c.days[-1] for c in calendars.values() if c.days]
    return min(today, max(last_days)) if last_days else today


class Evaluator:
    def __init__(
        self,
        engine: Engine,
        policy: Policy,
        cycle_id: int,
        reporter: Reporter,
        *,
        lookup: CodeLookup,
        officer: OfficerWork | None = None,
        gate: Gate | None = None,
        persist: bool = True,
        stage: bool = False,
    ) -> None:
        """``lookup`` is the code map the stored raw codes are counted with (another map previews a
        change); ``officer`` is what officers recorded in the SIS this cycle, applied to each case;
        ``gate`` withholds escalation tasks whose casework preconditions are not on record and adds
        plan review tasks.

        ``persist=False`` plans without saving case state (a dry run or a preview must not move a
        case's dates); ``stage=True`` saves it aside until ``commit_cases`` (the retraction guard
        decides whether this cycle's changes stand).
        """
        if policy.case is None:
            raise ValueError(f"policy pack {policy.id} has no case section")
        self.engine = engine
        self.policy = policy
        self.case_policy = policy.case
        self.cycle_id = cycle_id
        self.reporter = reporter
        self.officer = officer
        self.gate = gate
        self.persist = persist
        self.stage = stage
        self.lookup = lookup

    def run(self, today: date) -> Evaluation:
        """Every student in the store, in one evaluation."""
        self.prepare(today)
        return self.evaluate(None)

    def prepare(self, today: date) -> Evaluation:
        """Read the calendars and fix the evaluation date; an empty evaluation of that date."""
        self.today = today
        self.calendars = load_calendars(self.engine)
        as_of = evaluation_date(self.calendars, today)
        return Evaluation(as_of=as_of, school_year=school_year_of(as_of))

    def evaluate(self, only: list[str] | None) -> Evaluation:
        """The students ``only`` names (None: every student) evaluated as of the prepared date."""
        calendars = self.calendars
        as_of = evaluation_date(calendars, self.today)
        result = Evaluation(as_of=as_of, school_year=school_year_of(as_of), students=only)
        windows = enrollment_windows(self.engine, only)
        if only is None:
            with self.engine.connect() as connection:
                total = connection.execute(
                    select(func.count()).select_from(students).where(~students.c.deleted)
                ).scalar_one()
        else:
            total = len(only)
        phase = self.reporter.phase("Evaluating policy", total=total)
        pending: list[dict[str, Any]] = []
        tallies: list[dict[str, Any]] = []
        for student_id, sis_ref, grade, rows, previous in self._merged_streams(result.school_year, only):
            phase.advance()
            result.evaluated += 1
            result.source_keys.update(row.source_key for row in rows)
            student_windows = windows.get(student_id, [])
            days = enrolled_school_days(student_windows, calendars, as_of)
            calendar = calendars.get(_current_school(student_windows) or "", _empty_calendar())
            exit_on = _enrollment_exit(student_windows, calendar, as_of)
            events, hold = self._count(rows, result)
            marks = [r.mark for r in rows if r.mark is not None]
            looking = self._looking(marks, days, student_windows, previous, result)
            advanced = self._advance(
                student_id,
                sis_ref,
                days,
                events,
                previous,
                calendar,
                result,
                hold=hold,
                looking=looking,
                grade=canonical_grade(grade),
                exit_on=exit_on,
                reentry=max((begin for _, begin, _ in student_windows), default=None),
            )
            wake_on = self._wake_on(advanced, rows, student_windows, calendar, sis_ref, as_of)
            case = advanced.case
            if case is None:
                tallies.append(self._tally(student_id, result, None, wake_on))
                continue
            case = _with_basis(case, previous, looking.now)
            held_codes: tuple[str, ...] | None = None
            if hold is not None and case.status == "open":
                result.held += 1
                held_codes = (*hold.unmapped, *hold.without_minutes)
                result.held_codes.update(held_codes)
            tallies.append(self._tally(student_id, result, advanced, wake_on, case, held_codes))
            _note_change(result, student_id, sis_ref, previous, case)
            if (
                previous is not None
                and previous.status == "open"
                and (previous.school_year < result.school_year or withdrawn(case))
            ):
                result.year_closed.add(sis_ref or "")
            if case != previous and self.persist:
                pending.append(self._case_row(case))
                if (
                    previous is not None
                    and previous.status == "open"
                    and case.school_year > previous.school_year
                ):
                    # the new year's case is a row of its own; last year's stays, closed, as history
                    pending.append(
                        self._case_row(closed_for_new_year(previous, result.as_of, self.case_policy))
                    )
            if len(pending) >= CASE_BATCH:
                self._save_cases(pending)
            if len(tallies) >= CASE_BATCH:
                self._save_tallies(tallies)
        self._save_cases(pending)
        self._save_tallies(tallies)
        return result

    def _wake_on(
        self,
        advanced: _Advanced,
        rows: list[StoredRow],
        windows: list[tuple[str, date, date | None]],
        calendar: SchoolCalendar,
        sis_ref: str | None,
        as_of: date,
    ) -> date | None:
        """The first day this student's case can change with no new data (None: only new data).

        A share of days at its threshold moves each school day, and a withheld escalation may be
        allowed by a date: the next school day. A record dated ahead counts on its day, an
        enrollment ending ahead closes the case the day after, an officer's action dated ahead
        is applied on its date.
        """
        found: list[date] = []
        determination = advanced.determination
        if advanced.withheld or (
            determination is not None and changes_as_days_pass(self.policy, determination)
        ):
            found.append(_next_school_day(calendar, as_of))
        ahead = [day for day in map(_row_date, rows) if day is not None and day > as_of]
        if ahead:
            found.append(min(ahead))
        ends = [end for _, _, end in windows]
        if ends and None not in ends:
            last = max(end for end in ends if end is not None)
            if last >= as_of:
                found.append(last + timedelta(days=1))
        future = self.officer.future.get(sis_ref or "") if self.officer is not None else None
        if future is not None:
            found.append(future)
        return min(found) if found else None

    def _tally(
        self,
        student_id: str,
        result: Evaluation,
        advanced: _Advanced | None,
        wake_on: date | None,
        case: CaseState | None = None,
        held_codes: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        determination = advanced.determination if advanced is not None else None
        counted = case is not None and determination is not None and not withdrawn(case)
        return {
            "student_id": student_id,
            "school_year": result.school_year,
            "designations": ",".join(d.id for d in determination.designations)
            if counted and determination is not None
            else "",
            "open_case": case is not None and case.status == "open",
            "held_codes": ",".join(held_codes) if held_codes is not None else None,
            "no_sis_ref": advanced is not None and advanced.no_sis_ref,
            "wake_on": wake_on,
            "cycle_id": self.cycle_id,
        }

    def _save_tallies(self, pending: list[dict[str, Any]]) -> None:
        if pending and self.persist:
            with self.engine.begin() as connection:
                upsert(
                    connection, evaluations_pending if self.stage else evaluations, pending, ["student_id"]
                )
        pending.clear()

    def _advance(
        self,
        student_id: str,
        sis_ref: str | None,
        days: tuple[date, ...],
        events: list[AttendanceEvent],
        previous: CaseState | None,
        calendar: SchoolCalendar,
        result: Evaluation,
        *,
        hold: Hold | None,
        looking: Looking,
        grade: str | None = None,
        exit_on: date | None = None,
        reentry: date | None = None,
    ) -> _Advanced:
        """``exit_on``: the day the student's enrollment ended, with none after it; the case is then
        evaluated as of that day and closed. ``reentry``: the start of the latest enrollment, which
        reopens a case a withdrawal closed."""
        if not events and previous is None:
            return _Advanced(None)
        if previous is not None and exit_on is None and reentry is not None:
            previous = reopen_on_reenrollment(previous, reentry, self.case_policy)
        as_of = exit_on or result.as_of
        counted = tuple(e for e in events if e.date <= as_of)
        facts = StudentAttendance(student_id, days, counted, grade)
        actions = self.officer.actions_for(sis_ref) if self.officer is not None else []
        # This cycle's officer work counts this cycle, and through today: a conference held after
        # the last school day still makes the habitual truant (dated the day it was held).
        conditions = conditions_with(previous, actions, self.case_policy)
        determination = evaluate(
            self.policy, facts, as_of, conditions=conditions, conditions_through=exit_on or self.today
        )
        case = advance_case(
            previous,
            determination,
            case_policy=self.case_policy,
            calendar=calendar,
            school_year=result.school_year,
            officer_actions=actions,
            hold=hold,
            cause=change_cause(
                previous.basis if previous is not None else None,
                replace(looking, recoded=any(a.kind == "absence_excused" for a in actions)),
            ),
        )
        if case is None:
            return _Advanced(None, determination)
        if exit_on is not None:
            case = end_enrollment(case, exit_on, self.case_policy)
        if not withdrawn(case):
            result.designations.update(d.id for d in determination.designations)
            for d in determination.designations:
                result.amounts[(student_id, d.id)] = (len({e.date for e in d.evidence}), d.count)
        result.open_cases += case.status == "open"
        writes = desired_writes(
            case, determination, case_policy=self.case_policy, calendar=calendar, hold=hold
        )
        withheld = False
        if self.gate is not None:
            withheld_before = getattr(self.gate, "withheld", 0)
            writes = self.gate(case, sis_ref, writes, calendar)
            withheld = getattr(self.gate, "withheld", 0) > withheld_before
        if self.officer is not None:
            case = record_overrides(case, self.officer.overrides(writes), on=result.as_of)
        if writes and sis_ref is None:
            result.missing_sis_ref += 1
            return _Advanced(case, determination, no_sis_ref=True, withheld=withheld)
        for write in writes:
            result.desired[write.sync_key] = Target(write, sis_ref or "")
        return _Advanced(case, determination, withheld=withheld)

    def _case_row(self, case: CaseState) -> dict[str, Any]:
        return {
            "student_id": case.student_id,
            "school_year": case.school_year,
            "status": case.status,
            "tier": case.tier,
            "state": case_to_dict(case),
            "updated_cycle": self.cycle_id,
        }

    def _save_cases(self, pending: list[dict[str, Any]]) -> None:
        if pending:
            with self.engine.begin() as connection:
                upsert(connection, cases_pending if self.stage else cases, pending, CASE_KEY)
            pending.clear()

    def _count(self, rows: list[StoredRow], result: Evaluation) -> tuple[list[AttendanceEvent], Hold | None]:
        """The student's events under the map in force, and the hold its uncountable records put
        on the case (those dated in this school year up to the evaluation date)."""
        events: list[AttendanceEvent] = []
        holding: list[Quarantined] = []
        for row in rows:
            if row.mark is None:
                if row.legacy is not None:
                    events.append(row.legacy)
                continue
            counted = normalise(row.mark, self.lookup)
            if isinstance(counted, AttendanceEvent):
                events.append(counted)
            elif isinstance(counted, Quarantined):
                result.quarantined[row.source_key] = counted.reason
                if counted.unmapped:
                    result.unmapped[counted.code] += 1
                if row.mark.date <= result.as_of and school_year_of(row.mark.date) == result.school_year:
                    holding.append(counted)
        return events, hold_for(holding)

    def _looking(
        self,
        marks: list[RawMark],
        days: tuple[date, ...],
        windows: list[tuple[str, date, date | None]],
        previous: CaseState | None,
        result: Evaluation,
    ) -> Looking:
        """The student's records now, and cut at the date the case last changed, to name a cause."""
        as_of = result.as_of
        in_year = [m for m in marks if m.date <= as_of and school_year_of(m.date) == result.school_year]
        codes: dict[str, str] = {}
        for mark in in_year:
            counted = normalise(mark, self.lookup)
            codes[mark.code] = (
                counted.category.value
                if isinstance(counted, AttendanceEvent)
                else "quarantined"
                if isinstance(counted, Quarantined)
                else Category.PRESENT.value
            )
        enrolled = any(begin <= as_of and (end is None or end >= as_of) for _, begin, end in windows)
        now = Basis(as_of, self.policy.digest, codes, marks_digest(marks, as_of), len(days), enrolled)
        then = previous.basis if previous is not None else None
        if then is None:
            return Looking(now, now.marks_digest, now.school_days, recoded=False)
        return Looking(
            now, marks_digest(marks, then.as_of), sum(d <= then.as_of for d in days), recoded=False
        )

    def _merged_streams(
        self, school_year: str, only: list[str] | None = None
    ) -> Iterator[tuple[str, str | None, str | None, list[StoredRow], CaseState | None]]:
        """(student, SIS key, grade, stored rows, previous case) for every active student (or those of
        ``only``), in id order.

        The previous case is the student's latest up to ``school_year``: earlier years' cases are
        history, and a later year's (a store evaluated ahead, then pinned back) is not this year's.

        The cursors are closed explicitly: a half-read SQLite cursor kept alive by a traceback would
        otherwise hold its read lock past the connection's return to the pool and lock out the next cycle.
        """
        by_id = id_order(self.engine)
        with (
            self.engine.connect() as s_conn,
            self.engine.connect() as a_conn,
            self.engine.connect() as c_conn,
            ExitStack() as cursors,
        ):
            student_rows = s_conn.execution_options(yield_per=2000).execute(
                select(students.c.student_id, students.c.sis_ref, students.c.grade)
                .where(~students.c.deleted, *_among(students.c.student_id, only))
                .order_by(by_id(students.c.student_id))
            )
            event_rows = _PeekableRows(
                a_conn.execution_options(yield_per=5000).execute(
                    select(
                        attendance.c.student_id,
                        attendance.c.day,
                        attendance.c.category,
                        attendance.c.minutes_absent,
                        attendance.c.code,
                        attendance.c.school_id,
                        attendance.c.source_key,
                    )
                    .where(*_among(attendance.c.student_id, only))
                    .order_by(by_id(attendance.c.student_id), attendance.c.day, attendance.c.source_key)
                )
            )
            case_rows = _PeekableRows(
                c_conn.execution_options(yield_per=2000).execute(
                    select(cases.c.student_id, cases.c.school_year, cases.c.state)
                    .where(*_among(cases.c.student_id, only))
                    .order_by(by_id(cases.c.student_id), cases.c.school_year)
                )
            )
            cursors.callback(student_rows.close)
            cursors.callback(event_rows.close)
            cursors.callback(case_rows.close)
            for student_id, sis_ref, grade in student_rows:
                events = [_stored_row(*row) for row in event_rows.take_while(student_id)]
                years = [state for _, year, state in case_rows.take_while(student_id) if year <= school_year]
                previous = case_from_dict(years[-1]) if years else None
                yield student_id, sis_ref, grade, events, previous


def _stored_row(
    student_id: str,
    day: date,
    category: str | None,
    minutes: int | None,
    code: str | None,
    school: str | None,
    source_key: str,
) -> StoredRow:
    if code is not None:
        return StoredRow(source_key, RawMark(student_id, day, code, minutes, school), None)
    # A row stored before raw codes were kept (no code): it counts as it was read until re-read.
    if category is None or category == Category.PRESENT.value:
        return StoredRow(source_key, None, None)
    return StoredRow(
        source_key, None, AttendanceEvent(student_id, day, Category(category), minutes, None, school)
    )


def _row_date(row: StoredRow) -> date | None:
    if row.mark is not None:
        return row.mark.date
    return row.legacy.date if row.legacy is not None else None


def _with_basis(case: CaseState, previous: CaseState | None, now: Basis) -> CaseState:
    """The case with the basis it was decided on: kept from before while nothing else changed (so
    an unchanged case is not rewritten each day), else today's."""
    unchanged = previous is not None and replace(case, basis=None) == replace(previous, basis=None)
    if previous is not None and previous.basis is not None and unchanged:
        return replace(case, basis=previous.basis)
    return replace(case, basis=now)


def commit_cases(engine: Engine) -> int:
    """Make a staged evaluation's case changes the cases (one transaction); the number committed."""
    columns = [c.name for c in cases_pending.columns]
    with engine.begin() as connection:
        staged = connection.execute(select(func.count()).select_from(cases_pending)).scalar_one()
        if staged:
            insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
            # ``WHERE true``: SQLite reads ON CONFLICT after a bare SELECT as a join constraint.
            statement = insert(cases).from_select(columns, select(*cases_pending.c).where(true()))
            updates = {name: statement.excluded[name] for name in columns if name not in CASE_KEY}
            connection.execute(statement.on_conflict_do_update(index_elements=CASE_KEY, set_=updates))
            connection.execute(delete(cases_pending))
        _commit_tallies(connection)
    return int(staged)


def _commit_tallies(connection: Connection) -> None:
    columns = [c.name for c in evaluations_pending.columns]
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = insert(evaluations).from_select(columns, select(*evaluations_pending.c).where(true()))
    updates = {name: statement.excluded[name] for name in columns if name != "student_id"}
    connection.execute(statement.on_conflict_do_update(index_elements=["student_id"], set_=updates))
    connection.execute(delete(evaluations_pending))


def discard_cases(engine: Engine) -> None:
    """Drop a staged evaluation (the guard held its writes, or the cycle died): cases stay as they were."""
    with engine.begin() as connection:
        connection.execute(delete(cases_pending))
        connection.execute(delete(evaluations_pending))


def _note_change(
    result: Evaluation, student_id: str, sis_ref: str | None, previous: CaseState | None, case: CaseState
) -> None:
    before = _in_force(previous) if previous is not None else ()
    after = _in_force(case)
    if before != after:
        result.designation_changes[student_id] = DesignationChange(sis_ref, before, after)


def _in_force(case: CaseState) -> tuple[str, ...]:
    """Designations the case holds now (a retracted one stays in the record, no longer in force;
    a case a withdrawal closed holds none)."""
    if withdrawn(case):
        return ()
    return tuple(sorted(d for d, held in case.designations.items() if held.active))


def id_order(engine: Engine) -> Callable[[ColumnElement[str]], ColumnElement[str]]:
    """Order ids by code point in every database, as Python compares them in the merge."""
    if engine.dialect.name == "postgresql":
        return lambda column: column.collate("C")
    return lambda column: column


class _PeekableRows:
    """Rows ordered by student id, consumed one student at a time."""

    def __init__(self, rows: Any) -> None:
        self._result = rows
        self._rows = iter(rows)
        self._head: Any = next(self._rows, None)

    def close(self) -> None:
        self._result.close()

    def take_while(self, student_id: str) -> list[Any]:
        while self._head is not None and self._head[0] < student_id:
            self._head = next(self._rows, None)
        taken = []
        while self._head is not None and self._head[0] == student_id:
            taken.append(self._head)
            self._head = next(self._rows, None)
        return taken


Windows = dict[str, list[tuple[str, date, date | None]]]
"""Each student's enrollments as (school, first day, last day or None while enrolled)."""


def enrollment_windows(engine: Engine, only: list[str] | None = None) -> Windows:
    """Every student's enrollments (or those of the students ``only`` names)."""
    windows: Windows = defaultdict(list)
    with engine.connect() as connection:
        for student_id, school_id, begin, end in connection.execute(
            select(
                enrollments.c.student_id,
                enrollments.c.school_id,
                enrollments.c.begin_date,
                enrollments.c.end_date,
            ).where(*_among(enrollments.c.student_id, only))
        ).all():
            windows[student_id].append((school_id, begin, end))
    return windows


def _among(column: ColumnElement[str], only: list[str] | None) -> tuple[ColumnElement[bool], ...]:
    """No condition for every student; else the column among ``only`` (a batch: one IN list)."""
    return () if only is None else (column.in_(only),)


def enrolled_school_days(
    windows: list[tuple[str, date, date | None]], calendars: dict[str, SchoolCalendar], as_of: date
) -> tuple[date, ...]:
    """The instructional days the student was enrolled on, up to ``as_of``, across schools."""
    days: set[date] = set()
    for school_id, begin, end in windows:
        calendar = calendars.get(school_id)
        if calendar is None:
            continue
        last = min(end, as_of) if end is not None else as_of
        days.update(calendar.days[bisect_left(calendar.days, begin) : bisect_right(calendar.days, last)])
    return tuple(sorted(days))


def _enrollment_exit(
    windows: list[tuple[str, date, date | None]], calendar: SchoolCalendar, as_of: date
) -> date | None:
    """The day the student left (withdrawal or transfer out): every enrollment has ended before
    ``as_of`` and before the school's last instructional day. None while enrolled, at the year's
    end, or when the school's calendar is unknown (never close a case on a guess)."""
    ends = [end for _, _, end in windows]
    if not ends or None in ends or not calendar.days:
        return None
    last = max(end for end in ends if end is not None)
    return last if last < as_of and last < calendar.days[-1] else None


def _current_school(windows: list[tuple[str, date, date | None]]) -> str | None:
    if not windows:
        return None
    return max(windows, key=lambda w: w[1])[0]


def _empty_calendar() -> SchoolCalendar:
    return SchoolCalendar("", ())


def _next_school_day(calendar: SchoolCalendar, after: date) -> date:
    """The school's next instructional day after ``after`` (the next day when the calendar is unknown
    or over: never later than a day could matter)."""
    index = bisect_right(calendar.days, after)
    return calendar.days[index] if index < len(calendar.days) else after + timedelta(days=1)
