"""OneRoster 1.2 Rostering REST reads: limit/offset paging that ends correctly on any provider.

Providers differ in what they send: ``X-Total-Count``, an RFC 5988 ``Link`` header, both, or neither,
and some ignore ``offset`` entirely. The paginator trusts a ``next`` link first, then the total, then
a short or empty page, and stops when a page starts with the same record as the one before it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from truancy.connector.errors import ProtocolError
from truancy.connector.http import HttpSession
from truancy.connector.redaction import path_template

logger = logging.getLogger("truancy.connector.oneroster")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of raw records and the position of its first record in the collection."""

    records: list[dict[str, Any]]
    offset: int


def modified_since_filter(ts: datetime) -> str:
    """The delta-sync filter ``dateLastModified>'…'`` in UTC with milliseconds, as providers expect."""
    if ts.tzinfo is None:
        raise ValueError("modified_since_filter needs a timezone-aware datetime")
    utc = ts.astimezone(UTC)
    return f"dateLastModified>'{utc.strftime('%Y-%m-%dT%H:%M:%S')}.{utc.microsecond // 1000:03d}Z'"


class OneRosterClient:
    """Reads collections from a OneRoster service root (``…/ims/oneroster/rostering/v1p2``)."""

    def __init__(self, session: HttpSession, *, page_size: int = 500) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.session = session
        self.page_size = page_size

    def iter_pages(
        self,
        collection: str,
        *,
        filter: str | None = None,
        fields: Sequence[str] | None = None,
        sort: str | None = None,
    ) -> Iterator[Page]:
        """Yield the non-empty pages of ``collection`` in order, fetching each only when asked for."""
        params: dict[str, str | int] = {"limit": self.page_size, "offset": 0}
        if filter:
            params["filter"] = filter
        if fields:
            params["fields"] = ",".join(fields)
        if sort:
            params["sort"] = sort
        target: str = collection
        query: dict[str, str | int] | None = params
        offset = 0
        previous_first: str | None = None
        while True:
            response = self.session.get(target, params=query)
            records = _records(response, collection)
            if not records:
                return
            first = records[0].get("sourcedId")
            if previous_first is not None and first == previous_first:
                logger.warning(
                    "%s repeated the previous page; the server ignores offset, stopping",
                    path_template(response.url),
                )
                return
            yield Page(records=records, offset=offset)
            offset += len(records)
            previous_first = first if isinstance(first, str) else None
            next_url = _next_link(response)
            if next_url is not None:
                target, query = next_url, None
            elif _has_more(response, offset, len(records), self.page_size):
                target, query = collection, {**params, "offset": offset}
            else:
                return


def _next_link(response: requests.Response) -> str | None:
    link = response.links.get("next")
    url = link.get("url") if link else None
    return url or None


def _has_more(response: requests.Response, offset: int, page_length: int, page_size: int) -> bool:
    """Without a next link: trust the total if given; a Link header without next means done."""
    total = response.headers.get("X-Total-Count")
    if total is not None:
        try:
            return offset < int(total)
        except ValueError:
            raise ProtocolError(
                f"OneRoster {path_template(response.url)}: X-Total-Count is not an integer"
            ) from None
    if response.headers.get("Link"):
        return False
    return page_length >= page_size


def _records(response: requests.Response, collection: str) -> list[dict[str, Any]]:
    """The record array of a collection envelope, whatever the envelope key is called.

    The key is not always the collection's name: ``/schools`` answers ``{"orgs": [...]}`` and
    ``/students`` answers ``{"users": [...]}``.
    """
    endpoint = path_template(response.url)
    try:
        payload = response.json()
    except ValueError:
        raise ProtocolError(f"OneRoster {endpoint}: response is not JSON") from None
    if not isinstance(payload, dict):
        raise ProtocolError(f"OneRoster {endpoint}: response is not a JSON object")
    arrays = {key: value for key, value in payload.items() if isinstance(value, list)}
    if collection in arrays:
        records = arrays[collection]
    elif len(arrays) == 1:
        records = next(iter(arrays.values()))
    else:
        keys = ", ".join(sorted(arrays)) or "none"
        raise ProtocolError(
            f"OneRoster {endpoint}: cannot tell which array holds the records (arrays: {keys})"
        )
    if not all(isinstance(record, dict) for record in records):
        raise ProtocolError(f"OneRoster {endpoint}: the record array holds something other than objects")
    return records
