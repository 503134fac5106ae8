"""Apply the difference between desired and actual SIS state, through a durable journal.

Every cycle diffs the desired writes of a batch of students against their truancy rows (the
store's mirror of the SIS, kept by the read-back stream) by ``sync_key`` and the plugin's field
ownership (``daemon/ownership.py``): missing rows are created, rows whose daemon-owned fields
changed updated, rows no longer wanted retracted (while the declaration allows), duplicates
removed. Each batch's plan is journalled (``pending``, with what to send) before anything is sent,
so the retraction guard weighs the whole cycle's plan first; then the journal is sent in order, a
student's writes one after another, and each entry marked done only after the SIS confirms. A crash
anywhere leaves at worst some ``pending`` entries; the next cycle supersedes them and evaluates
their students again, so its diff repairs the SIS: re-running never duplicates and never loses a
write.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, select, update

from truancy.connector.errors import FailureType, HttpStatusError, ProtocolError, RowError
from truancy.connector.gate import RequestGate
from truancy.connector.http import HttpSession
from truancy.daemon.due import chunks, mark_sis_refs
from truancy.daemon.evaluate import Target
from truancy.daemon.journal import dumps_payload, loads_payload, written
from truancy.daemon.mirror import forget
from truancy.daemon.ownership import differs, may_retract, needs_update, ownership_of
from truancy.daemon.progress import Phase, Reporter
from truancy.daemon.schema import outbox
from truancy.daemon.store import utcnow
from truancy.daemon.write_pool import DEFAULT_WRITE_CONCURRENCY, WritePool
from truancy.mappings.writes import WriteKind
from truancy.plugins.base import RemoteRow, SisPlugin

log = logging.getLogger("truancy.daemon.outbox")

OURS = re.compile(r"^[0-9a-f]{40}$")
"""Sync keys the daemon writes; rows without one were written by an officer and are never touched."""
JOURNAL_BATCH = 200
SEND_CHUNK = 2000
"""Planned entries read back from the journal and sent at a time (a student's entries never split)."""
PLANNED = "pending"
"""A journalled write not yet confirmed by the SIS (planned, or sent without an answer yet)."""
NOTE_CONTENT = ("note_date", "category", "note_text")
"""What makes two notes the same note, whoever's key or writer id they carry."""


@dataclass
class Plan:
    creates: list[Target] = field(default_factory=list)
    updates: list[tuple[RemoteRow, Target]] = field(default_factory=list)
    deletes: list[RemoteRow] = field(default_factory=list)
    unchanged: int = 0
    retractions: list[RemoteRow] = field(default_factory=list)
    """The deletes that withdraw a flag or task no longer wanted (not duplicates): what the
    retraction guard weighs."""

    @property
    def size(self) -> int:
        return len(self.creates) + len(self.updates) + len(self.deletes)

    def counts_by_kind(self) -> dict[str, Counter[str]]:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for target in self.creates:
            counts["created"][target.write.kind.value] += 1
        for _, target in self.updates:
            counts["updated"][target.write.kind.value] += 1
        for remote in self.deletes:
            counts["deleted"][remote.kind.value] += 1
        return counts


@dataclass
class WriteCounts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "failed": self.failed,
        }


def plan_writes(desired: dict[str, Target], remote_rows: Iterable[RemoteRow], plugin: SisPlugin) -> Plan:
    """The writes that bring the SIS from ``remote_rows`` to ``desired``.

    A note is written once: one the SIS holds under its key is never updated, and one the SIS holds
    word for word under another daemon key (written by an earlier store, or before notes were keyed
    by content) is recognised, not written again.
    """
    plan = Plan()
    by_key: dict[str, list[RemoteRow]] = defaultdict(list)
    for row in remote_rows:
        if row.sync_key is not None and OURS.match(row.sync_key):
            by_key[row.sync_key].append(row)
    missing: list[Target] = []
    for key, target in desired.items():
        existing = sorted(by_key.pop(key, []), key=lambda r: _numeric_id(r.remote_id))
        if not existing:
            missing.append(target)
            continue
        keeper, duplicates = existing[0], existing[1:]
        plan.deletes.extend(duplicates)
        if target.write.kind is not WriteKind.NOTE and needs_update(keeper, target.write, plugin):
            plan.updates.append((keeper, target))
        else:
            plan.unchanged += 1
    notes_left: dict[str, list[RemoteRow]] = defaultdict(list)
    for rows in by_key.values():
        for row in rows:
            if row.kind is WriteKind.NOTE:
                notes_left[row.sis_ref].append(row)
    for target in missing:
        same = _same_note(target, notes_left.get(target.sis_ref, []), plugin)
        if same is None:
            plan.creates.append(target)
            continue
        notes_left[target.sis_ref].remove(same)
        plan.unchanged += 1
    for rows in by_key.values():
        retracted = [row for row in rows if may_retract(row, plugin)]
        plan.deletes.extend(retracted)
        plan.retractions.extend(row for row in retracted if row.kind is not WriteKind.NOTE)
    return plan


def _same_note(target: Target, candidates: list[RemoteRow], plugin: SisPlugin) -> RemoteRow | None:
    """A note row the SIS already holds with exactly this note's content, if the target is a note."""
    if target.write.kind is not WriteKind.NOTE:
        return None
    return next((row for row in candidates if not differs(row, target.write, plugin, NOTE_CONTENT)), None)


def _by_student(
    entries: Iterable[tuple[int, tuple[str, str, str, Any]]],
) -> list[list[tuple[int, tuple[str, str, str, Any]]]]:
    """Journalled writes grouped by student, each group in plan order (creates, then updates, then
    deletes): a student's writes go one after another, different students' side by side."""
    groups: dict[str, list[tuple[int, tuple[str, str, str, Any]]]] = {}
    for entry in entries:
        groups.setdefault(_student_of(entry[1][0], entry[1][3]), []).append(entry)
    return list(groups.values())


def _numeric_id(remote_id: str) -> tuple[int, str]:
    return (int(remote_id), "") if remote_id.isdigit() else (0, remote_id)


@dataclass(frozen=True, slots=True)
class _Sent:
    """What one write came to: its journal entry's new state and how it counts."""

    entry: dict[str, Any]
    outcome: str
    """created, updated, deleted or failed."""
    refusal: tuple[FailureType, str] | None = None
    removed: tuple[str, str] | None = None
    """(kind, remote id) of a row this write deleted from the SIS."""
    refused_for: str | None = None
    """The SIS key of the student whose write was refused: evaluated again next cycle."""


class Outbox:
    def __init__(
        self,
        engine: Engine,
        plugin: SisPlugin,
        cycle_id: int,
        reporter: Reporter,
        *,
        concurrency: int = DEFAULT_WRITE_CONCURRENCY,
    ) -> None:
        """``concurrency``: the most writes in flight at once (the pool narrows when the SIS pushes
        back; 1 sends one at a time)."""
        self.engine = engine
        self.plugin = plugin
        self.cycle_id = cycle_id
        self.reporter = reporter
        self.concurrency = concurrency
        self.errors: Counter[tuple[FailureType, str]] = Counter()
        """Refused writes by failure type and reason."""
        self.narrowest = concurrency
        """The narrowest the write pool became this cycle (``concurrency`` when the SIS kept up)."""
        self.counts = WriteCounts()
        self.refused: set[str] = set()
        """SIS keys of the students a write was refused for this cycle (evaluated again next cycle)."""
        self._sending: _Sending | None = None

    def supersede_stale(self) -> int:
        """Entries an interrupted cycle left planned or pending: their students are evaluated again
        this cycle, whose diff replaces them."""
        stale = (outbox.c.status == PLANNED) & (outbox.c.cycle_id != self.cycle_id)
        with self.engine.begin() as connection:
            refs = connection.execute(select(outbox.c.sis_ref).where(stale).distinct()).scalars()
            mark_sis_refs(connection, [ref for ref in refs if ref is not None], self.cycle_id)
            result = connection.execute(
                update(outbox).where(stale).values(status="superseded", finished_at=utcnow(), payload=None)
            )
        return result.rowcount

    def apply(self, plan: Plan) -> WriteCounts:
        """Journal ``plan`` and send it."""
        self.journal(plan)
        return self.send_planned(unchanged=plan.unchanged)

    def journal(self, plan: Plan) -> int:
        """Record a (batch's) plan as planned entries, each student's writes together in plan order."""
        ops: list[tuple[str, str, str, Any]] = [
            *(("create", t.write.sync_key, t.write.kind.value, t) for t in plan.creates),
            *(("update", t.write.sync_key, t.write.kind.value, (r, t)) for r, t in plan.updates),
            *(("delete", r.sync_key or "", r.kind.value, r) for r in plan.deletes),
        ]
        ops.sort(key=lambda op: _student_of(op[0], op[3]))  # stable: plan order within a student
        if ops:
            self._journal(ops, PLANNED)
        return len(ops)

    def discard_planned(self) -> None:
        """A plan the retraction guard held: nothing of it is sent."""
        with self.engine.begin() as connection:
            connection.execute(
                delete(outbox).where(outbox.c.cycle_id == self.cycle_id, outbox.c.status == PLANNED)
            )

    def unplan(self, sync_keys: Iterable[str]) -> None:
        """Drop this cycle's planned entries for ``sync_keys``: a delivery changed those writes, which
        are planned again."""
        wanted = list(sync_keys)
        with self.engine.begin() as connection:
            for start in range(0, len(wanted), 500):
                connection.execute(
                    delete(outbox).where(
                        outbox.c.cycle_id == self.cycle_id,
                        outbox.c.status == PLANNED,
                        outbox.c.sync_key.in_(wanted[start : start + 500]),
                    )
                )

    def send_planned(self, *, unchanged: int = 0) -> WriteCounts:
        """Send this cycle's planned entries (those :meth:`start_sending` has not sent already), a
        chunk of the journal at a time; the cycle's counts, both phases together."""
        with self.engine.connect() as connection:
            total = connection.execute(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.cycle_id == self.cycle_id, outbox.c.status == PLANNED)
            ).scalar_one()
        if total:
            self.start_sending(total=total)
            self.finish_sending()
        self._forget_sent_updates()
        self.counts.unchanged = unchanged
        return self.counts

    def start_sending(self, *, total: int | None = None) -> None:
        """Open the write pool: :meth:`send_journalled` hands it what the journal holds as it comes.

        A cycle the retraction guard cannot hold (the SIS has too few open rows to withdraw) opens it
        before planning, so its writes go out while later batches are evaluated."""
        self._sending = _Sending(self, total)

    def send_journalled(self, *, ahead: int = SEND_CHUNK) -> None:
        """Hand the pool the entries journalled since the last call; this thread waits while more
        than ``ahead`` are unsent, so memory stays flat however far planning runs ahead."""
        sending = self._sending
        if sending is None:
            raise RuntimeError("send_journalled before start_sending")
        while True:
            sending.pool.collect()
            while sending.unsent > ahead and sending.pool.failure is None:
                sending.pool.collect(block=True)
            if sending.pool.failure is not None:
                sending.pool.drain()  # raises the failure
            chunk = self._planned_chunk(sending.after)
            if not chunk:
                return
            sending.after = chunk[-1][0]
            sending.handed += len(chunk)
            for group in _by_student(chunk):
                sending.pool.add(group)

    def finish_sending(self) -> None:
        """Send what is left of the journal, wait for every write, and close the pool."""
        sending = self._sending
        if sending is None:
            return
        try:
            self.send_journalled()
            sending.pool.drain()
        finally:
            self.stop_sending()

    def stop_sending(self) -> None:
        """Close the pool (queued writes are not sent; those in flight finish) and journal what the
        SIS confirmed, on an interrupted or failed cycle too."""
        sending = self._sending
        if sending is None:
            return
        try:
            sending.pool.close()
            sending.pool.collect()  # the writes that were in flight are journalled as the SIS answered
        finally:
            self._sending = None
        for session in sending.sessions:
            session.gate = None
        self.narrowest = min(self.narrowest, math.floor(sending.gate.lowest))
        self._finish(sending.finished)
        if sending.gate.decreases:
            log.info(
                "the SIS pushed back on writes; the write pool narrowed",
                extra={"narrowest": self.narrowest, "narrowed": sending.gate.decreases},
            )

    def _record(self, sent: _Sent) -> None:
        """One write's outcome, on the cycle's thread: counted, and journalled a batch at a time."""
        sending = self._sending
        assert sending is not None  # results arrive only while the pool is open
        sending.finished.append(sent)
        sending.recorded += 1
        setattr(self.counts, sent.outcome, getattr(self.counts, sent.outcome) + 1)
        if sent.refusal is not None:
            self.errors[sent.refusal] += 1
        if sent.refused_for is not None:
            self.refused.add(sent.refused_for)
        sending.phase.advance()
        if len(sending.finished) >= JOURNAL_BATCH:
            self._finish(sending.finished)

    def as_sent(self, rows: list[RemoteRow], sis_refs: Collection[str]) -> list[RemoteRow]:
        """These students' ``rows`` (the mirror's, read before this cycle) as the SIS holds them
        now: with the rows this cycle created and the values it updated. A delivery re-plans some
        writes after the cycle began sending, and must neither create a row again nor miss a change."""
        mine = (outbox.c.cycle_id == self.cycle_id) & (outbox.c.status == "done")
        mine &= outbox.c.op.in_(("create", "update")) & outbox.c.payload.is_not(None)
        created: list[RemoteRow] = []
        updated: dict[tuple[str, str | None], dict[str, str]] = {}
        with self.engine.connect() as connection:
            for batch in chunks(sorted(set(sis_refs))):
                found = connection.execute(
                    select(outbox.c.op, outbox.c.remote_id, outbox.c.payload).where(
                        mine, outbox.c.sis_ref.in_(batch)
                    )
                )
                for op, remote_id, payload in found:
                    target = written(payload["write"])
                    write, stored = target.write, dict(self.plugin.stored_fields(target.write))
                    if op == "create":
                        created.append(
                            RemoteRow(write.kind, remote_id, write.sync_key, target.sis_ref, stored)
                        )
                    else:
                        owned = ownership_of(self.plugin, write).daemon
                        updated[(write.kind.value, remote_id)] = {
                            name: value for name, value in stored.items() if name in owned
                        }
        now = [
            replace(row, columns={**row.columns, **updated.get((row.kind.value, row.remote_id), {})})
            for row in rows
        ]
        return [*now, *created]

    def _forget_sent_updates(self) -> None:
        """A sent update's write is kept only while the cycle may re-plan it (:meth:`as_sent`); one a
        crash left behind leaves with the journal (``truancy purge``)."""
        with self.engine.begin() as connection:
            connection.execute(
                update(outbox)
                .where(
                    outbox.c.cycle_id == self.cycle_id, outbox.c.op == "update", outbox.c.payload.is_not(None)
                )
                .values(payload=None)
            )

    def _planned_chunk(self, after: int) -> list[tuple[int, tuple[str, str, str, Any]]]:
        """The next planned entries after id ``after``, through the last student's final entry."""
        planned = (outbox.c.cycle_id == self.cycle_id) & (outbox.c.status == PLANNED) & (outbox.c.id > after)
        columns = (
            outbox.c.id,
            outbox.c.op,
            outbox.c.sync_key,
            outbox.c.kind,
            outbox.c.sis_ref,
            outbox.c.payload,
        )
        with self.engine.connect() as connection:
            rows = list(
                connection.execute(select(*columns).where(planned).order_by(outbox.c.id).limit(SEND_CHUNK))
            )
            if len(rows) == SEND_CHUNK:
                last = rows[-1]
                rows.extend(
                    connection.execute(
                        select(*columns)
                        .where(planned, outbox.c.id > last.id, outbox.c.sis_ref == last.sis_ref)
                        .order_by(outbox.c.id)
                    )
                )
        return [
            (row.id, (row.op, row.sync_key, row.kind, loads_payload(row.op, row.payload))) for row in rows
        ]

    def _send(self, item: tuple[int, tuple[str, str, str, Any]]) -> _Sent:
        """Send one write (on a pool worker): touches the SIS only, never the journal or counters."""
        journal_id, (op, _key, _kind, payload) = item
        remote_id: str | None = None
        removed: tuple[str, str] | None = None
        try:
            if op == "create":
                remote_id = self.plugin.create(payload.write, payload.sis_ref)
                outcome = "created"
            elif op == "update":
                remote, target = payload
                self.plugin.update(remote, target.write)
                remote_id, outcome = remote.remote_id, "updated"
            else:
                self.plugin.delete(payload)
                remote_id, outcome = payload.remote_id, "deleted"
                removed = (payload.kind.value, payload.remote_id)
        except (RowError, HttpStatusError, ProtocolError) as exc:
            # One row the SIS refuses (a bad value, a student outside the API key's schools, a record
            # that kept changing while it was merged) must not stop the others.
            log.warning("write refused by the SIS", extra={"op": op, "error": str(exc)})
            reason = exc.reason if isinstance(exc, RowError) else type(exc).__name__
            entry = {"id": journal_id, "status": "failed", "remote_id": None, "error": str(exc)}
            return _Sent(entry, "failed", (exc.failure, reason), refused_for=_student_of(op, payload))
        entry = {"id": journal_id, "status": "done", "remote_id": remote_id, "error": None}
        return _Sent(entry, outcome, removed=removed)

    def _journal(self, ops: list[tuple[str, str, str, Any]], status: str) -> list[int]:
        now = utcnow()
        with self.engine.begin() as connection:
            rows = [
                {
                    "cycle_id": self.cycle_id,
                    "sync_key": key,
                    "kind": kind,
                    "op": op,
                    "status": status,
                    "created_at": now,
                    "sis_ref": _student_of(op, payload),
                    "payload": dumps_payload(op, payload),
                }
                for op, key, kind, payload in ops
            ]
            ids = connection.execute(
                outbox.insert().returning(outbox.c.id, sort_by_parameter_order=True), rows
            ).scalars()
            return list(ids)

    def _finish(self, finished: list[_Sent]) -> None:
        if not finished:
            return
        now = utcnow()
        values = {
            "status": bindparam("new_status"),
            "remote_id": bindparam("new_remote_id"),
            "error": bindparam("new_error"),
            "finished_at": now,
        }
        entry = outbox.c.id == bindparam("entry_id")
        kept = [sent for sent in finished if sent.outcome in ("created", "updated")]
        others = [sent for sent in finished if sent.outcome not in ("created", "updated")]
        with self.engine.begin() as connection:
            # a created row's write stays until the read-back compares the row with it, an updated
            # row's until the cycle ends (see as_sent)
            for group, statement in (
                (kept, update(outbox).where(entry).values(**values)),
                (others, update(outbox).where(entry).values(**values, payload=None)),
            ):
                if group:
                    connection.execute(statement, [_bound(sent) for sent in group])
            forget(connection, [sent.removed for sent in finished if sent.removed is not None])
            refused = [sent.refused_for for sent in finished if sent.refused_for is not None]
            mark_sis_refs(connection, refused, self.cycle_id)  # after this cycle cleared its marks: stays
        finished.clear()


class _Sending:
    """An open write pool and what it has been handed and has handed back."""

    def __init__(self, outbox: Outbox, total: int | None) -> None:
        self.gate = RequestGate(outbox.concurrency)
        self.sessions = [s for s in getattr(outbox.plugin, "sessions", ()) if isinstance(s, HttpSession)]
        for session in self.sessions:
            session.gate = self.gate
        self.phase: Phase = outbox.reporter.phase("Writing to the SIS", total=total)
        self.pool: WritePool[tuple[int, tuple[str, str, str, Any]], _Sent] = WritePool(
            outbox._send, outbox._record, outbox.concurrency
        )
        self.after = 0
        """The last journal entry handed to the pool."""
        self.handed = 0
        self.recorded = 0
        self.finished: list[_Sent] = []
        """Outcomes not yet journalled."""

    @property
    def unsent(self) -> int:
        return self.handed - self.recorded


def _bound(sent: _Sent) -> dict[str, Any]:
    return {
        "entry_id": sent.entry["id"],
        "new_status": sent.entry["status"],
        "new_remote_id": sent.entry["remote_id"],
        "new_error": sent.entry["error"],
    }


def _student_of(op: str, payload: Any) -> str:
    return str(payload[0].sis_ref if op == "update" else payload.sis_ref)
