"""stream cursors are the plugin's own JSON (any length), stored verbatim

Revision ID: 0005
Revises: 0004

A value a plugin did not write (the bare timestamps and change versions of earlier releases) reads
as no cursor, so the first cycle after the upgrade reads each stream once in full.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookmarks", schema=None) as batch_op:
        batch_op.alter_column("value", type_=sa.Text(), existing_type=sa.String(length=64))


def downgrade() -> None:
    with op.batch_alter_table("bookmarks", schema=None) as batch_op:
        batch_op.alter_column("value", type_=sa.String(length=64), existing_type=sa.Text())
