"""One writer per district and SIS: every row the daemon writes carries its store's instance id.

The district lock stops two daemons sharing one store. It cannot see a second store (a copy on
another host, a test store pointed at production): two stores each undo the other's writes. So each
store makes a random instance id once, every row written to the SIS carries it, and a cycle that
reads back rows another instance wrote stops before writing anything, until an administrator
stops the other daemon or adopts its rows (``truancy db adopt --instance ID``).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, Engine, select

from truancy.connector.errors import ConfigurationError
from truancy.daemon.evaluate import Target
from truancy.daemon.schema import adopted_instances, store_instance
from truancy.daemon.store import upsert, utcnow
from truancy.mappings.writes import DesiredWrite, is_sync_key
from truancy.plugins.base import RemoteRow, SisPlugin

WRITER_FIELD = "writer"
"""The canonical field a plugin maps to the SIS column that carries the instance id."""
INSTANCE_HEX = 16


class ForeignWriterError(ConfigurationError):
    """Rows in the SIS were written by another state store; only an administrator can settle it."""


def instance_id(connection: Connection) -> str:
    """This store's instance id, made on first use."""
    found: str | None = connection.execute(select(store_instance.c.instance_id).limit(1)).scalar()
    if found is not None:
        return found
    made = secrets.token_hex(INSTANCE_HEX // 2)
    connection.execute(store_instance.insert().values(instance_id=made, created_at=utcnow()))
    return made


def adopted(connection: Connection) -> frozenset[str]:
    return frozenset(connection.execute(select(adopted_instances.c.instance_id)).scalars())


def adopt(engine: Engine, other: str) -> str:
    """Take over the rows ``other`` wrote: the next cycle rewrites them with this store's id."""
    with engine.begin() as connection:
        own = instance_id(connection)
        if other == own:
            raise ValueError(f"{other} is this store's own instance id; there is nothing to adopt")
        upsert(
            connection, adopted_instances, [{"instance_id": other, "adopted_at": utcnow()}], ["instance_id"]
        )
    return own


def foreign_writers(
    remote: Iterable[RemoteRow], plugin: SisPlugin, own: str, accepted: frozenset[str]
) -> Counter[str]:
    """Rows with a daemon sync key whose writer is neither this store nor one it adopted.

    A row with no writer at all was written before instance ids existed (or through a field map
    without a writer column): it is this store's to claim, and the next write stamps it.
    """
    found: Counter[str] = Counter()
    for row in remote:
        if not is_sync_key(row.sync_key):
            continue
        writer = plugin.writer_of(row)
        if writer and writer != own and writer not in accepted:
            found[writer] += 1
    return found


def refuse_foreign(found: Counter[str], config_hint: str = "FILE") -> None:
    if not found:
        return
    writer, count = found.most_common(1)[0]
    others = f" (and {len(found) - 1} other instance(s))" if len(found) > 1 else ""
    raise ForeignWriterError(
        f"{sum(found.values())} truancy row(s) in the SIS were written by another state store, instance "
        f"{writer}{others}: two stores must not sync one district; stop the other daemon, or, if this "
        f"store replaces it, run `truancy db adopt --config {config_hint} --instance {writer}` "
        f"({count} row(s) from it)"
    )


def stamped(desired: Mapping[str, Target], own: str) -> dict[str, Target]:
    """The desired writes, each carrying this store's instance id."""
    return {
        key: Target(
            DesiredWrite(
                target.write.kind,
                target.write.sync_key,
                target.write.student_id,
                {**target.write.fields, WRITER_FIELD: own},
            ),
            target.sis_ref,
        )
        for key, target in desired.items()
    }
