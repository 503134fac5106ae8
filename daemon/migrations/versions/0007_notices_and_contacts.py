"""family notices: notices, their delivery journal, guardian contacts

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("notice_id", sa.String(length=40), nullable=False),
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("sis_ref", sa.String(length=128), nullable=False),
        sa.Column("school_year", sa.String(length=16), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=True),
        sa.Column("notice_type", sa.String(length=64), nullable=False),
        sa.Column("trigger_on", sa.Date(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("wanted_language", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("letter_text", sa.Text(), nullable=False),
        sa.Column("pdf_path", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("sent_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_notices")),
    )
    op.create_index(op.f("ix_notices_student_id"), "notices", ["student_id"])
    op.create_index(op.f("ix_notices_status"), "notices", ["status"])
    op.create_table(
        "notice_deliveries",
        sa.Column("notice_id", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("notice_id", "recipient", "channel", name=op.f("pk_notice_deliveries")),
    )
    op.create_index("ix_notice_deliveries_student", "notice_deliveries", ["student_id"])
    op.create_table(
        "guardian_contacts",
        sa.Column("student_id", sa.String(length=128), nullable=False),
        sa.Column("contact_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("relationship", sa.String(length=64), nullable=False),
        sa.Column("receives_mail", sa.Boolean(), nullable=False),
        sa.Column("contact_restriction", sa.String(length=255), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("student_id", "contact_id", name=op.f("pk_guardian_contacts")),
    )


def downgrade() -> None:
    op.drop_table("guardian_contacts")
    op.drop_index("ix_notice_deliveries_student", table_name="notice_deliveries")
    op.drop_table("notice_deliveries")
    op.drop_index(op.f("ix_notices_status"), table_name="notices")
    op.drop_index(op.f("ix_notices_student_id"), table_name="notices")
    op.drop_table("notices")
