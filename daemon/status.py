"""Sync health read from the state store: what ``truancy status`` prints for IT staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError

from truancy.daemon.schema import bookmarks, cycles, outbox, quarantine, unknown_codes
from truancy.daemon.store import StoreError

RECENT_CYCLES = 10


@dataclass
class StatusReport:
    recent_cycles: list[dict[str, Any]] = field(default_factory=list)
    bookmarks: dict[str, str] = field(default_factory=dict)
    quarantine: dict[str, int] = field(default_factory=dict)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    unknown_codes: dict[str, int] = field(default_factory=dict)
    outbox_pending: int = 0
    outbox_failed_last_cycle: int = 0

    @property
    def last_cycle(self) -> dict[str, Any] | None:
        return self.recent_cycles[0] if self.recent_cycles else None

    @property
    def healthy(self) -> bool:
        last = self.last_cycle
        return last is not None and last["status"] == "succeeded"

    def as_json(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "last_cycle": self.last_cycle,
            "recent_cycles": self.recent_cycles,
            "bookmarks": self.bookmarks,
            "quarantine": self.quarantine,
            "quarantine_reasons": self.quarantine_reasons,
            "unknown_codes": self.unknown_codes,
            "outbox_pending": self.outbox_pending,
            "outbox_failed_last_cycle": self.outbox_failed_last_cycle,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def read_status(engine: Engine) -> StatusReport:
    try:
        with engine.connect() as connection:
            report = StatusReport()
            for row in connection.execute(select(cycles).order_by(cycles.c.id.desc()).limit(RECENT_CYCLES)):
                summary = row.summary or {}
                report.recent_cycles.append(
                    {
                        "id": row.id,
                        "started_at": _iso(row.started_at),
                        "finished_at": _iso(row.finished_at),
                        "status": row.status,
                        "error_class": row.error_class,
                        "writes": summary.get("writes"),
                        "errors": summary.get("errors", []),
                    }
                )
            report.bookmarks = dict(connection.execute(select(bookmarks.c.stream, bookmarks.c.value)).all())
            report.quarantine = dict(
                connection.execute(
                    select(quarantine.c.stream, func.count()).group_by(quarantine.c.stream)
                ).all()
            )
            report.quarantine_reasons = dict(
                connection.execute(
                    select(quarantine.c.reason, func.count()).group_by(quarantine.c.reason)
                ).all()
            )
            report.unknown_codes = dict(
                connection.execute(select(unknown_codes.c.code, unknown_codes.c.occurrences)).all()
            )
            report.outbox_pending = connection.execute(
                select(func.count()).select_from(outbox).where(outbox.c.status == "pending")
            ).scalar_one()
            if report.last_cycle is not None:
                report.outbox_failed_last_cycle = connection.execute(
                    select(func.count())
                    .select_from(outbox)
                    .where(outbox.c.status == "failed", outbox.c.cycle_id == report.last_cycle["id"])
                ).scalar_one()
    except OperationalError:
        raise StoreError(
            f"the state store at {engine.url!r} has no sync history yet: run `truancy db upgrade` "
            "and `truancy sync --once`"
        ) from None
    return report


def render_status(report: StatusReport, console: Console) -> None:
    verdict = "[green]healthy[/]" if report.healthy else "[red]unhealthy[/]"
    console.print(f"Sync status: {verdict}")
    cycles_table = Table("cycle", "started", "status", "writes", "errors", title="Recent cycles")
    for cycle in report.recent_cycles:
        writes = cycle["writes"] or {}
        cycles_table.add_row(
            str(cycle["id"]),
            cycle["started_at"] or "",
            cycle["status"],
            ", ".join(f"{k} {v}" for k, v in writes.items() if v),
            "; ".join(cycle["errors"]),
        )
    console.print(cycles_table)
    for stream, value in sorted(report.bookmarks.items()):
        console.print(f"bookmark {stream}: {value}")
    if report.quarantine_reasons:
        table = Table("reason", "records", title="Quarantine")
        for reason, count in sorted(report.quarantine_reasons.items()):
            table.add_row(reason, str(count))
        console.print(table)
    if report.unknown_codes:
        codes = ", ".join(f"{code} ({n})" for code, n in sorted(report.unknown_codes.items()))
        console.print(f"Unknown attendance codes waiting for a mapping: {codes}")
    console.print(
        f"Outbox: {report.outbox_pending} pending, {report.outbox_failed_last_cycle} failed last cycle"
    )
