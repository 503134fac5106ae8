"""``truancy report outcomes --to-sis``: the published figures, written to the SIS for the director's page.

Only what the report publishes goes (small cells withheld, as empty values), and only when a director
asks for it: the figures are a choice to publish, not a by-product of each cycle. The write is a
diff by each figure's key against the rows the SIS holds for that school year, so running it again
replaces the year's figures in place: changed values are updated, figures no longer published are
deleted, a duplicate left by an interrupted run is removed. Every row carries this store's
instance id; rows another store wrote stop the run before anything is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from truancy.daemon.instance import WRITER_FIELD, adopted, instance_id, refuse_foreign
from truancy.daemon.lock import DistrictLock
from truancy.daemon.outbox import WriteCounts
from truancy.mappings.report_figures import FigureWrite, figure_writes
from truancy.plugins.figures import FigureTarget


def write_figures(
    engine: Engine, district: str, plugin: object, report: Mapping[str, Any], config: Path
) -> WriteCounts:
    """Make the SIS hold exactly ``report``'s figures for its school year, under the district lock."""
    if not isinstance(plugin, FigureTarget):
        name = getattr(plugin, "name", type(plugin).__name__)
        raise ValueError(f"the {name} plugin cannot hold report figures in the SIS; run without --to-sis")
    with DistrictLock(engine, district):
        with engine.begin() as connection:
            own = instance_id(connection)
            accepted = adopted(connection) | {own}
        wanted = {
            write.sync_key: FigureWrite(write.sync_key, {**write.fields, WRITER_FIELD: own})
            for write in figure_writes(report)
        }
        rows = plugin.figure_rows(report["year"])
        writers = (row.fields.get(WRITER_FIELD, "") for row in rows)
        refuse_foreign(Counter(w for w in writers if w and w not in accepted), str(config))
        kept: set[str] = set()
        counts = WriteCounts()
        for row in rows:
            write = wanted.get(row.sync_key or "")
            if write is None or write.sync_key in kept:
                plugin.delete_figure(row.remote_id)
                counts.deleted += 1
                continue
            kept.add(write.sync_key)
            if any(row.fields.get(name, "") != value for name, value in write.fields.items()):
                plugin.update_figure(row.remote_id, write)
                counts.updated += 1
            else:
                counts.unchanged += 1
        for key, write in wanted.items():
            if key not in kept:
                plugin.create_figure(write)
                counts.created += 1
    return counts
