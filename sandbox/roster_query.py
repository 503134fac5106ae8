"""OneRoster collection queries: ``filter``, ``sort``/``orderBy``, ``fields`` and paging.

Follows the 1.2 REST binding: predicates ``= != > >= < <= ~`` on single-quoted values joined by
`` AND ``/`` OR `` (AND binds tighter), dotted paths into references and role lists, and 400s
naming the unknown field so a client's mistake is obvious.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Record = dict[str, Any]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_DATETIME_FIELDS = frozenset({"dateLastModified"})
_PREDICATE = re.compile(r"^\s*(?P<field>[A-Za-z][\w.]*)\s*(?P<op>!=|>=|<=|=|>|<|~)\s*'(?P<value>[^']*)'\s*$")
_CONNECTIVE = re.compile(r"\s+(AND|OR)\s+(?=(?:[^']*'[^']*')*[^']*$)")
# 1.2 users carry their role inside ``roles[]``; ``role`` is the name clients filter on.
_ALIASES = {"role": "roles.role"}
_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


class QueryError(ValueError):
    """A bad query parameter; ``code_minor`` is the imsx codeMinor the client receives."""

    def __init__(self, code_minor: str, description: str) -> None:
        super().__init__(description)
        self.code_minor = code_minor


def field_paths(records: Iterable[Record]) -> frozenset[str]:
    """Every dotted path present in the records (computed once per distinct record shape)."""
    paths: set[str] = set()
    seen_shapes: set[tuple[str, ...]] = set()
    for record in records:
        shape = tuple(record)
        if shape not in seen_shapes:
            seen_shapes.add(shape)
            paths.update(_paths_of(record, ""))
    return frozenset(paths)


def _paths_of(value: Any, prefix: str) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _paths_of(item, prefix)
    elif isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}{key}"
            yield path
            yield from _paths_of(item, f"{path}.")


def _values_at(value: Any, path: list[str]) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _values_at(item, path)
    elif not path:
        yield value
    elif isinstance(value, dict) and path[0] in value:
        yield from _values_at(value[path[0]], path[1:])


@dataclass(frozen=True, slots=True)
class Predicate:
    path: list[str]
    op: str
    value: Any

    def matches(self, record: Record) -> bool:
        return any(self._compare(candidate) for candidate in _values_at(record, self.path))

    def _compare(self, candidate: Any) -> bool:
        if isinstance(candidate, bool):
            candidate = "true" if candidate else "false"
        if isinstance(self.value, datetime):
            candidate = _parse_datetime(str(candidate))
        if self.op == "~":
            return str(self.value).casefold() in str(candidate).casefold()
        return _COMPARATORS[self.op](candidate, self.value)


Filter = list[list[Predicate]]  # OR of ANDs


def _parse_datetime(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _resolve(name: str, known: frozenset[str]) -> str:
    if name in known:
        return name
    if _ALIASES.get(name) in known:
        return _ALIASES[name]
    raise QueryError("invalid_filter_field", f"filter field {name!r} is not a field of this collection")


def parse_filter(expression: str, known: frozenset[str]) -> Filter:
    parts = _CONNECTIVE.split(expression.strip())
    groups: Filter = [[]]
    for index, part in enumerate(parts):
        if index % 2 == 1:
            if part == "OR":
                groups.append([])
            continue
        match = _PREDICATE.match(part)
        if match is None:
            raise QueryError(
                "invaliddata", f"cannot parse filter predicate {part!r}: expected field<op>'value'"
            )
        path = _resolve(match["field"], known)
        value: Any = match["value"]
        if path.split(".")[-1] in _DATETIME_FIELDS and match["op"] != "~":
            try:
                value = _parse_datetime(value)
            except ValueError as error:
                raise QueryError(
                    "invaliddata", f"filter value for {path} is not an ISO 8601 datetime"
                ) from error
        groups[-1].append(Predicate(path.split("."), match["op"], value))
    return groups


def apply_filter(records: Iterable[Record], groups: Filter) -> list[Record]:
    return [record for record in records if any(all(p.matches(record) for p in group) for group in groups)]


def sort_records(records: list[Record], field: str, order_by: str, known: frozenset[str]) -> list[Record]:
    if field not in known:
        raise QueryError("invalid_sort_field", f"sort field {field!r} is not a field of this collection")
    if order_by not in ("asc", "desc"):
        raise QueryError("invaliddata", f"orderBy must be 'asc' or 'desc', got {order_by!r}")
    path = field.split(".")

    def key(record: Record) -> tuple[bool, str]:
        value = next(_values_at(record, path), None)
        return (value is not None, "" if value is None else str(value))

    return sorted(records, key=key, reverse=order_by == "desc")


def project(records: list[Record], fields: str, known: frozenset[str]) -> list[Record]:
    names = [name.strip() for name in fields.split(",") if name.strip()]
    for name in names:
        if name not in known:
            raise QueryError(
                "invalid_selection_field", f"selection field {name!r} is not a field of this collection"
            )
    return [{name: record[name] for name in names if name in record} for record in records]


def paging(limit: str | None, offset: str | None) -> tuple[int, int]:
    """``limit`` defaults to 100 and is capped at 1000; ``offset`` defaults to 0."""
    try:
        size = DEFAULT_LIMIT if limit is None else int(limit)
        start = 0 if offset is None else int(offset)
    except ValueError as error:
        raise QueryError("invaliddata", "limit and offset must be integers") from error
    if size < 1 or start < 0:
        raise QueryError("invaliddata", "limit must be at least 1 and offset at least 0")
    return min(size, MAX_LIMIT), start
