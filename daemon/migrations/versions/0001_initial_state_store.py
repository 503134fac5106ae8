"""initial state store

Revision ID: 0001
Revises: none
Create Date: 2026-11-29 05:19:24.204501
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attendance",
        sa.Column("source_key", sa.String(length=128), nullable=False),
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("minutes_absent", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("school_id", sa.String(length=64), nullable=True),
        sa.Column("seen_cycle", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source_key", name=op.f("pk_attendance")),
    )
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.create_index("ix_attendance_student_day", ["student_id", "day"], unique=False)

    op.create_table(
        "bookmarks",
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("stream", name=op.f("pk_bookmarks")),
    )
    op.create_table(
        "calendar_days",
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("school_id", "day", name=op.f("pk_calendar_days")),
    )
    op.create_table(
        "cases",
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("school_year", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=64), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_cycle", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("student_id", name=op.f("pk_cases")),
    )
    op.create_table(
        "cycles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("error_class", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycles")),
    )
    op.create_table(
        "enrollments",
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("begin_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("seen_cycle", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_enrollments")),
    )
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrollments_student_id"), ["student_id"], unique=False)

    op.create_table(
        "mapping_files",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("first_cycle", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_mapping_files")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("sync_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_sync_key"), ["sync_key"], unique=False)

    op.create_table(
        "quarantine",
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_cycle", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("stream", "source_key", name=op.f("pk_quarantine")),
    )
    op.create_table(
        "students",
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("sis_ref", sa.String(length=128), nullable=True),
        sa.Column("school_id", sa.String(length=64), nullable=True),
        sa.Column("grade", sa.String(length=16), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seen_cycle", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("student_id", name=op.f("pk_students")),
    )
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_students_sis_ref"), ["sis_ref"], unique=False)

    op.create_table(
        "unknown_codes",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_unknown_codes")),
    )


def downgrade() -> None:
    op.drop_table("unknown_codes")
    with op.batch_alter_table("students", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_students_sis_ref"))

    op.drop_table("students")
    op.drop_table("quarantine")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_sync_key"))
        batch_op.drop_index(batch_op.f("ix_outbox_status"))
        batch_op.drop_index(batch_op.f("ix_outbox_cycle_id"))

    op.drop_table("outbox")
    op.drop_table("mapping_files")
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrollments_student_id"))

    op.drop_table("enrollments")
    op.drop_table("cycles")
    op.drop_table("cases")
    op.drop_table("calendar_days")
    op.drop_table("bookmarks")
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_student_day")

    op.drop_table("attendance")
