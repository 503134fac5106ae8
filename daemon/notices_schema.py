"""The notices the daemon generated, their delivery journal, and the guardian contacts they use.

A notice row is frozen when generated (its facts and letter text never change); only its status
moves: ``pending`` (awaiting the officer), ``approved``, ``held``, ``cancelled`` or ``sent``.
A delivery row is written *before* a message is handed to the SMTP server (state ``sending``, with
the Message-ID it will carry) and marked ``sent`` once accepted, so no cycle sends it twice.
Guardian contacts are kept only for students with a case or a notice due, and purged with them.
Migration 0007 creates the tables.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Index, String, Table, Text

from truancy.daemon.schema import metadata

notices = Table(
    "notices",
    metadata,
    Column("notice_id", String(40), primary_key=True),
    Column("student_id", String(128), nullable=False, index=True),
    Column("sis_ref", String(128), nullable=False),
    Column("school_year", String(16), nullable=False),
    Column("school_id", String(64)),
    Column("notice_type", String(64), nullable=False),
    Column("trigger_on", Date, nullable=False),
    Column("language", String(16), nullable=False),
    Column("wanted_language", String(16), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("facts", JSON, nullable=False),
    Column("letter_text", Text, nullable=False),
    Column("pdf_path", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_on", Date),
    Column("sent_on", Date),
    Column("note", Text),
)

notice_deliveries = Table(
    "notice_deliveries",
    metadata,
    Column("notice_id", String(40), primary_key=True),
    Column("recipient", String(128), primary_key=True),
    Column("channel", String(8), primary_key=True),
    Column("state", String(8), nullable=False),
    Column("message_id", String(255)),
    Column("batch_id", String(64)),
    Column("accepted_at", DateTime(timezone=True)),
    Column("student_id", String(128), nullable=False),
    Index("ix_notice_deliveries_student", "student_id"),
)

guardian_contacts = Table(
    "guardian_contacts",
    metadata,
    Column("student_id", String(128), primary_key=True),
    Column("contact_id", String(128), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("relationship", String(64), nullable=False),
    Column("receives_mail", Boolean, nullable=False),
    Column("contact_restriction", String(255), nullable=False),
    Column("address", JSON, nullable=False),
    Column("email", String(255), nullable=False),
    Column("phone", String(64), nullable=False),
    Column("language", String(16), nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=False),
)
