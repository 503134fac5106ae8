"""Pull streams from the SIS into the store: page by page, each page in one transaction.

A stream's cursor belongs to the plugin: the daemon stores it verbatim, in the same transaction as
the page that carried it, and keeps it only if it moves the stream on (``truancy.plugins.base.later``).
A full pass is recorded while it runs (the cycle it started in, and on a sorted stream its latest
checkpoint), so an interrupted pass resumes where it stopped; only the plugin's end of stream
retires what the pass did not see.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, delete, select, update

from truancy.daemon.due import chunks, mark_students
from truancy.daemon.mirror import Mirror
from truancy.daemon.progress import Reporter
from truancy.daemon.read_ahead import read_ahead
from truancy.daemon.schema import (
    attendance,
    bookmarks,
    calendar_days,
    enrollments,
    quarantine,
    students,
)
from truancy.daemon.store import read_bookmark, upsert, utcnow, write_bookmark
from truancy.plugins.base import (
    AttendanceChange,
    AttendancePage,
    ReadBackPage,
    Rejected,
    RosterPage,
    SisPlugin,
    StreamSpec,
    later,
)

ROSTER_STREAM = "roster"
ATTENDANCE_STREAM = "attendance"
READBACK_STREAM = "readback"
CALENDAR_STREAM = "calendars"
PageT = TypeVar("PageT", RosterPage, AttendancePage, ReadBackPage)


class StreamContractError(RuntimeError):
    """A plugin's stream broke the contract (e.g. stopped without an end-of-stream page)."""


@dataclass
class IngestCounts:
    records: Counter[str] = field(default_factory=Counter)
    quarantined: int = 0
    unknown_codes: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class StreamRead:
    """One read of a stream: where it starts, and for a full pass the cycle the pass began in."""

    stream: str
    cursor: str | None
    pass_cycle: int | None


def pass_key(stream: str) -> str:
    return f"{stream}:pass"


def _advance(connection: Connection, key: str, candidate: str | None) -> None:
    """Store ``candidate`` under ``key`` unless it would move the stream backwards."""
    current = read_bookmark(connection, key)
    kept = later(current, candidate)
    if kept is not None and kept != current:
        write_bookmark(connection, key, kept)


def reconciled_key(stream: str) -> str:
    return f"{stream}:reconciled"


def mark_reconciled(connection: Connection, stream: str) -> None:
    """Remember when a full pass of ``stream`` last completed (the schedule for the next one)."""
    write_bookmark(connection, reconciled_key(stream), utcnow().isoformat())


def reconcile_due(connection: Connection, stream: str, every: timedelta) -> bool:
    last = read_bookmark(connection, reconciled_key(stream))
    return last is None or datetime.fromisoformat(last) + every <= utcnow()


def _quarantine(connection: Connection, rejected: Iterable[Rejected], cycle_id: int) -> int:
    now = utcnow()
    rows = {
        (r.stream, r.source_key): {
            "stream": r.stream,
            "source_key": r.source_key,
            "reason": r.reason,
            "first_seen": now,
            "last_seen": now,
            "last_cycle": cycle_id,
        }
        for r in rejected
    }
    upsert(connection, quarantine, list(rows.values()), ["stream", "source_key"], keep=("first_seen",))
    return len(rows)


def _release(connection: Connection, stream: str, source_keys: Iterable[str]) -> None:
    """A record that now loads cleanly leaves the quarantine."""
    keys = list(source_keys)
    if keys:
        connection.execute(
            delete(quarantine).where(quarantine.c.stream == stream, quarantine.c.source_key.in_(keys))
        )


class Ingest:
    def __init__(self, engine: Engine, plugin: SisPlugin, cycle_id: int, reporter: Reporter) -> None:
        self.engine = engine
        self.plugin = plugin
        self.cycle_id = cycle_id
        self.reporter = reporter
        self.counts = IngestCounts()

    def roster(self, *, full: bool = False) -> None:
        """Students and enrollments; a full pass also retires what the SIS no longer has."""
        read = self._begin(ROSTER_STREAM, full=full)
        self._store(
            read,
            self.plugin.roster_pages(read.cursor),
            self._apply_roster_page,
            self._retire_unseen_roster,
            lambda page: len(page.students) + len(page.enrollments),
        )

    def _spec(self, stream: str) -> StreamSpec:
        spec = self.plugin.streams.get(stream)
        if spec is None:
            raise StreamContractError(f"plugin {self.plugin.name} declares no {stream!r} stream")
        return spec

    def _begin(self, stream: str, *, full: bool) -> StreamRead:
        """Resume an unfinished full pass at its checkpoint, start one, or read on from the cursor."""
        with self.engine.begin() as connection:
            unfinished = read_bookmark(connection, pass_key(stream))
            if unfinished is not None:
                state = json.loads(unfinished)
                if state.get("cursor") is not None:
                    return StreamRead(stream, state["cursor"], int(state["cycle"]))
            stored = read_bookmark(connection, stream)
            if full or stored is None or unfinished is not None:
                write_bookmark(connection, pass_key(stream), json.dumps({"cycle": self.cycle_id}))
                return StreamRead(stream, None, self.cycle_id)
        return StreamRead(stream, stored, None)

    def _store(
        self,
        read: StreamRead,
        pages: Iterator[PageT],
        apply: Callable[[Connection, PageT], None],
        retire: Callable[[Connection, int], None],
        size: Callable[[PageT], int],
    ) -> None:
        """A stream's pages into the store, each in its own transaction (see :meth:`_commit_page`),
        counted on the stream's progress line."""
        phase = self.reporter.phase(self._spec(read.stream).label)
        for page in self._until_end(read, pages):
            self._commit_page(read, page, apply=apply, retire=retire)
            phase.advance(size(page))

    def _until_end(self, read: StreamRead, pages: Iterator[PageT]) -> Iterator[PageT]:
        """The plugin's pages, the next fetched while this one is stored; a stream that stops without
        its end page is a plugin fault, not an end."""
        for page in read_ahead(pages):
            yield page
            if page.end:
                return
        raise StreamContractError(
            f"plugin {self.plugin.name}: the {read.stream} stream stopped without an end-of-stream page"
        )

    def _commit_page(
        self,
        read: StreamRead,
        page: PageT,
        *,
        apply: Callable[[Connection, PageT], None],
        retire: Callable[[Connection, int], None],
    ) -> None:
        """One page in one transaction, with its cursor (a sorted stream's checkpoint, or the end's);
        the end of a full pass retires what the pass did not see."""
        end = page.end
        checkpoint = page.cursor if end or self._spec(read.stream).sorted else None
        with self.engine.begin() as connection:
            apply(connection, page)
            if read.pass_cycle is None or end:
                _advance(connection, read.stream, checkpoint)
            elif checkpoint is not None:
                current = read_bookmark(connection, pass_key(read.stream))
                held = json.loads(current).get("cursor") if current else None
                state = {"cycle": read.pass_cycle, "cursor": later(held, checkpoint)}
                write_bookmark(connection, pass_key(read.stream), json.dumps(state))
            if end and read.pass_cycle is not None:
                retire(connection, read.pass_cycle)
                connection.execute(delete(bookmarks).where(bookmarks.c.stream == pass_key(read.stream)))
                mark_reconciled(connection, read.stream)

    def _retire_unseen_roster(self, connection: Connection, since_cycle: int) -> None:
        unseen = students.c.seen_cycle < since_cycle
        retired = connection.execute(select(students.c.student_id).where(unseen, ~students.c.deleted))
        unenrolled = connection.execute(
            select(enrollments.c.student_id).where(enrollments.c.seen_cycle < since_cycle)
        )
        mark_students(connection, [*retired.scalars(), *unenrolled.scalars()], self.cycle_id)
        connection.execute(update(students).where(unseen).values(deleted=True))
        connection.execute(delete(enrollments).where(enrollments.c.seen_cycle < since_cycle))

    def _apply_roster_page(self, connection: Connection, page: RosterPage) -> None:
        mark_students(connection, _changed_roster(connection, page), self.cycle_id)
        upsert(
            connection,
            students,
            [
                {
                    "student_id": s.student_id,
                    "sis_ref": s.sis_ref,
                    "school_id": s.school_id,
                    "grade": s.grade,
                    "deleted": False,
                    "seen_cycle": self.cycle_id,
                }
                for s in page.students
            ],
            ["student_id"],
        )
        upsert(
            connection,
            enrollments,
            [
                {
                    "source_id": e.source_id,
                    "student_id": e.student_id,
                    "school_id": e.school_id,
                    "begin_date": e.begin,
                    "end_date": e.end,
                    "seen_cycle": self.cycle_id,
                }
                for e in page.enrollments
            ],
            ["source_id"],
        )
        if page.deleted_students:
            connection.execute(
                update(students).where(students.c.student_id.in_(page.deleted_students)).values(deleted=True)
            )
        if page.deleted_enrollments:
            connection.execute(
                delete(enrollments).where(enrollments.c.source_id.in_(page.deleted_enrollments))
            )
        self.counts.records["students"] += len(page.students)
        self.counts.records["enrollments"] += len(page.enrollments)
        self.counts.quarantined += _quarantine(connection, page.rejected, self.cycle_id)

    def calendars(self) -> None:
        phase = self.reporter.phase("School calendars")
        calendars = self.plugin.calendars()
        with self.engine.begin() as connection:
            connection.execute(delete(calendar_days))
            rows = [{"school_id": c.school_id, "day": day} for c in calendars for day in c.days]
            for start in range(0, len(rows), 5000):
                connection.execute(calendar_days.insert(), rows[start : start + 5000])
            mark_reconciled(connection, CALENDAR_STREAM)
        self.counts.records["calendar_days"] += len(rows)
        phase.advance(len(rows))

    def attendance(self, *, full: bool = False) -> None:
        read = self._begin(ATTENDANCE_STREAM, full=full)
        with self.engine.connect() as connection:
            refs = dict(
                connection.execute(
                    select(students.c.sis_ref, students.c.student_id).where(students.c.sis_ref.is_not(None))
                ).all()
            )
        self._store(
            read,
            self.plugin.attendance_pages(read.cursor, refs.get),
            self._apply_attendance_page,
            self._retire_unseen_attendance,
            lambda page: len(page.changes) + len(page.rejected),
        )

    def readback(self, mirror: Mirror, *, full: bool = False) -> None:
        """The SIS's truancy rows changed since the last cycle (all of them on a full pass) into the
        store's mirror; the end of a full pass retires the rows it did not see."""
        read = self._begin(READBACK_STREAM, full=full)
        self._store(
            read,
            self.plugin.read_back_pages(read.cursor),
            mirror.apply,
            mirror.retire_unseen,
            lambda page: sum(len(rows) for rows in page.records.values()),
        )
        self.counts.records["readback"] += mirror.rows_read

    def _retire_unseen_attendance(self, connection: Connection, since_cycle: int) -> None:
        """After a full pass: rows the SIS deleted (a day re-marked present) stop counting."""
        unseen = connection.execute(
            select(attendance.c.student_id).where(attendance.c.seen_cycle < since_cycle).distinct()
        )
        mark_students(connection, unseen.scalars(), self.cycle_id)
        connection.execute(delete(attendance).where(attendance.c.seen_cycle < since_cycle))
        connection.execute(
            delete(quarantine).where(
                quarantine.c.stream == ATTENDANCE_STREAM, quarantine.c.last_cycle < since_cycle
            )
        )

    def _apply_attendance_page(self, connection: Connection, page: AttendancePage) -> None:
        """Every row is stored as the SIS holds it, with its own code (present and unmapped ones
        included); evaluation normalises the codes, so a map change needs no re-read. Only a row the
        SIS deleted leaves the store."""
        deleted = [c.source_key for c in page.changes if c.mark is None and c.event is None]
        rows = [_attendance_row(c, self.cycle_id) for c in page.changes if c.mark is not None or c.event]
        rejected_keys = [r.source_key for r in page.rejected]
        mark_students(
            connection, _changed_attendance(connection, rows, [*deleted, *rejected_keys]), self.cycle_id
        )
        upsert(connection, attendance, rows, ["source_key"])
        if deleted:
            connection.execute(delete(attendance).where(attendance.c.source_key.in_(deleted)))
        # A row that was quarantined and now loads (e.g. its student was rostered) leaves the quarantine.
        _release(connection, ATTENDANCE_STREAM, [c.source_key for c in page.changes])
        # A row that cannot be read at all (no date) must stop counting under its old reading.
        rejected = [r.source_key for r in page.rejected]
        if rejected:
            connection.execute(delete(attendance).where(attendance.c.source_key.in_(rejected)))
        self.counts.records["attendance"] += len(page.changes)
        self.counts.quarantined += _quarantine(connection, page.rejected, self.cycle_id)
        self.counts.unknown_codes.update(page.unknown_codes)


def _attendance_row(change: AttendanceChange, cycle_id: int) -> dict[str, Any]:
    """The store's row for one change: the raw mark, or (from a plugin that gives no mark) the event."""
    mark, event = change.mark, change.event
    if mark is not None:
        return {
            "source_key": change.source_key,
            "student_id": mark.student_id,
            "day": mark.date,
            "category": event.category.value if event is not None else None,
            "minutes_absent": mark.minutes,
            "code": mark.code,
            "school_id": mark.school_id,
            "seen_cycle": cycle_id,
        }
    assert event is not None
    return {
        "source_key": change.source_key,
        "student_id": event.student_id,
        "day": event.date,
        "category": event.category.value,
        "minutes_absent": event.minutes_absent,
        "code": event.code,
        "school_id": event.school_id,
        "seen_cycle": cycle_id,
    }


_ATTENDANCE_FIELDS = ("student_id", "day", "category", "minutes_absent", "code", "school_id")


def _changed_attendance(connection: Connection, rows: list[dict[str, Any]], gone: list[str]) -> set[str]:
    """The students whose stored attendance this page changes: new or re-coded rows, rows leaving."""
    keys = [row["source_key"] for row in rows] + gone
    stored: dict[str, tuple[Any, ...]] = {}
    for batch in chunks(keys):
        for found in connection.execute(
            select(attendance.c.source_key, *(attendance.c[name] for name in _ATTENDANCE_FIELDS)).where(
                attendance.c.source_key.in_(batch)
            )
        ):
            stored[found[0]] = tuple(found[1:])
    changed: set[str] = {stored[key][0] for key in gone if key in stored}
    for row in rows:
        before = stored.get(row["source_key"])
        if before != tuple(row[name] for name in _ATTENDANCE_FIELDS):
            # a row that moved to another student changes the one it left too
            changed.update({row["student_id"], *(before[:1] if before else ())})
    return changed


def _changed_roster(connection: Connection, page: RosterPage) -> set[str]:
    """The students whose roster facts this page changes (placement, grade, an enrollment)."""
    changed: set[str] = set(page.deleted_students)
    placed = {s.student_id: (s.sis_ref, s.school_id, s.grade, False) for s in page.students}
    for batch in chunks(placed):
        stored = {
            row[0]: tuple(row[1:])
            for row in connection.execute(
                select(
                    students.c.student_id,
                    students.c.sis_ref,
                    students.c.school_id,
                    students.c.grade,
                    students.c.deleted,
                ).where(students.c.student_id.in_(batch))
            )
        }
        changed.update(student for student in batch if stored.get(student) != placed[student])
    windows = {e.source_id: (e.student_id, e.school_id, e.begin, e.end) for e in page.enrollments}
    keys = [*windows, *page.deleted_enrollments]
    for batch in chunks(keys):
        seen: set[str] = set()
        for source_id, *stored_window in connection.execute(
            select(
                enrollments.c.source_id,
                enrollments.c.student_id,
                enrollments.c.school_id,
                enrollments.c.begin_date,
                enrollments.c.end_date,
            ).where(enrollments.c.source_id.in_(batch))
        ):
            seen.add(source_id)
            wanted = windows.get(source_id)
            if wanted != tuple(stored_window):
                changed.update({stored_window[0], *(wanted[:1] if wanted else ())})
        changed.update(windows[key][0] for key in batch if key in windows and key not in seen)
    return changed
