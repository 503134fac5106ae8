"""The tables that answer a district's auditor: what was destroyed, what was exported, and what
counts outlive the records they summarise. None of them holds a student id, a name or a SIS key.

Kept apart from ``schema.py`` (same ``metadata``) because they describe the store rather than the
sync; migration 0006 creates them.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, DateTime, Integer, String, Table

from truancy.daemon.schema import metadata

purge_log = Table(
    "purge_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ran_at", DateTime(timezone=True), nullable=False),
    Column("run_by", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("retention_days", Integer, nullable=False),
    Column("cutoff", Date, nullable=False),
    Column("records", Integer, nullable=False),
    Column("files", Integer, nullable=False),
    # the span of the destroyed records' dates (closed on, sent on, ...): dates, never whose
    Column("oldest", Date),
    Column("newest", Date),
)

case_outcomes = Table(
    "case_outcomes",
    metadata,
    # counts of the purged cases, for the outcomes report: the report adds the cases still stored
    Column("school_year", String(16), primary_key=True),
    Column("school_id", String(64), primary_key=True),
    Column("tier", String(64), primary_key=True),
    Column("cases", Integer, nullable=False),
)

access_log = Table(
    "access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("os_user", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    # how many students the export covered: how much left the store, not whose
    Column("students", Integer),
)
