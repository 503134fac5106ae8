"""Cases per student and school year (issue 12): a new year's case no longer overwrites last year's.

Existing rows keep their own school year, so each becomes that year's case; the staged copy
(``cases_pending``) gets the same key.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("cases", "cases_pending")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None, recreate="always") as batch_op:
            batch_op.drop_constraint(op.f(f"pk_{table}"), type_="primary")
            batch_op.create_primary_key(op.f(f"pk_{table}"), ["student_id", "school_year"])


def downgrade() -> None:
    """Back to one case per student: only each student's latest year survives."""
    for table in TABLES:
        rows = sa.table(table, sa.column("student_id"), sa.column("school_year"))
        later = rows.alias("later")
        latest = (
            sa.select(sa.func.max(later.c.school_year))
            .where(later.c.student_id == rows.c.student_id)
            .scalar_subquery()
        )
        op.execute(rows.delete().where(rows.c.school_year < latest))
        with op.batch_alter_table(table, schema=None, recreate="always") as batch_op:
            batch_op.drop_constraint(op.f(f"pk_{table}"), type_="primary")
            batch_op.create_primary_key(op.f(f"pk_{table}"), ["student_id"])
