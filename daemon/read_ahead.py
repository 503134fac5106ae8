"""A stream's next page fetched while the current one is stored.

A SIS 50 ms away costs a round trip per page, and storing a page of 5,000 attendance rows costs the
daemon about as long again; one after the other, a first sync's reads take twice their round trips.
Fetching the next page on another thread while this one stores the current overlaps the two and
keeps the requests one after another, as a paged read requires. Nothing is checkpointed ahead: a
page fetched but not stored when a cycle stops is read again, as before.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from typing import TypeVar

Page = TypeVar("Page")


def read_ahead(pages: Iterator[Page]) -> Iterator[Page]:
    """The pages of ``pages`` in order, the next one fetched while the caller works on this one.

    A fetch's exception is raised here, at the page it would have been. The fetching thread runs in
    a copy of the caller's context, so its log lines carry the cycle and stream."""
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sis-read") as fetcher:
        try:
            ahead = fetcher.submit(context.run, _one, pages)
            while fetched := ahead.result():
                ahead = fetcher.submit(context.run, _one, pages)
                yield fetched[0]
        finally:
            if not ahead.cancel():
                ahead.exception()  # the fetch in flight ends before the stream is closed
            close = getattr(pages, "close", None)
            if close is not None:
                close()


def _one(pages: Iterator[Page]) -> list[Page]:
    """The next page, or none at the end."""
    return list(islice(pages, 1))
