"""A mirror of the SIS's truancy rows, students due for evaluation, and planned writes (issues 12, 13).

A cycle reads back only the truancy rows changed since the last one and keeps the rest in
``sis_rows``; it evaluates only the students in ``evaluation_due`` (or whose ``evaluations.wake_on``
has come) and journals its plan in the outbox (``planned``, with ``payload``) before any write.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

EVALUATION_TABLES = ("evaluations", "evaluations_pending")


def upgrade() -> None:
    op.create_table(
        "sis_rows",
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("remote_id", sa.String(255), nullable=False),
        sa.Column("record", sa.String(255), nullable=False),
        sa.Column("sync_key", sa.String(64)),
        sa.Column("sis_ref", sa.String(128), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("saved_on", sa.Date()),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("retractable", sa.Boolean(), nullable=False),
        sa.Column("seen_cycle", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "remote_id", name=op.f("pk_sis_rows")),
    )
    for column in ("record", "sync_key", "sis_ref"):
        op.create_index(op.f(f"ix_sis_rows_{column}"), "sis_rows", [column])
    op.create_table(
        "evaluation_due",
        sa.Column("student_id", sa.String(128), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("student_id", name=op.f("pk_evaluation_due")),
    )
    for table in EVALUATION_TABLES:
        op.create_table(
            table,
            sa.Column("student_id", sa.String(128), nullable=False),
            sa.Column("school_year", sa.String(16), nullable=False),
            sa.Column("designations", sa.Text(), nullable=False),
            sa.Column("open_case", sa.Boolean(), nullable=False),
            sa.Column("held_codes", sa.Text()),
            sa.Column("no_sis_ref", sa.Boolean(), nullable=False),
            sa.Column("wake_on", sa.Date()),
            sa.Column("cycle_id", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("student_id", name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_wake_on"), table, ["wake_on"])
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sis_ref", sa.String(128)))
        batch_op.add_column(sa.Column("payload", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("payload")
        batch_op.drop_column("sis_ref")
    for table in EVALUATION_TABLES:
        op.drop_index(op.f(f"ix_{table}_wake_on"), table_name=table)
        op.drop_table(table)
    op.drop_table("evaluation_due")
    for column in ("record", "sync_key", "sis_ref"):
        op.drop_index(op.f(f"ix_sis_rows_{column}"), table_name="sis_rows")
    op.drop_table("sis_rows")
