"""Migration 0010: the outbox's unread ``attempts`` column goes and every journalled write stays."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from truancy.daemon.schema import outbox
from truancy.daemon.store import _alembic_config, create_store_engine, upgrade


def test_the_outbox_keeps_its_rows_without_attempts(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "0009")
        connection.execute(
            sa.text(
                "INSERT INTO outbox (cycle_id, sync_key, kind, op, status, attempts, created_at) "
                "VALUES (1, 'k1', 'flag', 'create', 'pending', 1, :now)"
            ),
            {"now": datetime(2026, 1, 5, tzinfo=UTC)},
        )
    upgrade(engine)
    columns = {column["name"] for column in sa.inspect(engine).get_columns("outbox")}
    assert "attempts" not in columns
    assert columns == {column.name for column in outbox.columns}
    with engine.connect() as connection:
        rows = connection.execute(sa.select(outbox.c.sync_key, outbox.c.status)).all()
    assert [tuple(row) for row in rows] == [("k1", "pending")]
