"""Reading ahead: the next page is fetched while the caller stores this one, in order, with the
fetch's failure raised at its page and the stream closed when the caller stops early."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator

import pytest

from truancy.daemon.read_ahead import read_ahead

STREAM = contextvars.ContextVar("stream", default="none")


def test_the_next_page_is_fetched_while_the_caller_works_on_this_one() -> None:
    fetched = [threading.Event() for _ in range(4)]

    def pages() -> Iterator[int]:
        for number in range(4):
            fetched[number].set()
            yield number

    seen = []
    for page in read_ahead(pages()):
        if page < 3:  # still holding this page, the next one arrives without being asked for
            assert fetched[page + 1].wait(timeout=30)
        seen.append(page)
    assert seen == [0, 1, 2, 3]


def test_a_failed_fetch_is_raised_at_its_page_after_the_pages_before_it() -> None:
    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise ConnectionError("the SIS went away")

    read = read_ahead(pages())
    assert [next(read), next(read)] == [1, 2]
    with pytest.raises(ConnectionError, match="went away"):
        next(read)


def test_a_caller_that_stops_early_closes_the_stream_having_fetched_at_most_one_page_more() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def pages() -> Iterator[int]:
        try:
            for number in range(100):
                produced.append(number)
                yield number
        finally:
            closed.set()

    for page in read_ahead(pages()):
        if page == 2:
            break
    assert closed.is_set()
    assert produced in ([0, 1, 2], [0, 1, 2, 3])  # the fetch ahead may not have started


def test_the_fetch_runs_in_the_callers_context() -> None:
    STREAM.set("attendance")

    def pages() -> Iterator[str]:
        yield STREAM.get()
        yield threading.current_thread().name

    first, thread = list(read_ahead(pages()))
    assert first == "attendance"
    assert thread != threading.current_thread().name
