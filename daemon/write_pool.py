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
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

DEFAULT_WRITE_CONCURRENCY = 8
QUEUED_PER_WORKER = 2
"""Groups handed to the pool per worker: a worker that finishes one takes the next at once, not
after this thread has recorded the last results in the journal."""


def run_groups(
    groups: Iterable[Sequence[Item]],
    work: Callable[[Item], Result],
    on_result: Callable[[Result], None],
    workers: int,
) -> None:
    """Run ``work`` on every item, each group's items in order on one worker, ``workers`` groups at
    once; ``on_result`` runs on this thread as items finish.

    An exception from ``work`` (or ``on_result``) stops new groups from starting (queued ones are
    cancelled); those in flight finish and the first exception is raised.
    """
    if workers < 1:
        raise ValueError("the write pool needs at least one worker")
    pending: set[Future[None]] = set()
    results: list[Result] = []
    lock = threading.Lock()

    def run(group: Sequence[Item]) -> None:
        for item in group:
            result = work(item)
            with lock:
                results.append(result)

    def deliver() -> None:
        with lock:
            ready = results[:]
            results.clear()
        for result in ready:
            on_result(result)

    failure: BaseException | None = None
    queue = iter(groups)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sis-write") as pool:
        exhausted = False
        while True:
            while not exhausted and failure is None and len(pending) < workers * QUEUED_PER_WORKER:
                group = next(queue, None)
                if group is None:
                    exhausted = True
                    break
                pending.add(pool.submit(run, group))
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            if failure is None:
                try:
                    deliver()
                except BaseException as exc:  # re-raised once the pool has drained
                    failure = exc
            for future in done:
                error = None if future.cancelled() else future.exception()
                if error is not None and failure is None:
                    failure = error
            if failure is not None:  # groups queued but not started never start
                for future in pending:
                    future.cancel()
        if failure is None:
            deliver()
    if failure is not None:
        raise failure
