"""OneRoster 1.1 and 1.2 Rostering REST reads: limit/offset paging that ends correctly on any provider.

Providers differ in what they send: ``X-Total-Count``, an RFC 5988 ``Link`` header, both, or neither,
and some ignore ``offset`` entirely. The paginator trusts a ``next`` link first, then the total, then
a short or empty page, and stops when a page starts with the same record as the one before it.

Some providers cannot filter on every field (``dateLastModified`` above all); when one answers
``invalid_filter_field`` the collection is read in full instead, and the log says so once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from truancy.connector.error_summary import summarise_error
from truancy.connector.errors import HttpStatusError, ProtocolError
from truancy.connector.http import HttpSession
from truancy.connector.imsx import parse_imsx
from truancy.connector.redaction import path_template

logger = logging.getLogger("truancy.connector.oneroster")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of raw records and the position of its first record in the collection.

    ``lines`` is set when the records come from a CSV file: the file name and each record's line;
    ``rejected`` holds (location, reason) of CSV rows that could not even be shaped into a record.
    """

    records: list[dict[str, Any]]
    offset: int
    lines: tuple[str, tuple[int, ...]] | None = None
    rejected: list[tuple[str, str]] = field(default_factory=list)

    def locate(self, index: int) -> str:
        """Where the page's ``index``-th record came from, for a quarantine entry (never its values)."""
        if self.lines is not None:
            name, numbers = self.lines
            return f"{name} line {numbers[index]}"
        return f"offset {self.offset + index}"


UNFILTERABLE = frozenset({"invalid_filter_field", "invalid_selection_field"})


class OneRosterClient:
    """Reads collections from a service root (``…/ims/oneroster/v1p1`` or ``…/rostering/v1p2``)."""

    def __init__(self, session: HttpSession, *, page_size: int = 500) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.session = session
        self.page_size = page_size
        self._unfilterable: set[str] = set()

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
        if collection in self._unfilterable:
            params.pop("filter", None)
            params.pop("fields", None)
        target: str = collection
        query: dict[str, str | int] | None = params
        offset = 0
        previous_first: str | None = None
        while True:
            response = self.session.get(target, params=query, expected=(200, 400))
            if response.status_code == 400:
                if offset == 0 and self._cannot_filter(collection, response, params):
                    yield from self.iter_pages(collection, sort=sort)
                    return
                raise _refused(self.session.name, response)
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

    def _cannot_filter(self, collection: str, response: requests.Response, params: dict[str, Any]) -> bool:
        """True (and said once) when the server cannot apply our filter or field selection."""
        if "filter" not in params and "fields" not in params:
            return False
        status = parse_imsx(_json_or_none(response))
        if status is None or (status.code_minor or "").lower() not in UNFILTERABLE:
            return False
        if collection not in self._unfilterable:
            self._unfilterable.add(collection)
            logger.warning(
                "%s cannot filter %s (%s); reading it in full from now on",
                self.session.name,
                collection,
                status.code_minor,
            )
        return True


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _refused(name: str, response: requests.Response) -> HttpStatusError:
    summary = summarise_error(response)
    detail = f"400 {summary}" if summary else "400"
    endpoint = f"GET {path_template(response.url)}"
    return HttpStatusError(f"{name}: {endpoint} failed ({detail})", status=400, summary=summary)


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
