"""retention and access records: purge log, counts of purged cases, access log; dry-run plans leave the store

Revision ID: 0006
Revises: 0005

A dry run's per-student plans (SIS keys with designations) were kept in ``cycles.summary`` for
ever; they are printed, not needed afterwards, so the ones already stored are removed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purge_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_by", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("cutoff", sa.Date(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("oldest", sa.Date(), nullable=True),
        sa.Column("newest", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_log")),
    )
    op.create_table(
        "case_outcomes",
        sa.Column("school_year", sa.String(length=16), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.String(length=64), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("school_year", "school_id", "tier", name=op.f("pk_case_outcomes")),
    )
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("os_user", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("students", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    _drop_stored_student_plans()


def _drop_stored_student_plans() -> None:
    cycles = sa.table("cycles", sa.column("id", sa.Integer()), sa.column("summary", sa.JSON()))
    connection = op.get_bind()
    for cycle_id, summary in connection.execute(sa.select(cycles.c.id, cycles.c.summary)).all():
        if isinstance(summary, dict) and "student_plans" in summary:
            kept = {key: value for key, value in summary.items() if key != "student_plans"}
            connection.execute(sa.update(cycles).where(cycles.c.id == cycle_id).values(summary=kept))


def downgrade() -> None:
    op.drop_table("access_log")
    op.drop_table("case_outcomes")
    op.drop_table("purge_log")
