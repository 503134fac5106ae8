"""GET-many paging as the ODS/API 7.3 does it: offset/limit and cursor (page token) paging.

Facts from Ed-Fi-ODS v7.3.2:

- the page size limit, and default page size, is 500 (``EdFi.Ods.Common/Configuration/ApiSettings.cs:33``;
  ``Providers/Queries/Paging/LimitOffsetPagingStrategy.cs:28``, ``KeySetPagingStrategy.cs:35``);
- the parameter checks and their messages, in order (``Models/Queries/QueryParametersValidator.cs:17-86``);
  ``totalCount`` with a page token is refused
  (``Infrastructure/Repositories/GetEntitiesBySpecification.cs:216``);
- a page token is the unpadded base64url of ``"minAggregateId,maxAggregateId"``; one that does not
  decode is "The page token provided was invalid." (``Infrastructure/Repositories/PagingHelpers.cs:14-70``);
- ``limit=0`` reads no items, only the count when asked (``GetEntitiesBySpecification.cs:186,274``);
- every non-empty page, offset paging included, carries ``Next-Page-Token`` = (last AggregateId + 1,
  the token's max or int.MaxValue) (``GetEntitiesBySpecification.cs:168-170``,
  ``EdFi.Ods.Api/Controllers/DataManagementControllerBase.cs:209-212``);
- ``/partitions``: ``number`` 1..200, default 10
  (``EdFi.Ods.Api/Controllers/Partitions/Controllers/PartitionsController.cs:45-46,95-105``;
  ``ApiSettings.cs:35``); a partition holds at least 5 × 500 rows unless ``allowSmallPartitions=true``, its
  size computed as the PostgreSQL ODS does, integer division then ``GREATEST``
  (``PostgreSqlPartitionsQueryBuilderPartitionsApplicator.cs:29-43``); partitions start at rows
  ``(RowNumber - 1) % size = 0`` in AggregateId order (``PartitionsQueryBuilderProvider.cs:46-51``) and the
  tokens are built by ``PartitionsController.cs:249-290`` (the last open-ended; none when nothing matches).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

from truancy.sandbox.edfi.collections import Stored, start_at

PAGE_LIMIT = 500
INT_MAX = 2**31 - 1
MIN_PARTITIONS, MAX_PARTITIONS, DEFAULT_PARTITIONS = 1, 200, 10
SMALLEST_PARTITION_PAGES = 5


class ParameterError(ValueError):
    """A query parameter the ODS/API refuses, with its message (and the problem's detail)."""

    def __init__(self, message: str, detail: str = "The request construction was invalid.") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


@dataclass(frozen=True, slots=True)
class PageRequest:
    offset: int | None
    limit: int | None
    page_size: int | None
    token_range: tuple[int, int] | None
    total_count: bool


def page_token(low: int, high: int) -> str:
    return base64.urlsafe_b64encode(f"{low},{high}".encode()).decode().rstrip("=")


def token_range(token: str) -> tuple[int, int]:
    padded = token + "=" * (-len(token) % 4)
    try:
        low, _, high = base64.urlsafe_b64decode(padded.encode()).decode().partition(",")
        return int(low), int(high) if high else INT_MAX
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ParameterError("The page token provided was invalid.") from None


def integer(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ParameterError(f"The value '{value}' is not valid for {name}.") from None


def page_request(query: Mapping[str, str]) -> PageRequest:
    """The paging parameters of a GET-many, checked as ``QueryParametersValidator`` checks them."""
    token = query.get("pageToken")
    request = PageRequest(
        offset=integer(query, "offset"),
        limit=integer(query, "limit"),
        page_size=integer(query, "pageSize"),
        token_range=token_range(token) if token is not None else None,
        total_count=query.get("totalCount", "").lower() == "true",
    )
    if request.token_range is not None and request.offset is not None:
        raise ParameterError(
            "Both offset and pageToken parameters were provided, but they support alternative paging "
            "approaches and cannot be used together."
        )
    if request.token_range is None:
        if request.page_size is not None and request.limit is None:
            raise ParameterError(
                "Use limit instead of pageSize when using limit/offset paging."
                if request.offset is not None
                else "PageToken is required when pageSize is specified."
            )
        if request.offset is not None and request.offset < 0:
            raise ParameterError("Offset cannot be a negative value.")
        if request.limit is not None and not 0 <= request.limit <= PAGE_LIMIT:
            raise ParameterError(f"Limit must be a value between 0 and {PAGE_LIMIT}.")
    else:
        if request.limit is not None and request.page_size is None:
            raise ParameterError("Use pageSize instead of limit when using cursor paging with pageToken.")
        if request.page_size is not None and not 0 <= request.page_size <= PAGE_LIMIT:
            raise ParameterError(f"PageSize must be a value between 0 and {PAGE_LIMIT}.")
        if request.total_count:
            raise ParameterError(
                "Total count cannot be determined while using cursor paging (when pageToken is specified)."
            )
    return request


def page_of(selected: list[Stored], request: PageRequest) -> tuple[list[Stored], str | None]:
    """The page's records and its ``Next-Page-Token`` (None on an empty page)."""
    if request.token_range is not None:
        low, high = request.token_range
        size = PAGE_LIMIT if request.page_size is None else request.page_size
        start = start_at(selected, low)
        page = [stored for stored in selected[start : start + size] if stored.aggregate_id <= high]
    elif request.limit == 0:
        return [], None
    else:
        offset = request.offset or 0
        page = selected[offset : offset + (PAGE_LIMIT if request.limit is None else request.limit)]
        high = INT_MAX
    if not page:
        return [], None
    return page, page_token(page[-1].aggregate_id + 1, high)


def partition_number(query: Mapping[str, str]) -> int:
    number = integer(query, "number")
    if number is not None and not MIN_PARTITIONS <= number <= MAX_PARTITIONS:
        raise ParameterError(f"Number of partitions must be between {MIN_PARTITIONS} and {MAX_PARTITIONS}.")
    return DEFAULT_PARTITIONS if number is None else number


def partition_tokens(selected: list[Stored], number: int, *, allow_small: bool) -> list[str]:
    count = len(selected)
    smallest = 1 if allow_small else SMALLEST_PARTITION_PAGES * PAGE_LIMIT
    size = max(count // number, smallest)
    starts = [stored.aggregate_id for index, stored in enumerate(selected) if index % size == 0]
    tokens: list[str] = []
    low: int | None = None
    for aggregate_id in starts:
        if low is None:
            low = aggregate_id
            continue
        if len(tokens) + 1 == number:
            tokens.append(page_token(low, INT_MAX))
            return tokens
        tokens.append(page_token(low, aggregate_id - 1))
        low = aggregate_id
    if low is not None and len(tokens) < number:
        tokens.append(page_token(low, INT_MAX))
    return tokens
