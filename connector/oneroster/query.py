"""OneRoster ``filter`` expressions and relationship paths, built so a value can never break the query.

The REST binding quotes filter values in single quotes and defines no escape, so a value containing
one cannot be expressed and is refused here rather than sent half-quoted. URL encoding is left to
``requests``, which encodes the whole parameter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

OPERATORS = frozenset({"=", "!=", ">", ">=", "<", "<=", "~"})
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$")


@dataclass(frozen=True, slots=True)
class Predicate:
    """``field op 'value'``; build with :func:`where`."""

    field: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.field}{self.op}'{self.value}'"


def where(field: str, op: str, value: str | datetime) -> Predicate:
    """One predicate; datetimes are written in UTC with milliseconds, as providers expect."""
    if not _FIELD.match(field):
        raise ValueError(f"filter field {field!r} is not a OneRoster field name")
    if op not in OPERATORS:
        raise ValueError(f"filter operator {op!r} is not one of {' '.join(sorted(OPERATORS))}")
    text = _instant(value) if isinstance(value, datetime) else value
    if "'" in text:
        raise ValueError("a OneRoster filter value cannot contain a single quote (the binding has no escape)")
    return Predicate(field, op, text)


def all_of(*predicates: Predicate) -> str:
    return _join(predicates, " AND ")


def any_of(*predicates: Predicate) -> str:
    return _join(predicates, " OR ")


def _join(predicates: Sequence[Predicate], connective: str) -> str:
    if not predicates:
        raise ValueError("a filter needs at least one predicate")
    return connective.join(str(predicate) for predicate in predicates)


def _instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a filter datetime must be timezone-aware")
    utc = moment.astimezone(UTC)
    return f"{utc.strftime('%Y-%m-%dT%H:%M:%S')}.{utc.microsecond // 1000:03d}Z"


def modified_since_filter(moment: datetime) -> str:
    """The delta-sync filter ``dateLastModified>'…'``."""
    return str(where("dateLastModified", ">", moment))
