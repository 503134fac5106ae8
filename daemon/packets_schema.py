"""Where each packet was written, for retention (``retention.packets_days``): a purge removes the
row and unlinks its file; nothing of a student with an open case goes (purge holds them).
Migration 0008 creates the table."""

from __future__ import annotations

from sqlalchemy import Column, Date, String, Table, Text

from truancy.daemon.purge import TableKind, register_kind
from truancy.daemon.schema import metadata

packets = Table(
    "packets",
    metadata,
    Column("packet_id", String(40), primary_key=True),
    Column("student_id", String(128), nullable=False, index=True),
    Column("kind", String(8), nullable=False),
    Column("built_on", Date, nullable=False),
    Column("path", Text, nullable=False),
    Column("requested_in", String(8), nullable=False),
)

register_kind(TableKind("packets", table="packets", aged_by="built_on", file_column="path"))
