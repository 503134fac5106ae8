"""Family notices (issue 14): one letter a household once a school year (TX § 25.095(a)) and the
students each covers; each school's language shares as last measured (Cal. Educ. Code § 48985).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "family_notices",
        sa.Column("notice_id", sa.String(40), nullable=False),
        sa.Column("school_year", sa.String(16), nullable=False),
        sa.Column("notice_type", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(96), nullable=False),
        sa.Column("school_id", sa.String(64)),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("wanted_language", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("letter_text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_on", sa.Date()),
        sa.Column("sent_on", sa.Date()),
        sa.Column("print_file", sa.Text()),
        sa.Column("note", sa.Text()),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_family_notices")),
    )
    op.create_index(op.f("ix_family_notices_batch_id"), "family_notices", ["batch_id"])
    op.create_index(op.f("ix_family_notices_status"), "family_notices", ["status"])
    op.create_table(
        "family_notice_students",
        sa.Column("school_year", sa.String(16), nullable=False),
        sa.Column("notice_type", sa.String(64), nullable=False),
        sa.Column("student_id", sa.String(128), nullable=False),
        sa.Column("notice_id", sa.String(40), nullable=False),
        sa.Column("sis_ref", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint(
            "school_year", "notice_type", "student_id", name=op.f("pk_family_notice_students")
        ),
    )
    op.create_index("ix_family_notice_students_notice", "family_notice_students", ["notice_id"])
    op.create_table(
        "school_languages",
        sa.Column("school_year", sa.String(16), nullable=False),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("students", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("school_year", "school_id", "language", name=op.f("pk_school_languages")),
    )


def downgrade() -> None:
    op.drop_table("school_languages")
    op.drop_table("family_notice_students")
    op.drop_table("family_notices")
