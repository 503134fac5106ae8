"""mapping files in force: the path of each file, and the digests each cycle used

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mapping_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("path", sa.Text(), nullable=True))
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code_map_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("field_map_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("policy_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.drop_column("policy_digest")
        batch_op.drop_column("field_map_digest")
        batch_op.drop_column("code_map_digest")
    with op.batch_alter_table("mapping_files", schema=None) as batch_op:
        batch_op.drop_column("path")
