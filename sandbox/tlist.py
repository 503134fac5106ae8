"""PowerSchool's ``~[tlist_sql;SELECT ...]row template[/tlist_sql]`` tag, run the way the SIS runs it.

PowerSchool expands the tag on the server while it renders a page for the signed-in user: the
SELECT runs against the SIS database and the template is repeated once per row, each ``~(alias)``
(optionally ``~(alias;html)`` or ``~(alias;json)``) replaced by that row's column. A plugin page
uses it to show student names that never leave the SIS through its API.

The sandbox runs the SELECT on an in-memory SQLite copy of the tables a plugin page reads
(STUDENTS, SCHOOLS, USERS and the U_TRUANCY tables), built for each page, so the query is plain SQL that
Oracle and SQLite read alike.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Mapping
from functools import partial
from html import escape

from truancy.sandbox.extension_tables import TABLE_COLUMNS, ExtensionTables
from truancy.sandbox.model import District
from truancy.sandbox.staff import STAFF

_BLOCK = re.compile(r"~\[tlist_sql;(?P<sql>[^\]]*)\](?P<template>.*?)\[/tlist_sql\]", re.DOTALL)
_FIELD = re.compile(r"~\((?P<name>\w+)(?:;(?P<modifier>\w+))?\)")
_MODIFIERS: Mapping[str, Callable[[str], str]] = {
    "": lambda value: value,
    "html": lambda value: escape(value),
    "json": lambda value: json.dumps(value, ensure_ascii=False)[1:-1],
}
_NUMBERS = frozenset({"id", "studentsdcid"})
_GRADE_LEVEL = {"KG": 0, "K": 0}
"""PowerSchool's STUDENTS.GRADE_LEVEL is a number: kindergarten is 0."""


def expand(text: str, district: District, tables: ExtensionTables) -> str:
    """``text`` with every tlist_sql block replaced by its rows (an empty result: nothing)."""
    if "~[tlist_sql;" not in text:
        return text
    database = _database(district, tables)
    try:
        return _BLOCK.sub(lambda block: _rows(database, block["sql"], block["template"]), text)
    finally:
        database.close()


def _rows(database: sqlite3.Connection, sql: str, template: str) -> str:
    """The template once per row; a query or modifier the SIS refuses shows its error instead."""
    unknown = sorted(
        {m["modifier"].lower() for m in _FIELD.finditer(template) if m["modifier"]} - set(_MODIFIERS)
    )
    if unknown:
        return escape(f"tlist_sql error: unknown modifier {unknown[0]!r}")
    try:
        cursor = database.execute(sql)
    except sqlite3.Error as error:
        return escape(f"tlist_sql error: {error}")
    names = [column[0].lower() for column in cursor.description or ()]
    out: list[str] = []
    for row in cursor.fetchall():
        values = {name: "" if value is None else str(value) for name, value in zip(names, row, strict=True)}
        out.append(_FIELD.sub(partial(_field, values=values), template))
    return "".join(out)


def _field(field: re.Match[str], values: Mapping[str, str]) -> str:
    name, modifier = field["name"].lower(), (field["modifier"] or "").lower()
    return _MODIFIERS[modifier](values[name]) if name in values else field[0]


def _database(district: District, tables: ExtensionTables) -> sqlite3.Connection:
    database = sqlite3.connect(":memory:")
    database.execute(
        "CREATE TABLE STUDENTS (ID INTEGER, DCID INTEGER, STUDENT_NUMBER TEXT, FIRST_NAME TEXT, "
        "LAST_NAME TEXT, LASTFIRST TEXT, GRADE_LEVEL INTEGER, SCHOOLID INTEGER)"
    )
    database.executemany(
        "INSERT INTO STUDENTS VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                s.dcid,
                s.dcid,
                s.student_number,
                s.given_name,
                s.family_name,
                f"{s.family_name}, {s.given_name}",
                _GRADE_LEVEL.get(s.grade, int(s.grade) if s.grade.isdigit() else None),
                s.schoolid,
            )
            for s in district.students
        ],
    )
    database.execute("CREATE TABLE USERS (DCID INTEGER, LOGINID TEXT, LASTFIRST TEXT)")
    database.executemany(
        "INSERT INTO USERS VALUES (?, ?, ?)", [(user.dcid, user.username, user.lastfirst) for user in STAFF]
    )
    database.execute("CREATE TABLE SCHOOLS (SCHOOL_NUMBER INTEGER, NAME TEXT)")
    database.executemany(
        "INSERT INTO SCHOOLS VALUES (?, ?)", [(school.schoolid, school.name) for school in district.schools]
    )
    for table, columns in TABLE_COLUMNS.items():
        names = ("id", *columns)
        declared = ", ".join(f"{n.upper()} INTEGER" if n in _NUMBERS else f"{n.upper()} TEXT" for n in names)
        database.execute(f"CREATE TABLE {table.upper()} ({declared})")
        placeholders = ", ".join("?" for _ in names)
        database.executemany(
            f"INSERT INTO {table.upper()} VALUES ({placeholders})",  # noqa: S608 - names are our own
            [tuple(row.get(name) for name in names) for row in tables.select(table, [])],
        )
    return database
