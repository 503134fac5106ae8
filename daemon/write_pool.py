"""Writes sent side by side, each student's in order.

A first sync writes tens of thousands of rows; one at a time, each waits out the SIS's round trip,
so a district 50 ms away needs an hour for 60,000 writes. A pool of workers hides the round trip;
how many of their requests are in flight at once is the SIS sessions' :class:`RequestGate`, which
narrows when the SIS pushes back and widens when it keeps up.

Work comes in groups that run in order on one worker (one student's writes: a flag before its
notes, and one read-merge-write at a time on records the SIS keeps per student, as Ed-Fi does).
Results are handed back on the calling thread, so the journal and counters have one writer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

DEFAULT_WRITE_CONCURRENCY = 8


class WritePool(Generic[Item, Result]):
    """Groups of writes on worker threads while this thread goes on; each group's items in order on
    one worker, results handed to ``on_result`` on this thread when it asks (:meth:`collect`).

    An exception from ``work`` (or ``on_result``) stops the pool: queued groups are cancelled, those
    in flight finish, no more results are handed on, and :meth:`drain` raises the first exception.
    """

    def __init__(
        self, work: Callable[[Item], Result], on_result: Callable[[Result], None], workers: int
    ) -> None:
        if workers < 1:
            raise ValueError("the write pool needs at least one worker")
        self.workers = workers
        self.failure: BaseException | None = None
        self._work, self._on_result = work, on_result
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sis-write")
        self._pending: set[Future[None]] = set()
        self._results: list[Result] = []
        self._lock = threading.Lock()

    @property
    def queued(self) -> int:
        """Groups handed over and not yet finished."""
        return len(self._pending)

    def add(self, group: Sequence[Item]) -> None:
        if self.failure is None:
            self._pending.add(self._executor.submit(self._run, group))

    def collect(self, *, block: bool = False) -> None:
        """Hand on the results that are ready; ``block``: first wait until a group finishes."""
        if block and self._pending:
            done, self._pending = wait(self._pending, return_when=FIRST_COMPLETED)
        else:
            done = {future for future in self._pending if future.done()}
            self._pending -= done
        if self.failure is None:
            try:
                self._deliver()
            except BaseException as exc:  # raised by drain once the pool has stopped
                self.failure = exc
        for future in done:
            error = None if future.cancelled() else future.exception()
            if error is not None and self.failure is None:
                self.failure = error
        if self.failure is not None:  # groups queued but not started never start
            for future in self._pending:
                future.cancel()

    def drain(self) -> None:
        """Wait for every group, handing on results as they come; raise the first failure."""
        while self._pending:
            self.collect(block=True)
        self.collect()
        self.close()
        if self.failure is not None:
            raise self.failure

    def close(self) -> None:
        """Stop: queued groups are cancelled, those in flight finish (their results are dropped)."""
        for future in self._pending:
            future.cancel()
        self._executor.shutdown(wait=True)

    def _run(self, group: Sequence[Item]) -> None:
        for item in group:
            result = self._work(item)
            with self._lock:
                self._results.append(result)

    def _deliver(self) -> None:
        with self._lock:
            ready = self._results[:]
            self._results.clear()
        for result in ready:
            self._on_result(result)
