"""What the code map cannot count, recorded each cycle for the status page and ``truancy status``.

Attendance is normalised at evaluation, so the rows waiting for the map are whatever the last
evaluation of their student found (a cycle evaluates the students something happened to; a map
change evaluates every one), and the unmapped codes are counted over the stored rows: they leave
the quarantine by themselves once the map counts them, and a code once mapped is no longer listed
as unknown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping

from sqlalchemy import Connection, delete, func, select

from truancy.daemon.due import chunks
from truancy.daemon.schema import attendance, quarantine, unknown_codes
from truancy.daemon.store import upsert, utcnow
from truancy.mappings.codemap import CodeLookup

CODE_STREAM = "attendance codes"
"""The quarantine's stream for stored rows the code map cannot count yet."""
BATCH = 500


def record_held_rows(
    connection: Connection, held: Mapping[str, str], evaluated: Collection[str], cycle_id: int
) -> None:
    """Make the quarantine's code rows of the rows just evaluated (``evaluated``: their source keys)
    what this evaluation found; rows of students not evaluated keep theirs."""
    stored: set[str] = set()
    for batch in chunks(sorted(evaluated)):
        stored.update(
            connection.execute(
                select(quarantine.c.source_key).where(
                    quarantine.c.stream == CODE_STREAM, quarantine.c.source_key.in_(batch)
                )
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


def settle_held(connection: Connection, lookup: CodeLookup) -> tuple[int, Counter[str]]:
    """After a cycle's evaluations: drop code rows whose attendance row is gone, and make the
    unknown-code table the stored rows per code the map does not list. Returns the rows held and
    the unknown codes."""
    connection.execute(
        delete(quarantine).where(
            quarantine.c.stream == CODE_STREAM,
            quarantine.c.source_key.not_in(select(attendance.c.source_key)),
        )
    )
    unknown: Counter[str] = Counter()
    for code, count in connection.execute(
        select(attendance.c.code, func.count())
        .where(attendance.c.code.is_not(None))
        .group_by(attendance.c.code)
    ):
        if lookup(code) is None:
            unknown[code.strip()] += count
    now = utcnow()
    connection.execute(delete(unknown_codes))
    if unknown:
        connection.execute(
            unknown_codes.insert(),
            [{"code": code, "occurrences": n, "last_seen": now} for code, n in sorted(unknown.items())],
        )
    held = connection.execute(
        select(func.count()).select_from(quarantine).where(quarantine.c.stream == CODE_STREAM)
    ).scalar_one()
    return int(held), unknown
