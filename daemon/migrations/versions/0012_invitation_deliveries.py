"""Conference invitations' delivery journal (issue 15): sent once across crashes, by email or in the
day's print batch, with the language the family asked for.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invitation_deliveries",
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("household", sa.String(128), nullable=False),
        sa.Column("student_id", sa.String(128), nullable=False),
        sa.Column("sis_ref", sa.String(128), nullable=False),
        sa.Column("school_id", sa.String(64)),
        sa.Column("school_year", sa.String(16), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("wanted_language", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(255)),
        sa.Column("batch_id", sa.String(64)),
        sa.Column("pdf_path", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "record_id", "purpose", "channel", "household", name=op.f("pk_invitation_deliveries")
        ),
    )
    op.create_index("ix_invitation_deliveries_student", "invitation_deliveries", ["student_id"])


def downgrade() -> None:
    op.drop_index("ix_invitation_deliveries_student", table_name="invitation_deliveries")
    op.drop_table("invitation_deliveries")
