"""What the code map cannot count, recorded each cycle for the status page and ``truancy status``.

Attendance is normalised at evaluation, so the rows waiting for the map, and the unmapped codes,
are whatever the last evaluation found: they leave the quarantine by themselves once the map
counts them, and a code once mapped is no longer listed as unknown.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, delete, select

from truancy.daemon.schema import quarantine, unknown_codes
from truancy.daemon.store import upsert, utcnow

CODE_STREAM = "attendance codes"
"""The quarantine's stream for stored rows the code map cannot count yet."""
BATCH = 500


def record_held_rows(
    connection: Connection, held: Mapping[str, str], unmapped: Mapping[str, int], cycle_id: int
) -> None:
    """Make the quarantine's code rows and the unknown-code table what this evaluation found."""
    stored = set(
        connection.execute(
            select(quarantine.c.source_key).where(quarantine.c.stream == CODE_STREAM)
        ).scalars()
    )
    stale = sorted(stored - held.keys())
    for start in range(0, len(stale), BATCH):
        connection.execute(
            delete(quarantine).where(
                quarantine.c.stream == CODE_STREAM, quarantine.c.source_key.in_(stale[start : start + BATCH])
            )
        )
    now = utcnow()
    rows = [
        {
            "stream": CODE_STREAM,
            "source_key": key,
            "reason": reason,
            "first_seen": now,
            "last_seen": now,
            "last_cycle": cycle_id,
        }
        for key, reason in sorted(held.items())
    ]
    for start in range(0, len(rows), BATCH):
        upsert(
            connection,
            quarantine,
            rows[start : start + BATCH],
            ["stream", "source_key"],
            keep=("first_seen",),
        )
    connection.execute(delete(unknown_codes))
    if unmapped:
        connection.execute(
            unknown_codes.insert(),
            [{"code": code, "occurrences": n, "last_seen": now} for code, n in sorted(unmapped.items())],
        )
