"""Plan start dates (issue 16): the outcomes report measures attendance before and after a plan.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_starts",
        sa.Column("student_id", sa.String(128), nullable=False),
        sa.Column("school_year", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(128), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("student_id", "school_year", "kind", name=op.f("pk_plan_starts")),
    )


def downgrade() -> None:
    op.drop_table("plan_starts")
