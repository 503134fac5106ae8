"""Sync health read from the state store: what ``truancy status`` prints for IT staff."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import OperationalError

from truancy.connector.errors import FailureType
from truancy.daemon.pipeline import STREAMS, WRITEBACK_STREAM
from truancy.daemon.schema import bookmarks, cycles, outbox, quarantine, unknown_codes
from truancy.daemon.store import StoreError
from truancy.plugins.base import Cursor

RECENT_CYCLES = 10
STREAM_HISTORY = 200
"""Cycles scanned for each stream's last success and last error."""
QUARANTINE_SHOWN = 50
CONCLUSIVE = ("succeeded", "failed", "blocked")
"""Cycle outcomes that say something about health (``running``/``interrupted`` do not); a cycle
the retraction guard ``blocked`` wrote nothing and waits for an administrator."""


@dataclass
class StreamStatus:
    last_success: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    error_class: str | None = None
    failing: bool = False
    lag_seconds: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "last_success": self.last_success,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "error_class": self.error_class,
            "failing": self.failing,
            "lag_seconds": self.lag_seconds,
        }


def hashed_id(value: str) -> str:
    """What the status page shows instead of a record key: enough to match, nothing to identify."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]


@dataclass
class StatusReport:
    recent_cycles: list[dict[str, Any]] = field(default_factory=list)
    bookmarks: dict[str, str] = field(default_factory=dict)
    quarantine: dict[str, int] = field(default_factory=dict)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    unknown_codes: dict[str, int] = field(default_factory=dict)
    outbox_pending: int = 0
    outbox_failed_last_cycle: int = 0
    streams: dict[str, StreamStatus] = field(default_factory=dict)
    quarantined: list[dict[str, str]] = field(default_factory=list)

    @property
    def last_cycle(self) -> dict[str, Any] | None:
        return self.recent_cycles[0] if self.recent_cycles else None

    @property
    def last_conclusive_cycle(self) -> dict[str, Any] | None:
        """The newest real cycle that finished: a dry run wrote nothing, so it says nothing of the sync."""
        return next((c for c in self.recent_cycles if c["status"] in CONCLUSIVE and not c["dry_run"]), None)

    @property
    def held(self) -> dict[str, Any]:
        """Cases the last real cycle held for records the code map cannot count, by code."""
        last = self.last_conclusive_cycle
        return {
            "cases": last.get("held_cases", 0) if last is not None else 0,
            "codes": last.get("held_codes", {}) if last is not None else {},
        }

    @property
    def blocked(self) -> dict[str, Any] | None:
        """What the retraction guard held back, while the last real cycle was held."""
        last = self.last_conclusive_cycle
        return last.get("blocked") if last is not None and last["status"] == "blocked" else None

    @property
    def healthy(self) -> bool:
        """The newest finished cycle succeeded (a cycle still running or stopped by shutdown says nothing)."""
        last = self.last_conclusive_cycle
        return last is not None and last["status"] == "succeeded"

    @property
    def last_success(self) -> datetime | None:
        finished = [
            c["finished_at"] for c in self.recent_cycles if c["status"] == "succeeded" and not c["dry_run"]
        ]
        values = [s.last_success for s in self.streams.values() if s.last_success] + finished
        return max((as_utc(datetime.fromisoformat(v)) for v in values), default=None)

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
            "streams": {name: stream.as_json() for name, stream in self.streams.items()},
            "held": self.held,
            "blocked": self.blocked,
            "quarantined": self.quarantined,
        }


def cycle_status(cycle: dict[str, Any]) -> str:
    """A cycle's status as people read it: a dry run says so, since it planned writes and sent none."""
    return f"DRY RUN {cycle['status']} (nothing written)" if cycle["dry_run"] else cycle["status"]


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
                        "dry_run": bool(summary.get("dry_run")),
                        "error_class": row.error_class,
                        "writes": summary.get("writes"),
                        "errors": summary.get("errors", []),
                        "failed_stream": summary.get("failed_stream"),
                        "held_cases": summary.get("held_cases", 0),
                        "held_codes": summary.get("held_codes", {}),
                        "blocked": summary.get("blocked"),
                    }
                )
            report.streams = _stream_status(connection)
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
            report.quarantined = [
                {"stream": row.stream, "record": hashed_id(row.source_key), "reason": row.reason}
                for row in connection.execute(
                    select(quarantine.c.stream, quarantine.c.source_key, quarantine.c.reason)
                    .order_by(quarantine.c.last_seen.desc())
                    .limit(QUARANTINE_SHOWN)
                )
            ]
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


def _failed_stage(status: str, failed_stream: str | None) -> int | None:
    """The stage a failed cycle stopped in; refused writes and missing keys finish at write-back."""
    if status != "failed":
        return None
    return STREAMS.index(failed_stream) if failed_stream in STREAMS else STREAMS.index(WRITEBACK_STREAM)


def as_utc(value: datetime) -> datetime:
    """Naive timestamps (SQLite drops the zone; SIS bookmarks carry none) are UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def stream_lags(connection: Connection, now: datetime) -> dict[str, float]:
    """Seconds each stream's stored cursor is behind ``now``, as its plugin reports it."""
    lags: dict[str, float] = {}
    for stream, value in connection.execute(select(bookmarks.c.stream, bookmarks.c.value)):
        cursor = Cursor.loads(value) if ":" not in stream else None
        lag = cursor.lag_seconds(now) if cursor is not None else None
        if lag is not None:
            lags[stream] = round(lag, 1)
    return lags


def _stream_status(connection: Connection) -> dict[str, StreamStatus]:
    """Per stream: a cycle that failed in stream N completed every stream before N."""
    streams = {name: StreamStatus() for name in STREAMS}
    history = connection.execute(
        select(cycles.c.status, cycles.c.finished_at, cycles.c.summary, cycles.c.error_class)
        .where(cycles.c.status.in_(CONCLUSIVE))
        .order_by(cycles.c.id.desc())
        .limit(STREAM_HISTORY)
    ).all()
    for row in history:
        summary = row.summary or {}
        failed_at = _failed_stage(row.status, summary.get("failed_stream"))
        for index, name in enumerate(STREAMS):
            stream = streams[name]
            if failed_at is not None and index > failed_at:
                continue
            if index == failed_at:
                if stream.last_error is None:
                    stream.last_error = "; ".join(summary.get("errors", [])) or "failed"
                    stream.last_error_at = _iso(row.finished_at)
                    stream.error_class = row.error_class or FailureType.DATA
                    stream.failing = stream.last_success is None
            elif stream.last_success is None:
                stream.last_success = _iso(row.finished_at)
    for name, lag in stream_lags(connection, datetime.now(UTC)).items():
        if name in streams:
            streams[name].lag_seconds = lag
    return streams


def render_status(report: StatusReport, console: Console) -> None:
    verdict = "[green]healthy[/]" if report.healthy else "[red]unhealthy[/]"
    console.print(f"Sync status: {verdict}")
    cycles_table = Table("cycle", "started", "status", "writes", "errors", title="Recent cycles")
    for cycle in report.recent_cycles:
        writes = cycle["writes"] or {}
        cycles_table.add_row(
            str(cycle["id"]),
            cycle["started_at"] or "",
            cycle_status(cycle),
            ", ".join(f"{k} {v}" for k, v in writes.items() if v),
            "; ".join(cycle["errors"]),
        )
    console.print(cycles_table)
    streams_table = Table("stream", "last success", "lag", "last error", title="Streams")
    for name, state in report.streams.items():
        error = f"{state.error_class}: {state.last_error}" if state.last_error else ""
        streams_table.add_row(
            f"[red]{name}[/]" if state.failing else name,
            state.last_success or "never",
            f"{state.lag_seconds:.0f} s" if state.lag_seconds is not None else "",
            error,
        )
    console.print(streams_table)
    for stream, value in sorted(report.bookmarks.items()):
        console.print(f"bookmark {stream}: {value}")
    if report.quarantine_reasons:
        table = Table("reason", "records", title="Quarantine")
        for reason, count in sorted(report.quarantine_reasons.items()):
            table.add_row(reason, str(count))
        console.print(table)
        shown = Table("stream", "record (hashed)", "reason", title="Quarantined records (newest first)")
        for entry in report.quarantined:
            shown.add_row(entry["stream"], entry["record"], entry["reason"])
        console.print(shown)
    if report.unknown_codes:
        codes = ", ".join(f"{code} ({n})" for code, n in sorted(report.unknown_codes.items()))
        console.print(f"Unknown attendance codes waiting for a mapping: {codes}")
    held = report.held
    if held["cases"]:
        codes = ", ".join(f"{code} ({n} cases)" for code, n in sorted(held["codes"].items()))
        console.print(
            f"[yellow]Held: {held['cases']} case(s) keep every flag and task, waiting for {codes}[/]",
            highlight=False,
        )
    if report.blocked is not None:
        console.print(f"[red]Retraction guard: {report.blocked['reason']}[/]", highlight=False)
    console.print(
        f"Outbox: {report.outbox_pending} pending, {report.outbox_failed_last_cycle} failed last cycle"
    )
