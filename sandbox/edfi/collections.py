"""Ed-Fi resources with change versions: current records, tombstones and key changes.

One change-version clock serves the whole ODS, as in the ODS/API: every insert, update and delete
takes the next version, so a client that remembers the newest version it saw can ask for exactly
what changed since.
"""

from __future__ import annotations

import itertools
import threading
from bisect import bisect_left, bisect_right
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
        self.tombstones: list[Record] = []
        self.key_changes: list[Record] = []
        self._ordered: list[Stored] | None = None
        self.lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._records)

    def get(self, record_id: str) -> Stored | None:
        return self._records.get(record_id)

    def id_for_key(self, key: KeyValues) -> str | None:
        return self._by_key.get(_frozen(key))

    def save(self, body: Record) -> Stored:
        """Insert or replace ``body`` (it carries its ``id``) at the next change version."""
        with self.lock:
            record_id = body["id"]
            previous = self._records.get(record_id)
            key = self.key_of(body)
            stored = Stored(body, self._clock.tick())
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
            self._records.pop(record_id, None)
            self._records[record_id] = stored
            self._by_key[_frozen(key)] = record_id
            self._ordered = None
            return stored

    def remove(self, record_id: str) -> None:
        with self.lock:
            stored = self._records.pop(record_id)
            key = self.key_of(stored.body)
            self._by_key.pop(_frozen(key), None)
            self.tombstones.append({"id": record_id, "changeVersion": self._clock.tick(), "keyValues": key})
            self._ordered = None

    def ordered(self) -> list[Stored]:
        """Current records in change-version order (the stable order offsets page through)."""
        with self.lock:
            if self._ordered is None:
                self._ordered = sorted(self._records.values(), key=lambda stored: stored.version)
            return self._ordered

    def changed(self, min_version: int | None, max_version: int | None) -> list[Stored]:
        ordered = self.ordered()
        start = 0 if min_version is None else bisect_left(ordered, min_version, key=lambda s: s.version)
        end = (
            len(ordered)
            if max_version is None
            else bisect_right(ordered, max_version, key=lambda s: s.version)
        )
        return ordered[start:end]


def in_window(entries: list[Record], min_version: int | None, max_version: int | None) -> list[Record]:
    return [
        entry
        for entry in entries
        if (min_version is None or entry["changeVersion"] >= min_version)
        and (max_version is None or entry["changeVersion"] <= max_version)
    ]


def _frozen(key: KeyValues) -> tuple[Any, ...]:
    return tuple(sorted(key.items()))
