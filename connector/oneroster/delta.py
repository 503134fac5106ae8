"""Delta reads: records changed since a bookmark, with an overlap window and without repeats.

The filter asks for ``dateLastModified`` later than the bookmark minus an overlap, because a
provider's timestamps are not commit order: a record written just before the last read finished can
carry an earlier stamp than one the read already saw. Records read twice in one pass (pages shift
while a provider's data changes under the read, or the overlap re-reads one) are yielded once.
The bookmark only moves forward and is final once every page has been consumed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from truancy.connector.oneroster.client import Page
from truancy.connector.oneroster.query import modified_since_filter

DEFAULT_OVERLAP = timedelta(minutes=10)


class PageSource(Protocol):
    """A OneRoster REST client or a CSV package: both read collections page by page."""

    def iter_pages(self, collection: str, *, filter: str | None = None) -> Iterator[Page]: ...


class DeltaRead:
    """One pass over a collection; ``since=None`` reads it in full (a reconcile)."""

    def __init__(
        self,
        source: PageSource,
        collection: str,
        since: datetime | None,
        *,
        overlap: timedelta = DEFAULT_OVERLAP,
    ) -> None:
        if since is not None and since.tzinfo is None:
            raise ValueError("a delta bookmark must be timezone-aware")
        self.source = source
        self.collection = collection
        self.since = since
        self.overlap = overlap
        self.bookmark = since
        self.records_read = 0
        self.duplicates = 0

    def pages(self) -> Iterator[Page]:
        """Pages with repeats removed; empty pages are skipped."""
        filter_ = None if self.since is None else modified_since_filter(self.since - self.overlap)
        seen: set[str] = set()
        for page in self.source.iter_pages(self.collection, filter=filter_):
            kept: list[dict[str, Any]] = []
            kept_lines: list[int] = []
            for index, record in enumerate(page.records):
                self.records_read += 1
                sourced_id = record.get("sourcedId")
                if isinstance(sourced_id, str):
                    if sourced_id in seen:
                        self.duplicates += 1
                        continue
                    seen.add(sourced_id)
                self._advance(record.get("dateLastModified"))
                kept.append(record)
                if page.lines is not None:
                    kept_lines.append(page.lines[1][index])
            if kept or page.rejected:
                lines = (page.lines[0], tuple(kept_lines)) if page.lines is not None else None
                yield Page(records=kept, offset=page.offset, lines=lines, rejected=page.rejected)

    def _advance(self, stamp: Any) -> None:
        if not isinstance(stamp, str):
            return
        try:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            return
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        if self.bookmark is None or moment > self.bookmark:
            self.bookmark = moment
