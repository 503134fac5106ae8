"""Ed-Fi resources with change versions: current records, tombstones and key changes.

As in the ODS/API (Ed-Fi-ODS v7.3.2):

- one change-version sequence serves the whole ODS: every insert, update and delete takes the next
  version (``Artifacts/PgSql/Structure/Ods/Changes/0020-CreateChangeVersionSequence.sql``);
- every row has an ``AggregateId`` that grows with each insert and is kept on update; GET-many,
  ``/partitions`` and page tokens go by it, so a collection reads in insertion order
  (``EdFi.Ods.Common/Providers/Queries/PagedAggregateIdsQueryBuilderProvider.cs:161``);
- ids are new GUIDs on insert and never handed out again, so a record deleted and entered again has
  a new id (the re-entered row is a new ``INSERT``);
- ``/deletes`` leaves out a tombstone whose natural key exists again in the table ("items that have
  been re-added", ``EdFi.Ods.Features/ChangeQueries/Repositories/DeletedItems/
  DeletedItemsQueryBuilderFactory.cs:124-143``) and is ordered by change version (:115);
- ``/keyChanges`` collapses the changes of one id in the window to one row: the oldest old values, the
  newest new values and the newest change version (``.../KeyChanges/KeyChangesQueryBuilderFactory.cs:54-59``,
  ``KeyChangesQueryTemplatePreparer.cs:72-87``).
"""

from __future__ import annotations

import itertools
import threading
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]
KeyValues = dict[str, Any]


class ChangeClock:
    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.newest = 0

    def tick(self) -> int:
        with self._lock:
            self.newest = next(self._counter)
            return self.newest


@dataclass(frozen=True, slots=True)
class Stored:
    body: Record
    version: int
    aggregate_id: int

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    def served(self) -> Record:
        return {**self.body, "_etag": self.etag.strip('"')}


class Collection:
    """One resource; ``key_of`` gives a record's natural key values (kept on tombstones)."""

    def __init__(self, name: str, clock: ChangeClock, key_of: Callable[[Record], KeyValues]) -> None:
        self.name = name
        self.key_of = key_of
        self._clock = clock
        self._records: dict[str, Stored] = {}
        self._by_key: dict[tuple[Any, ...], str] = {}
        self._used_ids: set[str] = set()
        self._next_aggregate = 1
        self.tombstones: list[Record] = []
        self.key_changes: list[Record] = []
        self._ordered: list[Stored] | None = None
        self._windows: dict[tuple[int | None, int | None], list[Stored]] = {}
        self.lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._records)

    def frozen_copy(self) -> Collection:
        """The collection as it stands now, for a snapshot database (never written again)."""
        with self.lock:
            copy = Collection(self.name, self._clock, self.key_of)
            copy._records = dict(self._records)
            copy._by_key = dict(self._by_key)
            copy._used_ids = set(self._used_ids)
            copy._next_aggregate = self._next_aggregate
            copy.tombstones = list(self.tombstones)
            copy.key_changes = list(self.key_changes)
            return copy

    def get(self, record_id: str) -> Stored | None:
        return self._records.get(record_id)

    def id_for_key(self, key: KeyValues) -> str | None:
        return self._by_key.get(_frozen(key))

    def has_key(self, key: KeyValues) -> bool:
        return _frozen(key) in self._by_key

    def was_used(self, record_id: str) -> bool:
        return record_id in self._used_ids

    def save(self, body: Record) -> Stored:
        """Insert or replace ``body`` (it carries its ``id``) at the next change version.

        An insert must bring an id never used before: the ODS/API never reuses one."""
        with self.lock:
            record_id = body["id"]
            previous = self._records.get(record_id)
            if previous is None and record_id in self._used_ids:
                raise ValueError(f"{self.name}: id {record_id} was used before and is never reused")
            key = self.key_of(body)
            if previous is None:
                aggregate_id = self._next_aggregate
                self._next_aggregate += 1
            else:
                aggregate_id = previous.aggregate_id
            stored = Stored(body, self._clock.tick(), aggregate_id)
            old_key = self.key_of(previous.body) if previous is not None else key
            if old_key != key:
                del self._by_key[_frozen(old_key)]
                self.key_changes.append(
                    {
                        "id": record_id,
                        "changeVersion": stored.version,
                        "oldKeyValues": old_key,
                        "newKeyValues": key,
                    }
                )
            # Replacing a dict value keeps its place: the collection stays in AggregateId order.
            self._records[record_id] = stored
            self._used_ids.add(record_id)
            self._by_key[_frozen(key)] = record_id
            self._ordered = None
            self._windows = {}
            return stored

    def remove(self, record_id: str) -> None:
        with self.lock:
            stored = self._records.pop(record_id)
            key = self.key_of(stored.body)
            if self._by_key.get(_frozen(key)) == record_id:
                del self._by_key[_frozen(key)]
            self.tombstones.append({"id": record_id, "changeVersion": self._clock.tick(), "keyValues": key})
            self._ordered = None
            self._windows = {}

    def ordered(self) -> list[Stored]:
        """Current records in AggregateId (insertion) order."""
        with self.lock:
            if self._ordered is None:
                self._ordered = list(self._records.values())
            return self._ordered

    def changed(self, min_version: int | None, max_version: int | None) -> list[Stored]:
        """Records whose change version is in the window, in AggregateId order."""
        ordered = self.ordered()
        if min_version is None and max_version is None:
            return ordered
        window = (min_version, max_version)
        with self.lock:
            if window not in self._windows:
                low = min_version if min_version is not None else 0
                high = max_version if max_version is not None else self._clock.newest
                self._windows[window] = [stored for stored in ordered if low <= stored.version <= high]
            return self._windows[window]

    def deletes(self, min_version: int | None, max_version: int | None) -> list[Record]:
        """Tombstones in the window, except those whose natural key is in the table again."""
        return [
            entry
            for entry in in_window(self.tombstones, min_version, max_version)
            if not self.has_key(entry["keyValues"])
        ]

    def collapsed_key_changes(self, min_version: int | None, max_version: int | None) -> list[Record]:
        """One row per id for the window: first old key values, last new ones, last version."""
        by_id: dict[str, Record] = {}
        for entry in in_window(self.key_changes, min_version, max_version):
            first = by_id.get(entry["id"])
            old = first["oldKeyValues"] if first is not None else entry["oldKeyValues"]
            by_id[entry["id"]] = {**entry, "oldKeyValues": old}
        return sorted(by_id.values(), key=lambda entry: int(entry["changeVersion"]))


def start_at(records: list[Stored], aggregate_id: int) -> int:
    """Index of the first record with an AggregateId at or above ``aggregate_id``."""
    return bisect_left(records, aggregate_id, key=lambda stored: stored.aggregate_id)


def in_window(entries: list[Record], min_version: int | None, max_version: int | None) -> list[Record]:
    return [
        entry
        for entry in entries
        if (min_version is None or entry["changeVersion"] >= min_version)
        and (max_version is None or entry["changeVersion"] <= max_version)
    ]


def _frozen(key: KeyValues) -> tuple[Any, ...]:
    return tuple(sorted(key.items()))
