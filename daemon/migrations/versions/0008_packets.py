"""Packets built (issue 15): where each SARB, court or SAIC packet was written, for retention.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "packets",
        sa.Column("packet_id", sa.String(40), nullable=False),
        sa.Column("student_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("built_on", sa.Date(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("requested_in", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("packet_id", name=op.f("pk_packets")),
    )
    op.create_index(op.f("ix_packets_student_id"), "packets", ["student_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_packets_student_id"), table_name="packets")
    op.drop_table("packets")
