"""attendance keeps every row's raw SIS code (present and unmapped ones too); staged case changes

Revision ID: 0004
Revises: 0003

The attendance bookmark is dropped so the next cycle reads the year once in full: rows the old
store skipped (present days, unmapped codes) come in with their codes, after which a code-map
change applies from the store. The code-quarantine and unknown-code tables it replaces are
recomputed from the store by every evaluation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CODE_REASONS = ("attendance code %", "descriptor %", "partial-day %")


def upgrade() -> None:
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.alter_column("category", existing_type=sa.String(length=16), nullable=True)
        batch_op.alter_column("code", existing_type=sa.String(length=32), type_=sa.String(length=255))
    op.create_table(
        "cases_pending",
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("school_year", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=64), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_cycle", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("student_id", name=op.f("pk_cases_pending")),
    )
    op.execute(sa.text("DELETE FROM bookmarks WHERE stream = 'attendance'"))
    op.execute(sa.text("DELETE FROM unknown_codes"))
    for reason in CODE_REASONS:
        op.execute(
            sa.text("DELETE FROM quarantine WHERE stream = 'attendance' AND reason LIKE :reason").bindparams(
                reason=reason
            )
        )


def downgrade() -> None:
    op.drop_table("cases_pending")
    op.execute(sa.text("DELETE FROM attendance WHERE category IS NULL OR category = 'present'"))
    op.execute(sa.text("DELETE FROM bookmarks WHERE stream = 'attendance'"))
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.alter_column("code", existing_type=sa.String(length=255), type_=sa.String(length=32))
        batch_op.alter_column("category", existing_type=sa.String(length=16), nullable=False)
