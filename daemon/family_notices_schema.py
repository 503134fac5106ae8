"""Family notices (one letter a household, once a school year: TX § 25.095(a)) and the students
each covers.

A family notice row is frozen when generated, like a student's notice (``notices``): its facts
and letter text never change; only its status moves: ``pending`` (the batch awaits the officer's
approval), ``approved``, ``held`` (no guardian may receive mail) or ``sent``. ``batch_id`` names
the generation batch the officer approves as one; ``print_file`` the print batch it went out in.
A student is covered once per school year and notice type (the primary key of
``family_notice_students``), so no cycle, crash or restore makes a second letter for them.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, DateTime, Index, String, Table, Text

from truancy.daemon.schema import metadata

family_notices = Table(
    "family_notices",
    metadata,
    Column("notice_id", String(40), primary_key=True),
    Column("school_year", String(16), nullable=False),
    Column("notice_type", String(64), nullable=False),
    Column("batch_id", String(96), nullable=False, index=True),
    Column("school_id", String(64)),
    Column("language", String(16), nullable=False),
    Column("wanted_language", String(16), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("facts", JSON, nullable=False),
    Column("letter_text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_on", Date),
    Column("sent_on", Date),
    Column("print_file", Text),
    Column("note", Text),
)

family_notice_students = Table(
    "family_notice_students",
    metadata,
    Column("school_year", String(16), primary_key=True),
    Column("notice_type", String(64), primary_key=True),
    Column("student_id", String(128), primary_key=True),
    Column("notice_id", String(40), nullable=False),
    Column("sis_ref", String(128), nullable=False),
    Index("ix_family_notice_students_notice", "notice_id"),
)
