"""The delivery journal of conference invitations and reminders (migration 0012).

One row per message: a conference (its SIS record id), what it was for (``invitation`` or
``reminder``), the channel (``email`` or ``print``) and the household it went to. A row is written
``sending`` before the message leaves and ``sent`` once the SMTP server accepted it or the print
batch holds it; the conference's ``attempts`` in the SIS are written from the ``sent`` rows, so a
crash between sending and that write is repaired by the next cycle without sending again. An email
left ``sending`` by a crash may or may not have arrived: it becomes ``unknown``, is never sent
again, and the family is invited by letter instead. The row also keeps the language the family
asked for and the one the invitation went in (a difference is a "translation needed" task) and,
for print, the letter's PDF, so the day's print batch can be rebuilt.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Column, Date, DateTime, Index, String, Table, Text

from truancy.daemon.schema import metadata

invitation_deliveries = Table(
    "invitation_deliveries",
    metadata,
    Column("record_id", String(64), primary_key=True),
    Column("purpose", String(16), primary_key=True),
    Column("channel", String(8), primary_key=True),
    Column("household", String(128), primary_key=True),
    Column("student_id", String(128), nullable=False),
    Column("sis_ref", String(128), nullable=False),
    Column("school_id", String(64)),
    Column("school_year", String(16), nullable=False),
    Column("state", String(8), nullable=False),
    Column("sent_on", Date, nullable=False),
    Column("language", String(16), nullable=False),
    Column("wanted_language", String(16), nullable=False),
    Column("message_id", String(255)),
    Column("batch_id", String(64)),
    Column("pdf_path", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_invitation_deliveries_student", "student_id"),
)


def delivery_key(record_id: str, purpose: str, household: str) -> str:
    """A short stable name for one delivery (its PDF and manifest line), naming no one."""
    return hashlib.sha256("\x1f".join((record_id, purpose, household)).encode()).hexdigest()[:12]
