"""Test controls: injected faults and per-endpoint request counts.

Faults let tests prove that clients retry, honour Retry-After and survive token loss; counts let
them prove an incremental sync read little.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass


@dataclass(slots=True)
class Fault:
    path_prefix: str
    status: int
    remaining: int
    retry_after: int | None
    drop: bool = False
    """Drop the connection mid-response instead of answering with ``status``."""
    method: str | None = None
    """Only requests with this HTTP method (e.g. ``POST``: writes fail, reads of the same table work)."""


class FaultPlan:
    """Pending faults, consumed one request at a time in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, path: str, method: str = "GET") -> Fault | None:
        """The fault this request suffers, if any; each hit uses up one of its count."""
        with self._lock:
            for fault in self._faults:
                if fault.method is not None and fault.method != method:
                    continue
                if path.startswith(fault.path_prefix) and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None


_RECORD_ID = re.compile(r"^(/ims/oneroster/rostering/v1p2/\w+|/ws/schema/table/\w+)/[^/]+$")


def endpoint_of(path: str) -> str:
    """The path with single-record ids replaced, so counts group by endpoint, not by record."""
    if path.lower().startswith("/ws/schema/table/"):
        path = path.lower()
    if path.endswith("/count"):
        return path
    return _RECORD_ID.sub(r"\1/{id}", path)


class RequestStats:
    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def record(self, path: str) -> None:
        with self._lock:
            self._counts[endpoint_of(path)] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
