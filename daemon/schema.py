"""The state store's tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` create them.

``seen_cycle`` marks the cycle that last read a record from the SIS: after a full pass, what a
full pass did not see was deleted at the source (providers delete outright, without tombstones).

The store keeps what the sync needs and nothing more: canonical ids and SIS keys, enrollment
windows, calendars, every attendance row with the SIS's own code, case state. Never names or
birth dates.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

students = Table(
    "students",
    metadata,
    Column("student_id", String(128), primary_key=True),
    Column("sis_ref", String(128), index=True),
    Column("school_id", String(64)),
    Column("grade", String(16)),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("seen_cycle", Integer, nullable=False),
)

enrollments = Table(
    "enrollments",
    metadata,
    Column("source_id", String(128), primary_key=True),
    Column("student_id", String(128), nullable=False, index=True),
    Column("school_id", String(64), nullable=False),
    Column("begin_date", Date, nullable=False),
    Column("end_date", Date),
    Column("seen_cycle", Integer, nullable=False),
)

calendar_days = Table(
    "calendar_days",
    metadata,
    Column("school_id", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
)

attendance = Table(
    "attendance",
    metadata,
    Column("source_key", String(128), primary_key=True),
    Column("student_id", String(128), nullable=False),
    Column("day", Date, nullable=False),
    # what the row counted as under the map when it was read; evaluation re-reads ``code`` instead
    Column("category", String(16)),
    # the minutes the SIS recorded, kept for whole-day codes too (a remap to part-day needs them)
    Column("minutes_absent", Integer),
    # the SIS's own code, present and unmapped ones included: a new map applies with no re-read
    Column("code", String(255)),
    Column("school_id", String(64)),
    Column("seen_cycle", Integer, nullable=False),
    Index("ix_attendance_student_day", "student_id", "day"),
)

bookmarks = Table(
    "bookmarks",
    metadata,
    Column("stream", String(64), primary_key=True),
    # a plugin's cursor (its own JSON, stored verbatim), a full pass in progress, or a reconcile time
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("stream", String(64), primary_key=True),
    Column("source_key", String(64), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("last_cycle", Integer, nullable=False),
)

unknown_codes = Table(
    "unknown_codes",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("occurrences", Integer, nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
)

cases = Table(
    "cases",
    metadata,
    # one case per student and school year: earlier years' cases are history, kept until purged
    Column("student_id", String(128), primary_key=True),
    Column("school_year", String(16), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("tier", String(64)),
    Column("state", JSON, nullable=False),
    Column("updated_cycle", Integer, nullable=False),
)

cases_pending = Table(
    "cases_pending",
    metadata,
    # a cycle's case changes, held until the retraction guard lets its writes through
    Column("student_id", String(128), primary_key=True),
    Column("school_year", String(16), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("tier", String(64)),
    Column("state", JSON, nullable=False),
    Column("updated_cycle", Integer, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cycle_id", Integer, nullable=False, index=True),
    Column("sync_key", String(64), nullable=False, index=True),
    Column("kind", String(8), nullable=False),
    Column("op", String(8), nullable=False),
    Column("status", String(12), nullable=False, index=True),
    Column("remote_id", String(64)),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    # a journalled write (``pending``): the student's SIS key, and what to send (the write, the row
    # it changes); cleared once the entry is failed, superseded or done, except a done create's
    # write, kept until the read-back sees the row (an officer may have changed it before that)
    Column("sis_ref", String(128)),
    Column("payload", JSON(none_as_null=True)),
)

cycles = Table(
    "cycles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("summary", JSON),
    Column("error_class", String(32)),
    # the mapping files in force (digests in ``mapping_files``): which map decided this cycle
    Column("code_map_digest", String(64)),
    Column("field_map_digest", String(64)),
    Column("policy_digest", String(64)),
)

mapping_files = Table(
    "mapping_files",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("source", Text, nullable=False),
    Column("path", Text),
    Column("version", String(128)),
    Column("first_cycle", Integer, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
)

store_instance = Table(
    "store_instance",
    metadata,
    # random, made once per store; every row the daemon writes to the SIS carries it
    Column("instance_id", String(32), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

adopted_instances = Table(
    "adopted_instances",
    metadata,
    # other stores' instance ids whose SIS rows this store took over (`truancy db adopt`)
    Column("instance_id", String(32), primary_key=True),
    Column("adopted_at", DateTime(timezone=True), nullable=False),
)

sis_rows = Table(
    "sis_rows",
    metadata,
    # the mirror of the SIS's truancy rows, kept by the read-back stream: what each cycle diffs against
    Column("kind", String(8), primary_key=True),
    Column("remote_id", String(255), primary_key=True),
    # the SIS record the row was read from (a table row, an Ed-Fi association): read whole, replaced whole
    Column("record", String(255), nullable=False, index=True),
    Column("sync_key", String(64), index=True),
    Column("sis_ref", String(128), nullable=False, index=True),
    # only what the diff and the officer's work read (the plugin leaves an officer's own text out)
    Column("columns", JSON, nullable=False),
    Column("saved_on", Date),
    # what the row holds and what an officer recorded in it: a change re-evaluates the student
    Column("action", Text, nullable=False),
    # an open daemon row the retraction guard weighs
    Column("retractable", Boolean, nullable=False),
    Column("seen_cycle", Integer, nullable=False),
)

evaluation_due = Table(
    "evaluation_due",
    metadata,
    # students whose records changed since their last evaluation stood: the next cycle evaluates them
    Column("student_id", String(128), primary_key=True),
    Column("cycle_id", Integer, nullable=False),
)


def _evaluation_columns() -> list[Column[Any]]:
    return [
        Column("student_id", String(128), primary_key=True),
        Column("school_year", String(16), nullable=False),
        # what the student adds to a cycle's summary: designations in force (comma-separated ids),
        # an open case, the codes holding it (None: not held), writes without a SIS key
        Column("designations", Text, nullable=False),
        Column("open_case", Boolean, nullable=False),
        Column("held_codes", Text),
        Column("no_sis_ref", Boolean, nullable=False),
        # the first day the case can change with no new data (a share of days passing its
        # threshold, a record dated ahead, an enrollment ending); None: only new data changes it
        Column("wake_on", Date, index=True),
        Column("cycle_id", Integer, nullable=False),
    ]


evaluations = Table("evaluations", metadata, *_evaluation_columns())
evaluations_pending = Table("evaluations_pending", metadata, *_evaluation_columns())
