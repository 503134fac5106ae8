"""PowerSchool database-extension tables (``U_TRUANCY_*``), held in memory.

Values are stored and returned as strings, as PowerSchool does. Writes are validated the way the
SIS validates them: unknown or read-only columns and unknown students are refused with a message
naming the problem, and nothing is half-written.
"""

from __future__ import annotations

import fnmatch
import operator
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "u_truancy_flags": (
        "studentsdcid", "sync_key", "flag_type", "label", "citation", "status", "since_date", "detail",
        "tier", "dismissed_reason", "dismissed_date", "dismissed_by", "writer", "officer",
    ),
    "u_truancy_notes": (
        "studentsdcid", "sync_key", "note_date", "category", "author", "note_text", "writer",
    ),
    "u_truancy_tasks": (
        "studentsdcid", "sync_key", "task_type", "title", "due_date", "status", "outcome",
        "completed_date", "completed_by", "outcome_options", "citation", "detail", "writer", "officer",
        "task_kind",
    ),
    # the log of family letters: a one-to-many child of Students like the others (keyed by
    # STUDENTSDCID, String columns of at most 4000 characters, as every table here)
    "u_truancy_notices": (
        "studentsdcid", "sync_key", "notice_type", "citation", "trigger_event", "languages",
        "generated_date", "sent_date", "channel", "evidence", "status", "status_reason", "letter_text",
        "writer", "officer",
    ),
    "u_truancy_conferences": (
        "studentsdcid", "meeting", "starts_at", "place", "outcome", "held_date", "attendees",
        "interpreter", "agreed", "attempts", "recorded_by",
    ),
    "u_truancy_plans": (
        "studentsdcid", "form", "start_date", "review_date", "end_date", "goals", "supports",
        "responsible", "target_rate", "signed_school", "signed_parent", "signed_student", "recorded_by",
        "progress",
    ),
    "u_truancy_referrals": (
        "studentsdcid", "partner", "service", "status", "made_date", "status_date", "recorded_by",
    ),
    "u_truancy_circumstances": ("studentsdcid", "kind", "recorded_date", "recorded_by"),
    "u_truancy_packets": (
        "studentsdcid", "kind", "requested_date", "requested_by", "status", "file_name", "built_date",
        "detail",
    ),
    # an independent table, PowerSchool's "Independent table (not linked to a PowerSchool table)"
    # (ps.powerschool-docs.com/pssis-admin/latest/database-extensions): no parent, no STUDENTSDCID.
    # It holds the district's published outcome figures.
    "u_truancy_figures": (
        "sync_key", "school_year", "as_of", "section", "subject", "detail", "measure", "figure_value",
        "writer",
    ),
}  # fmt: skip
STANDALONE_TABLES = frozenset({"u_truancy_figures"})
"""Independent tables: PowerSchool ties their rows to no core table, so no student is checked."""
AUDIT_COLUMNS = ("id", "whencreated", "whenmodified", "whocreated", "whomodified")
MAX_TEXT_LENGTH = 4000
_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "=gt=": operator.gt,
    "=ge=": operator.ge,
    "=lt=": operator.lt,
    "=le=": operator.le,
}
_Q_TERM = re.compile(r"^(?P<column>\w+)(?P<op>==|!=|=gt=|=ge=|=lt=|=le=)(?P<value>.*)$")


class TableError(ValueError):
    """A request the SIS refuses (HTTP 400); the message names the table, column or value."""


@dataclass(frozen=True, slots=True)
class Condition:
    column: str
    op: str
    value: str

    def matches(self, row: Mapping[str, str]) -> bool:
        actual = row.get(self.column, "")
        if self.op == "==":
            return fnmatch.fnmatchcase(actual, self.value) if "*" in self.value else actual == self.value
        if self.op == "!=":
            return actual != self.value
        left, right = _comparable(actual), _comparable(self.value)
        if type(left) is not type(right):
            left, right = str(left), str(right)
        return _ORDERINGS[self.op](left, right)


def _comparable(value: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def table_name(raw: str) -> str:
    name = raw.lower()
    if name not in TABLE_COLUMNS:
        raise KeyError(raw)
    return name


def parse_q(table: str, expression: str | None) -> list[Condition]:
    """PowerSchool's ``q``: ``col==value`` terms (``*`` wildcards in ``==``) joined by ``;`` (AND)."""
    if not expression:
        return []
    known = set(TABLE_COLUMNS[table]) | set(AUDIT_COLUMNS)
    conditions = []
    for term in expression.split(";"):
        match = _Q_TERM.match(term.strip())
        if match is None:
            raise TableError(
                f"cannot parse q term {term!r}: expected column==value, !=, =gt=, =ge=, =lt= or =le="
            )
        column = match["column"].lower()
        if column not in known:
            raise TableError(f"q names unknown column {match['column']!r} of table {table.upper()}")
        conditions.append(Condition(column, match["op"], match["value"]))
    return conditions


class ExtensionTables:
    """The truancy tables; ids are shared across tables and never reused. Thread-safe."""

    def __init__(self, student_exists: Callable[[int], bool]) -> None:
        self._student_exists = student_exists
        self._rows: dict[str, dict[int, dict[str, str]]] = {name: {} for name in TABLE_COLUMNS}
        self._next_id = 1
        self._lock = threading.Lock()

    def select(self, table: str, conditions: list[Condition]) -> list[dict[str, str]]:
        with self._lock:
            rows = [dict(row) for row in self._rows[table].values()]
        return [row for row in rows if all(condition.matches(row) for condition in conditions)]

    def get(self, table: str, row_id: int) -> dict[str, str]:
        with self._lock:
            return dict(self._rows[table][row_id])

    def insert(self, table: str, columns: Mapping[str, Any], who: str) -> int:
        values = self._validated(table, columns, require_student=table not in STANDALONE_TABLES)
        now = _now()
        with self._lock:
            row_id = self._next_id
            self._next_id += 1
            audit = {"whencreated": now, "whenmodified": now, "whocreated": who, "whomodified": who}
            filled = {column: value for column, value in values.items() if value != ""}
            self._rows[table][row_id] = {"id": str(row_id), **filled, **audit}
        return row_id

    def update(self, table: str, row_id: int, columns: Mapping[str, Any], who: str) -> None:
        values = self._validated(table, columns, require_student=False)
        with self._lock:
            row = self._rows[table][row_id]
            for column, value in values.items():
                if value == "":
                    row.pop(column, None)
                else:
                    row[column] = value
            row.update({"whenmodified": _now(), "whomodified": who})

    def delete(self, table: str, row_id: int) -> None:
        with self._lock:
            del self._rows[table][row_id]

    def _validated(self, table: str, columns: Mapping[str, Any], *, require_student: bool) -> dict[str, str]:
        allowed = TABLE_COLUMNS[table]
        values: dict[str, str] = {}
        for raw_column, raw_value in columns.items():
            column = raw_column.lower()
            if column in AUDIT_COLUMNS:
                raise TableError(f"column {raw_column!r} of table {table.upper()} is read-only")
            if column not in allowed:
                raise TableError(f"unknown column {raw_column!r} for table {table.upper()}")
            if isinstance(raw_value, (dict, list)):
                raise TableError(f"column {raw_column!r} must be a scalar value")
            value = (
                ""
                if raw_value is None
                else str(raw_value).lower()
                if isinstance(raw_value, bool)
                else str(raw_value)
            )
            if len(value) > MAX_TEXT_LENGTH:
                raise TableError(f"column {raw_column!r} is longer than {MAX_TEXT_LENGTH} characters")
            values[column] = value
        if "studentsdcid" in values or require_student:
            self._check_student(table, values.get("studentsdcid", ""))
        return values

    def _check_student(self, table: str, studentsdcid: str) -> None:
        if not studentsdcid:
            raise TableError(f"column 'studentsdcid' is required for table {table.upper()}")
        if not studentsdcid.isdigit() or not self._student_exists(int(studentsdcid)):
            raise TableError(f"studentsdcid in table {table.upper()} does not match any student")


def _as_text(value: Any) -> str:
    """PowerSchool's string form: null clears a column, booleans are lower case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _now() -> str:
    return datetime.now().replace(microsecond=0).isoformat()
