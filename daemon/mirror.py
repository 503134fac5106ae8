"""The store's mirror of the SIS's truancy rows, kept by the ``readback`` stream.

Each cycle the plugin reads back only the rows changed since the last cycle (a full read on the
reconcile schedule, whose end retires what it did not see: a SIS that cannot report deletions is
caught up there). The diff then reads a batch of students' rows from here instead of holding every
row of the district. A row whose officer action changed (a task done, a flag dismissed, an
officer's note) or whose values changed, or that left the SIS, marks its student due for
evaluation; a row the daemon itself created last cycle reads back with no action and marks nothing
(one it updated marks its student once more, which changes nothing).

Only what the diff and the officer's work read is kept: the plugin leaves an officer's own text
out of the columns (data at rest, issue 18); the daemon's own note text stays, as the store keeps
the letters it sends.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, func, select, tuple_, update

from truancy.daemon.due import chunks, mark_sis_refs
from truancy.daemon.instance import foreign_writers, refuse_foreign
from truancy.daemon.journal import written
from truancy.daemon.ownership import may_retract, needs_update, overridden
from truancy.daemon.schema import outbox, sis_rows, students
from truancy.daemon.store import upsert
from truancy.mappings.writes import WriteKind, is_sync_key
from truancy.plugins.base import OfficerRowError, ReadBackPage, RemoteRow, SisPlugin

UNREADABLE = "unreadable"
BOOKKEEPING = frozenset({"id", "whencreated", "whenmodified", "whocreated", "whomodified", "_etag"})
"""Columns a SIS changes with every save (the row's id, when and by whom it was saved, its ETag):
they say nothing the case or the diff reads."""


def action_of(plugin: SisPlugin, row: RemoteRow) -> str:
    """The officer's action in ``row`` as a comparable string ("" for none)."""
    try:
        action = plugin.officer_action(row)
    except OfficerRowError:
        return UNREADABLE
    if action is None:
        return ""
    on = action.on.isoformat()
    return json.dumps(
        [action.kind, on, action.task_id, action.outcome, action.sync_key], separators=(",", ":")
    )


def content_of(row: RemoteRow) -> str:
    """A digest of what the row holds, bookkeeping aside: a changed value (an officer's own
    status, a date) marks the student due even when it is no officer action."""
    kept = {name: value for name, value in row.columns.items() if name not in BOOKKEEPING}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:16]


def _retractable(plugin: SisPlugin, row: RemoteRow) -> bool:
    """An open daemon row: what the retraction guard counts as withdrawable."""
    return row.kind is not WriteKind.NOTE and is_sync_key(row.sync_key) and may_retract(row, plugin)


class Mirror:
    """Apply read-back pages to ``sis_rows`` and read rows back out of it."""

    def __init__(self, plugin: SisPlugin, cycle_id: int, *, own: str, adopted: frozenset[str]) -> None:
        self.plugin = plugin
        self.cycle_id = cycle_id
        self.own = own
        self.adopted = adopted
        self.rows_read = 0

    def apply(self, connection: Connection, page: ReadBackPage) -> None:
        """Replace the mirror's rows of each record the page read, drop its deleted records, and
        mark the students whose rows changed for the officer (or left the SIS) due."""
        read = [row for rows in page.records.values() for row in rows]
        # a second store writing this district stops the cycle before its rows are taken in
        refuse_foreign(foreign_writers(read, self.plugin, self.own, self.adopted))
        self.rows_read += len(read)
        records = [*page.records, *page.deleted]
        before: dict[tuple[str, str], tuple[str, str]] = {}
        for batch in chunks(records):
            for kind, remote_id, sis_ref, action in connection.execute(
                select(sis_rows.c.kind, sis_rows.c.remote_id, sis_rows.c.sis_ref, sis_rows.c.action).where(
                    sis_rows.c.record.in_(batch)
                )
            ):
                before[(kind, remote_id)] = (sis_ref, action)
        due: set[str] = set()
        values: list[dict[str, Any]] = []
        new = [row for row in read if (row.kind.value, row.remote_id) not in before]
        due.update(row.sis_ref for row in self._changed_since_created(connection, new))
        for record, rows in page.records.items():
            for row in rows:
                action = action_of(self.plugin, row)
                signature = f"{content_of(row)} {action}"
                old = before.pop((row.kind.value, row.remote_id), None)
                if old is not None and old != (row.sis_ref, signature):
                    due.update({row.sis_ref, old[0]})
                values.append(
                    {
                        "kind": row.kind.value,
                        "remote_id": row.remote_id,
                        "record": record,
                        "sync_key": row.sync_key,
                        "sis_ref": row.sis_ref,
                        "columns": dict(row.columns),
                        "saved_on": row.saved_on,
                        "action": signature,
                        "retractable": _retractable(self.plugin, row),
                        "seen_cycle": self.cycle_id,
                    }
                )
        for start in range(0, len(values), 500):
            upsert(connection, sis_rows, values[start : start + 500], ["kind", "remote_id"])
        gone = list(before)
        for start in range(0, len(gone), 500):
            connection.execute(
                delete(sis_rows).where(
                    tuple_(sis_rows.c.kind, sis_rows.c.remote_id).in_(gone[start : start + 500])
                )
            )
        due.update(sis_ref for sis_ref, _ in before.values())
        mark_sis_refs(connection, due, self.cycle_id)

    def _changed_since_created(self, connection: Connection, rows: list[RemoteRow]) -> list[RemoteRow]:
        """Of rows new to the mirror, those that are not as the daemon created them: an officer's own
        row, one the officer changed before this read, one of a write the journal no longer holds."""
        ours = {row.sync_key: row for row in rows if is_sync_key(row.sync_key) and row.sync_key is not None}
        changed = [row for row in rows if row.sync_key not in ours]
        created: dict[str, Any] = {}
        entries: list[int] = []
        for batch in chunks(ours):
            for entry_id, key, payload in connection.execute(
                select(outbox.c.id, outbox.c.sync_key, outbox.c.payload).where(
                    outbox.c.op == "create",
                    outbox.c.status == "done",
                    outbox.c.payload.is_not(None),
                    outbox.c.sync_key.in_(batch),
                )
            ):
                created[key] = payload["write"]
                entries.append(entry_id)
        for key, row in ours.items():
            data = created.get(key)
            write = written(data).write if data is not None else None
            if (
                write is None
                or action_of(self.plugin, row)
                or needs_update(row, write, self.plugin)
                or overridden(row, write, self.plugin)
            ):
                changed.append(row)
        for start in range(0, len(entries), 500):  # the row is in the mirror now: the write can go
            connection.execute(
                update(outbox).where(outbox.c.id.in_(entries[start : start + 500])).values(payload=None)
            )
        return changed

    def retire_unseen(self, connection: Connection, since_cycle: int) -> None:
        """After a full read: rows it did not see are gone from the SIS; their students are due."""
        unseen = sis_rows.c.seen_cycle < since_cycle
        refs = connection.execute(select(sis_rows.c.sis_ref).where(unseen).distinct()).scalars()
        mark_sis_refs(connection, list(refs), self.cycle_id)
        connection.execute(delete(sis_rows).where(unseen))


def rows_of(connection: Connection, sis_refs: Iterable[str]) -> list[RemoteRow]:
    """The mirrored rows of these students, in remote id order within each kind."""
    found: list[RemoteRow] = []
    for batch in chunks(sorted(set(sis_refs))):
        found.extend(
            _remote(*row)
            for row in connection.execute(
                select(
                    sis_rows.c.kind,
                    sis_rows.c.remote_id,
                    sis_rows.c.sync_key,
                    sis_rows.c.sis_ref,
                    sis_rows.c.columns,
                    sis_rows.c.saved_on,
                ).where(sis_rows.c.sis_ref.in_(batch))
            )
        )
    return found


def _remote(
    kind: str, remote_id: str, sync_key: str | None, sis_ref: str, columns: Any, saved_on: date | None
) -> RemoteRow:
    return RemoteRow(WriteKind(kind), remote_id, sync_key, sis_ref, columns, saved_on)


def open_rows(connection: Connection) -> int:
    """The open daemon rows in the SIS (the retraction guard's base)."""
    return int(
        connection.execute(
            select(func.count()).select_from(sis_rows).where(sis_rows.c.retractable)
        ).scalar_one()
    )


def orphan_refs(connection: Connection) -> Iterator[str]:
    """SIS keys with truancy rows but no student in the store (never rostered, or purged)."""
    known = select(students.c.sis_ref).where(students.c.sis_ref.is_not(None))
    yield from connection.execute(
        select(sis_rows.c.sis_ref)
        .where(sis_rows.c.sis_ref.not_in(known))
        .distinct()
        .order_by(sis_rows.c.sis_ref)
    ).scalars()


def forget(connection: Connection, deleted: Iterable[tuple[str, str]]) -> None:
    """Rows the daemon deleted in the SIS leave the mirror at once (a SIS may not report deletes)."""
    gone = list(deleted)
    for start in range(0, len(gone), 500):
        connection.execute(
            delete(sis_rows).where(
                tuple_(sis_rows.c.kind, sis_rows.c.remote_id).in_(gone[start : start + 500])
            )
        )
