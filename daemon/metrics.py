"""Prometheus metrics for one district: what IT staff graph and alert on.

Counters that the connector keeps per HTTP session (requests, retries, 429s) are carried over as
deltas after each cycle, so a SIGHUP reload (new sessions) never makes a counter go backwards.
Gauges that describe the store (outbox depth, quarantine, bookmark lag) are read from it after each
cycle, so they are right even for work done by an earlier process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import Engine, func, select

from truancy.connector.errors import FailureType
from truancy.connector.http import HttpStats
from truancy.daemon.schema import outbox, quarantine, unknown_codes
from truancy.daemon.status import stream_lags

CYCLE_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600)


class SyncMetrics:
    def __init__(self, district: str) -> None:
        self.district = district
        self.registry = CollectorRegistry()
        labels = ["district"]
        self.cycle_seconds = Histogram(
            "truancy_cycle_duration_seconds", "Duration of a sync cycle", labels,
            buckets=CYCLE_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.cycles = Counter(
            "truancy_cycles", "Sync cycles by outcome and error class", [*labels, "status", "error_class"],
            registry=self.registry,
        )  # fmt: skip
        self.pulled = Counter(
            "truancy_records_pulled", "Records read from the SIS", [*labels, "stream"], registry=self.registry
        )
        self.writes = Counter(
            "truancy_writes", "Writes sent to the SIS by kind, operation and outcome",
            [*labels, "kind", "op", "outcome"], registry=self.registry,
        )  # fmt: skip
        self.http_requests = Counter(
            "truancy_http_requests", "HTTP requests to the SIS", [*labels, "session"], registry=self.registry
        )
        self.http_retries = Counter(
            "truancy_http_retries", "HTTP requests repeated after a transient failure", [*labels, "session"],
            registry=self.registry,
        )  # fmt: skip
        self.http_throttled = Counter(
            "truancy_http_throttled", "HTTP 429 answers from the SIS", [*labels, "session"],
            registry=self.registry,
        )  # fmt: skip
        self.quarantined = Gauge(
            "truancy_quarantined_records", "Records held back for a data problem", [*labels, "stream"],
            registry=self.registry,
        )  # fmt: skip
        self.unknown_codes = Gauge(
            "truancy_unknown_attendance_codes", "Attendance codes waiting for a mapping", labels,
            registry=self.registry,
        )  # fmt: skip
        self.outbox_depth = Gauge(
            "truancy_outbox_depth", "Writes journaled but not yet confirmed by the SIS", labels,
            registry=self.registry,
        )  # fmt: skip
        self.bookmark_lag = Gauge(
            "truancy_bookmark_lag_seconds", "How far each stream's cursor is behind the SIS",
            [*labels, "stream"], registry=self.registry,
        )  # fmt: skip
        self.last_success = Gauge(
            "truancy_last_success_timestamp_seconds", "When each stream last completed",
            [*labels, "stream"], registry=self.registry,
        )  # fmt: skip
        self.failing = Gauge(
            "truancy_failing", "1 while the latest cycle failed, by error class", [*labels, "error_class"],
            registry=self.registry,
        )  # fmt: skip
        self._seen_http: dict[int, tuple[int, int, int]] = {}

    def cycle_finished(
        self, *, seconds: float, status: str, error_class: str | None, pulled: Mapping[str, int]
    ) -> None:
        self.cycle_seconds.labels(self.district).observe(seconds)
        self.cycles.labels(self.district, status, error_class or "").inc()
        for stream, count in pulled.items():
            self.pulled.labels(self.district, stream).inc(count)
        for kind in FailureType:
            self.failing.labels(self.district, kind).set(1 if kind == error_class else 0)

    def streams_succeeded(self, streams: Iterable[str], at: datetime) -> None:
        for stream in streams:
            self.last_success.labels(self.district, stream).set(at.timestamp())

    def record_http(self, sessions: Mapping[str, HttpStats]) -> None:
        """Add what each session did since the last call (sessions are told apart by identity)."""
        for name, stats in sessions.items():
            before = self._seen_http.get(id(stats), (0, 0, 0))
            now = (stats.requests, stats.retries, stats.throttled)
            self.http_requests.labels(self.district, name).inc(now[0] - before[0])
            self.http_retries.labels(self.district, name).inc(now[1] - before[1])
            self.http_throttled.labels(self.district, name).inc(now[2] - before[2])
            self._seen_http[id(stats)] = now

    def forget_http(self) -> None:
        """Sessions were replaced (reload): start counting the new ones from zero."""
        self._seen_http.clear()

    def record_writes(self, engine: Engine, cycle_id: int) -> None:
        with engine.connect() as connection:
            rows = connection.execute(
                select(outbox.c.kind, outbox.c.op, outbox.c.status, func.count())
                .where(outbox.c.cycle_id == cycle_id)
                .group_by(outbox.c.kind, outbox.c.op, outbox.c.status)
            ).all()
        for kind, op, status, count in rows:
            self.writes.labels(self.district, kind, op, status).inc(count)

    def read_store(self, engine: Engine, now: datetime) -> None:
        with engine.connect() as connection:
            self.outbox_depth.labels(self.district).set(
                connection.execute(
                    select(func.count()).select_from(outbox).where(outbox.c.status == "pending")
                ).scalar_one()
            )
            self.quarantined.clear()
            for stream, count in connection.execute(
                select(quarantine.c.stream, func.count()).group_by(quarantine.c.stream)
            ):
                self.quarantined.labels(self.district, stream).set(count)
            self.unknown_codes.labels(self.district).set(
                connection.execute(select(func.count()).select_from(unknown_codes)).scalar_one()
            )
            for stream, lag in stream_lags(connection, now).items():
                self.bookmark_lag.labels(self.district, stream).set(lag)
