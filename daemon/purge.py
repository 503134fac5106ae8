"""``truancy purge``: destroy what the district's retention periods say is past keeping.

Each kind of record (closed cases, the outbox journal; notices, packets and guardian contacts once
the code that stores them registers them) has its own period in ``[retention]``. A purge runs in one
transaction: every kind's rows go, the counts-only aggregates of the purged cases are added to
``case_outcomes`` (for the outcomes report), and one ``purge_log`` row per kind records how many
records and files were destroyed and the span of their dates, never whose they were. Files named by
purged rows are unlinked after the transaction commits.

What is still needed is never purged: nothing of a student with an open case, nothing a registered
hold names (a pending referral, staged case changes), and no case of the school year the daemon
still evaluates (re-evaluating its student would open it again).

A new kind plugs in with :func:`register_kind` (a :class:`TableKind` covers "rows of one table with a
date, a student and maybe a file"); a new hold with :func:`register_hold`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console
from rich.table import Table as RichTable
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    MetaData,
    Table,
    delete,
    func,
    insert,
    inspect,
    select,
    tuple_,
    update,
)

from truancy.daemon.access_log import os_user
from truancy.daemon.audit_schema import case_outcomes, purge_log
from truancy.daemon.evaluate import school_year_of
from truancy.daemon.lock import DistrictLock
from truancy.daemon.plan_starts import plan_starts
from truancy.daemon.runtime import store_engine
from truancy.daemon.schema import calendar_days, cases, outbox, students
from truancy.daemon.settings import RetentionSettings, Settings
from truancy.daemon.store import upgrade, utcnow

BATCH = 500
SETTINGS_KINDS = tuple(
    name.removesuffix("_days") for name in RetentionSettings.model_fields if name.endswith("_days")
)
"""Every kind a district can set a period for, whether or not the store holds it yet."""


@dataclass(frozen=True)
class Scope:
    """What one kind's purge may touch: rows dated before ``cutoff`` of students not ``held``."""

    connection: Connection
    cutoff: date
    held: frozenset[str]
    current_year: str
    dry_run: bool
    config_dir: Path

    @property
    def cutoff_instant(self) -> datetime:
        return datetime.combine(self.cutoff, time.min, tzinfo=UTC)


@dataclass
class Destroyed:
    """What a kind destroyed (or, in a dry run, would destroy): counts and dates only."""

    records: int = 0
    files: list[Path] = field(default_factory=list)
    oldest: date | None = None
    newest: date | None = None

    def add(self, on: date, count: int = 1) -> None:
        self.records += count
        self.oldest = on if self.oldest is None else min(self.oldest, on)
        self.newest = on if self.newest is None else max(self.newest, on)


class RetentionKind(Protocol):
    @property
    def name(self) -> str:
        """The kind's name in ``[retention]``: ``<name>_days`` sets its period."""
        ...

    def purge(self, scope: Scope) -> Destroyed: ...


Hold = Callable[[Connection], Iterable[str]]
"""Student ids whose records must stay, whatever their age."""

_KINDS: dict[str, RetentionKind] = {}
_HOLDS: dict[str, Hold] = {}


def register_kind(kind: RetentionKind) -> None:
    """Make ``kind`` purgeable; its period is ``retention.<name>_days`` in the settings."""
    _KINDS[kind.name] = kind


def registered_kinds() -> dict[str, RetentionKind]:
    """The kinds a purge covers, by name (a copy: to extend it, call :func:`register_kind`)."""
    return dict(_KINDS)


def register_hold(name: str, hold: Hold) -> None:
    """Keep every record of the students ``hold`` returns (e.g. a pending referral's student)."""
    _HOLDS[name] = hold


def _chunks(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class ClosedCases:
    """Closed cases, aged from the day they closed; their counts go to ``case_outcomes`` first.
    The plan starts kept for that student and year (for the outcomes report) go with the case."""

    name = "closed_cases"

    def purge(self, scope: Scope) -> Destroyed:
        destroyed = Destroyed()
        rows = scope.connection.execute(
            select(cases.c.student_id, cases.c.school_year, cases.c.tier, cases.c.state, students.c.school_id)
            .outerjoin(students, students.c.student_id == cases.c.student_id)
            .where(cases.c.status == "closed", cases.c.school_year < scope.current_year)
        ).all()
        doomed: list[tuple[str, str]] = []
        counts: Counter[tuple[str, str, str]] = Counter()
        for student_id, school_year, tier, state, school_id in rows:
            closed_on = _closed_on(state)
            if closed_on is None or closed_on >= scope.cutoff or student_id in scope.held:
                continue  # undated closures are kept: never destroy on doubt
            doomed.append((student_id, school_year))  # that year's case; the student's others stay
            counts[(school_year, school_id or "", tier or "")] += 1
            destroyed.add(closed_on)
        if not scope.dry_run:
            for chunk in _chunks(doomed):
                key = tuple_(cases.c.student_id, cases.c.school_year)
                scope.connection.execute(delete(cases).where(key.in_(chunk)))
                plans = tuple_(plan_starts.c.student_id, plan_starts.c.school_year)
                scope.connection.execute(delete(plan_starts).where(plans.in_(chunk)))
            _add_outcomes(scope.connection, counts)
        return destroyed


def _closed_on(state: Any) -> date | None:
    history = state.get("history", []) if isinstance(state, dict) else []
    closings = [e.get("on") for e in history if isinstance(e, dict) and e.get("kind") == "closed"]
    return max((_as_date(on) for on in closings if on), default=None)


def _add_outcomes(connection: Connection, counts: Counter[tuple[str, str, str]]) -> None:
    for (school_year, school_id, tier), count in sorted(counts.items()):
        key = (
            (case_outcomes.c.school_year == school_year)
            & (case_outcomes.c.school_id == school_id)
            & (case_outcomes.c.tier == tier)
        )
        changed = connection.execute(
            update(case_outcomes).where(key).values(cases=case_outcomes.c.cases + count)
        ).rowcount
        if not changed:
            connection.execute(
                insert(case_outcomes).values(
                    school_year=school_year, school_id=school_id, tier=tier, cases=count
                )
            )


class WriteJournal:
    """The outbox journal of finished SIS writes (sync keys, errors); pending entries always stay."""

    name = "write_journal"

    def purge(self, scope: Scope) -> Destroyed:
        old = (outbox.c.status != "pending") & (outbox.c.created_at < scope.cutoff_instant)
        count, oldest, newest = scope.connection.execute(
            select(func.count(), func.min(outbox.c.created_at), func.max(outbox.c.created_at)).where(old)
        ).one()
        destroyed = Destroyed(records=count)
        if count:
            destroyed.oldest, destroyed.newest = _as_date(oldest), _as_date(newest)
            if not scope.dry_run:
                scope.connection.execute(delete(outbox).where(old))
        return destroyed


@dataclass(frozen=True)
class TableKind:
    """Rows of one store table, aged by a date column, each of one student and maybe one file.

    For the code that stores notices, packets or contacts: ``register_kind(TableKind("notices",
    table="notices", aged_by="sent_on", file_column="pdf_path"))``. Until the table exists the kind
    purges nothing. ``file_column`` holds a path, absolute or relative to the settings file's folder.
    """

    name: str
    table: str
    aged_by: str
    student_column: str = "student_id"
    file_column: str | None = None

    def purge(self, scope: Scope) -> Destroyed:
        destroyed = Destroyed()
        if not inspect(scope.connection).has_table(self.table):
            return destroyed
        table = Table(self.table, MetaData(), autoload_with=scope.connection)
        aged = table.c[self.aged_by]
        cutoff: date | datetime = scope.cutoff_instant if isinstance(aged.type, DateTime) else scope.cutoff
        keys = list(table.primary_key.columns) or [table.c[self.student_column], aged]
        columns = [*keys, table.c[self.student_column], aged]
        if self.file_column is not None:
            columns.append(table.c[self.file_column])
        doomed: list[tuple[Any, ...]] = []
        for row in scope.connection.execute(select(*columns).where(aged < cutoff)).all():
            if row[len(keys)] in scope.held:
                continue
            doomed.append(tuple(row[: len(keys)]))
            destroyed.add(_as_date(row[len(keys) + 1]))
            if self.file_column is not None and row[-1]:
                path = Path(row[-1])
                destroyed.files.append(path if path.is_absolute() else scope.config_dir / path)
        if not scope.dry_run:
            for chunk in _chunks(doomed):
                scope.connection.execute(delete(table).where(tuple_(*keys).in_(chunk)))
        return destroyed


def _open_cases(connection: Connection) -> Iterable[str]:
    return connection.execute(select(cases.c.student_id).where(cases.c.status == "open")).scalars()


def _staged_case_changes(connection: Connection) -> Iterable[str]:
    """Case changes a cycle staged (held by the retraction guard) are not final: keep their students."""
    if not inspect(connection).has_table("cases_pending"):
        return ()
    staged = Table("cases_pending", MetaData(), autoload_with=connection)
    return connection.execute(select(staged.c.student_id)).scalars()


register_kind(ClosedCases())
register_kind(WriteJournal())
register_hold("open cases", _open_cases)
register_hold("staged case changes", _staged_case_changes)


@dataclass(frozen=True)
class KindResult:
    kind: str
    retention_days: int | None
    status: str
    """``purged``, ``would purge`` (dry run), ``no retention set`` or ``not stored yet``."""
    cutoff: date | None = None
    records: int = 0
    files: int = 0
    oldest: date | None = None
    newest: date | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "retention_days": self.retention_days,
            "status": self.status,
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "records": self.records,
            "files": self.files,
            "oldest": self.oldest.isoformat() if self.oldest else None,
            "newest": self.newest.isoformat() if self.newest else None,
        }


@dataclass(frozen=True)
class PurgeReport:
    today: date
    dry_run: bool
    kinds: tuple[KindResult, ...]
    file_errors: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "dry_run": self.dry_run,
            "kinds": [k.as_json() for k in self.kinds],
            "file_errors": list(self.file_errors),
        }


def _current_year(connection: Connection, today: date) -> str:
    """The school year the daemon evaluates: today's, or the SIS calendar's last year once it ended."""
    last_day = connection.execute(select(func.max(calendar_days.c.day))).scalar_one_or_none()
    return school_year_of(min(today, _as_date(last_day)) if last_day is not None else today)


def purge(
    engine: Engine,
    retention: RetentionSettings,
    *,
    today: date,
    dry_run: bool = False,
    config_dir: Path = Path("."),
    kinds: dict[str, RetentionKind] | None = None,
) -> PurgeReport:
    """Destroy (or with ``dry_run`` count) what is past each kind's retention, as of ``today``.

    The caller holds the district lock (``truancy run`` does; ``truancy purge`` takes it).
    """
    registered = _KINDS if kinds is None else kinds
    results: list[KindResult] = []
    doomed_files: list[Path] = []
    with engine.connect() as connection, connection.begin() as transaction:
        held = frozenset(sid for hold in _HOLDS.values() for sid in hold(connection))
        current_year = _current_year(connection, today)
        ran_at, run_by = utcnow(), os_user()
        for name in dict.fromkeys((*SETTINGS_KINDS, *registered)):
            days = retention.days(name)
            kind = registered.get(name)
            if days is None or kind is None:
                results.append(
                    KindResult(name, days, "no retention set" if days is None else "not stored yet")
                )
                continue
            cutoff = today - timedelta(days=days)
            scope = Scope(connection, cutoff, held, current_year, dry_run, config_dir)
            destroyed = kind.purge(scope)
            files = [path for path in destroyed.files if path.exists()]
            doomed_files.extend(files)
            results.append(
                KindResult(
                    name,
                    days,
                    "would purge" if dry_run else "purged",
                    cutoff,
                    destroyed.records,
                    len(files),
                    destroyed.oldest,
                    destroyed.newest,
                )
            )
            if not dry_run:
                connection.execute(
                    insert(purge_log).values(
                        ran_at=ran_at,
                        run_by=run_by,
                        kind=name,
                        retention_days=days,
                        cutoff=cutoff,
                        records=destroyed.records,
                        files=len(files),
                        oldest=destroyed.oldest,
                        newest=destroyed.newest,
                    )
                )
        if dry_run:
            transaction.rollback()
    errors = () if dry_run else _unlink(doomed_files)
    return PurgeReport(today, dry_run, tuple(results), errors)


def _unlink(paths: list[Path]) -> tuple[str, ...]:
    """Remove the purged rows' files; failures are counted by reason (a path may carry a name)."""
    reasons: Counter[str] = Counter()
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            reasons[exc.strerror or type(exc).__name__] += 1
    return tuple(
        f"{count} file(s) could not be removed: {reason}" for reason, count in sorted(reasons.items())
    )


def run_purge(settings: Settings, *, dry_run: bool, today: date | None = None) -> PurgeReport:
    """``truancy purge``: the store at the newest schema, the district lock (unless a dry run), a purge."""
    engine = store_engine(settings)
    try:
        upgrade(engine)
        day = today or datetime.now(settings.district.zone).date()
        if dry_run:
            return purge(engine, settings.retention, today=day, dry_run=True, config_dir=settings.config_dir)
        with DistrictLock(engine, settings.district.id):
            return purge(engine, settings.retention, today=day, config_dir=settings.config_dir)
    finally:
        engine.dispose()


def print_purge(report: PurgeReport, console: Console) -> None:
    """The purge's account for a terminal: per kind, the period, the cutoff and what went."""
    title = "Would be destroyed (dry run)" if report.dry_run else "Destroyed"
    table = RichTable("kind", "kept for", "older than", "records", "files", "dated", "", title=title)
    for kind in report.kinds:
        span = f"{kind.oldest} … {kind.newest}" if kind.oldest else ""
        table.add_row(
            kind.kind,
            f"{kind.retention_days} days" if kind.retention_days is not None else "-",
            str(kind.cutoff or ""),
            f"{kind.records:,}",
            f"{kind.files:,}",
            span,
            kind.status,
        )
    console.print(table)
    for error in report.file_errors:
        console.print(f"[red]error:[/] {error}")


# Kinds that live beside the records they purge register themselves on import.
from truancy.daemon import (  # noqa: E402 - the kinds register on import, after this module's names
    family_notices_retention,  # noqa: F401 - registers family letters
    notices_retention,  # noqa: F401 - registers notices and contacts
    packets_schema,  # noqa: F401 - registers packets
)
