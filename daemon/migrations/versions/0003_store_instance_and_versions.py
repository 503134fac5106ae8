"""store instance id (carried by every SIS row it writes), adopted instances, mapping versions

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_instance",
        sa.Column("instance_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_store_instance")),
    )
    op.create_table(
        "adopted_instances",
        sa.Column("instance_id", sa.String(length=32), nullable=False),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_adopted_instances")),
    )
    with op.batch_alter_table("mapping_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mapping_files", schema=None) as batch_op:
        batch_op.drop_column("version")
    op.drop_table("adopted_instances")
    op.drop_table("store_instance")
