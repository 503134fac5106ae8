"""``truancy run``: sync cycles on a schedule, for years, under systemd or by hand.

The loop holds the district's single-instance lock, runs a cycle when the schedule says so, and sleeps
in short slices so it can ping the systemd watchdog and act on signals: SIGTERM/SIGINT stop at the next
batch boundary (a batch either commits or rolls back) and the process exits within the grace period
even if a request hangs; SIGHUP reloads settings and mappings only after they load cleanly.

Failures are logged once when they start and once on recovery, with the error class (configuration,
transient, data) that tells IT staff whether to fix a setting, wait, or look at the SIS's data.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import FrameType

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from truancy.connector.errors import ConnectorError, FailureType
from truancy.connector.http import DEFAULT_USER_AGENT, HttpStats
from truancy.daemon.casework import district_casework
from truancy.daemon.casework_invitations import invitation_cycle
from truancy.daemon.casework_progress import progress_cycle
from truancy.daemon.exposure import refuse_exposed
from truancy.daemon.guard import RetractionGuard
from truancy.daemon.lock import DistrictLock
from truancy.daemon.logs import bind_context
from truancy.daemon.metrics import SyncMetrics
from truancy.daemon.notices_runtime import notice_cycle
from truancy.daemon.packets import packet_cycle
from truancy.daemon.pipeline import STREAMS, CycleInterrupted, CycleSummary, SyncPipeline, error_class
from truancy.daemon.progress import Phase
from truancy.daemon.purge import purge
from truancy.daemon.runtime import Runtime, runtime, store_engine
from truancy.daemon.schedule import Schedule, SchoolDayTest, weekday_test
from truancy.daemon.schema import calendar_days
from truancy.daemon.sentry import init_sentry
from truancy.daemon.settings import Settings, SettingsError, load_settings
from truancy.daemon.store import StoreError, utcnow
from truancy.daemon.systemd import Notifier, watchdog_interval
from truancy.daemon.web import HealthApp, HealthServer, LiveState

log = logging.getLogger("truancy.daemon.service")

IDLE_SLICE_SECONDS = 30.0
"""Longest uninterrupted sleep between schedule checks (signals also wake the loop at once)."""
STALL_SECONDS = 900.0
"""No progress for this long and the watchdog pings stop, so systemd restarts a hung daemon."""

Clock = Callable[[], datetime]
Wait = Callable[[float], object]


@dataclass
class Options:
    config: Path | None
    secrets_dir: Path | None = None
    install_signals: bool = True
    serve_health: bool = True


class _StopAwareReporter:
    """Progress that doubles as the stop check: each finished batch is a safe place to stop."""

    def __init__(self, service: SyncService) -> None:
        self._service = service

    def phase(self, description: str, total: int | None = None) -> Phase:
        return _StopAwarePhase(self._service)


class _StopAwarePhase:
    def __init__(self, service: SyncService) -> None:
        self._service = service

    def advance(self, amount: int = 1) -> None:
        self._service.heartbeat()
        if self._service.stopping:
            raise CycleInterrupted

    def set_total(self, total: int) -> None:
        return None


class SyncService:
    def __init__(self, options: Options, *, clock: Clock = utcnow, wait: Wait | None = None) -> None:
        self.options = options
        self.settings = load_settings(options.config, secrets_dir=options.secrets_dir)
        self.metrics = SyncMetrics(self.settings.district.id)
        self.live = LiveState(self.settings.district.id)
        self.notifier = Notifier()
        self.clock = clock
        self._wakeup = threading.Event()
        self._wait: Wait = wait or self._wakeup.wait
        self._stop_requested = False
        self._reload_requested = False
        self._last_beat = time.monotonic()
        self._cycle_started = 0.0
        self._runtime_stack = ExitStack()
        self._runtime: Runtime | None = None
        self.health: HealthServer | None = None
        self.cycles_run = 0

    # -- signals ------------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stop_requested

    def request_stop(self) -> None:
        if not self._stop_requested:
            self._stop_requested = True
            grace = self.settings.schedule.shutdown_grace_seconds
            timer = threading.Timer(grace, self._give_up, args=(grace,))
            timer.daemon = True
            timer.start()
        self._wakeup.set()

    def request_reload(self) -> None:
        self._reload_requested = True
        self._wakeup.set()

    def _give_up(self, grace: float) -> None:
        log.warning("did not stop within %.0f s; exiting now (the open transaction rolls back)", grace)
        os._exit(1)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self.request_reload()
        else:
            self.request_stop()

    def heartbeat(self) -> None:
        self._last_beat = time.monotonic()

    # -- running ------------------------------------------------------------------------------

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            raise RuntimeError("the service is not running")
        return self._runtime

    def run(self, *, once: bool = False, max_cycles: int | None = None) -> int:
        """Run until stopped (or one cycle with ``once``); the exit code for the CLI."""
        settings = self.settings
        refuse_exposed(settings, self.options.config, self.options.secrets_dir)
        bind_context(district=settings.district.id, cycle_id=None, stream=None)
        init_sentry(settings.sentry, settings.district.id, DEFAULT_USER_AGENT)
        lock_engine = store_engine(settings)
        try:
            with DistrictLock(lock_engine, settings.district.id), self._runtime_stack:
                self._runtime = self._runtime_stack.enter_context(runtime(settings))
                if once:
                    return 0 if self.run_cycle(full=False) else 1
                return self._serve(max_cycles)
        finally:
            self._runtime = None
            lock_engine.dispose()

    def _serve(self, max_cycles: int | None) -> int:
        if self.options.install_signals:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(signum, self._on_signal)
        if self.options.serve_health and self.settings.health.enabled:
            self._start_health()
        self._start_watchdog()
        self.notifier.ready(f"syncing district {self.settings.district.id}")
        log.info("service started")
        cycles = 0
        if self.settings.schedule.run_at_start:
            self.run_cycle(full=False)
            cycles += 1
        while not self._stop_requested and (max_cycles is None or cycles < max_cycles):
            planned = self.schedule().next_run(self.clock())
            self.live.next_run_at, self.live.next_run_full = planned.at, planned.full
            if not self._sleep_until(planned.at):
                continue
            self.run_cycle(full=planned.full)
            cycles += 1
            if planned.full and self.settings.retention.nightly:
                self.run_purge()
        self.notifier.stopping()
        log.info("service stopped")
        if self.health is not None:
            self.health.stop()
        return 0

    def _sleep_until(self, at: datetime) -> bool:
        """Sleep in slices until ``at``; False when a stop or a reload cut the sleep short."""
        while (remaining := (at - self.clock()).total_seconds()) > 0:
            if self._stop_requested:
                return False
            if self._reload_requested:
                self.reload()
                return False
            self.heartbeat()
            self._wakeup.clear()
            self._wait(min(remaining, IDLE_SLICE_SECONDS))
        return not self._stop_requested

    def schedule(self) -> Schedule:
        district = self.settings.district
        days = _calendar_test(self.runtime.engine, weekday_test(self.settings.schedule))
        return Schedule(self.settings.schedule, district.timezone, district.id, days)

    def run_cycle(self, *, full: bool) -> bool:
        """One cycle with logging, metrics and health bookkeeping; True when it succeeded."""
        rt = self.runtime
        pipeline = SyncPipeline(
            rt.engine,
            rt.plugin,
            rt.policy,
            reporter=_StopAwareReporter(self),
            reconcile_every=timedelta(hours=self.settings.sync.full_reconcile_hours),
            observer=self,
            timezone=self.settings.district.zone,
            guard=RetractionGuard.from_settings(self.settings.sync),
            write_concurrency=self.settings.sync.write_concurrency,
            caseloads=self.settings.caseloads,
            outcomes=self.settings.outcomes,
            district=self.settings.district.id,
            invitations=invitation_cycle(rt, secrets_dir=self.options.secrets_dir),
            packets=packet_cycle(rt),
            progress=progress_cycle(rt),
            casework=district_casework(rt.settings),
            notices=notice_cycle(rt, secrets_dir=self.options.secrets_dir),
        )
        try:
            return self._outcome(pipeline, full)
        finally:
            self.cycles_run += 1
            bind_context(cycle_id=None, stream=None)
            self.live.cycle_id = self.live.stream = None

    def _outcome(self, pipeline: SyncPipeline, full: bool) -> bool:
        try:
            summary = pipeline.run_cycle(full=full)
        except CycleInterrupted:
            log.info("cycle stopped at a batch boundary for shutdown")
            return False
        except ConnectorError as exc:
            self._failed(error_class(exc), str(exc))
            return False
        except (StoreError, SQLAlchemyError) as exc:
            self._failed(FailureType.TRANSIENT, f"state store: {type(exc).__name__}")
            return False
        except Exception as exc:
            log.exception("internal error in a sync cycle (%s)", type(exc).__name__)
            self._failed(FailureType.INTERNAL, type(exc).__name__)
            return False
        if not summary.ok:
            self._failed(summary.failure or FailureType.DATA, "; ".join(summary.errors))
            return False
        if summary.blocked is not None:
            self._failed("data", f"retraction guard: {summary.blocked['reason']}")
            return False
        self._recovered(summary)
        return True

    def run_purge(self) -> None:
        """The nightly purge, after the nightly reconcile (so a case the SIS reopened counts as open)."""
        try:
            report = purge(
                self.runtime.engine,
                self.settings.retention,
                today=self.clock().astimezone(self.settings.district.zone).date(),
                config_dir=self.settings.config_dir,
            )
        except SQLAlchemyError as exc:
            log.error("purge failed, nothing was destroyed: state store: %s", type(exc).__name__)
            return
        destroyed = {k.kind: k.records for k in report.kinds if k.status == "purged"}
        log.info("purge finished", extra={"destroyed": destroyed, "file_errors": len(report.file_errors)})
        for error in report.file_errors:
            log.error("purge: %s", error)

    def _failed(self, kind: str, message: str) -> None:
        if self.live.failing is None:
            log.error("sync is failing: %s error: %s", kind, message, extra={"error_class": kind})
        elif self.live.failing != kind:
            log.error("sync still failing, now a %s error: %s", kind, message, extra={"error_class": kind})
        else:
            log.debug("sync still failing (%s)", kind, extra={"error_class": kind})
        self.live.failing = kind
        self.notifier.status(f"failing: {kind} error")

    def _recovered(self, summary: CycleSummary) -> None:
        if self.live.failing is not None:
            log.info("sync recovered after a %s error", self.live.failing)
        self.live.failing = None
        writes = summary.writes
        self.notifier.status(
            f"last cycle {summary.cycle_id} ok: {writes.created} created, {writes.updated} updated, "
            f"{writes.deleted} deleted"
        )

    # -- observer hooks (called by the pipeline) ------------------------------------------------

    def cycle_started(self, cycle_id: int) -> None:
        self._cycle_started = time.monotonic()
        self.heartbeat()
        bind_context(cycle_id=cycle_id, stream=None)
        self.live.cycle_id = cycle_id
        log.info("cycle started")

    def stream_started(self, stream: str) -> None:
        self.heartbeat()
        bind_context(stream=stream)
        self.live.stream = stream
        log.debug("stream started")

    def cycle_finished(self, summary: CycleSummary, status: str, error: str | None) -> None:
        seconds = time.monotonic() - self._cycle_started
        rt = self.runtime
        now = self.clock()
        error = error or (summary.failure or FailureType.DATA if status == "failed" else None)
        self.metrics.cycle_finished(seconds=seconds, status=status, error_class=error, pulled=summary.pulled)
        self.metrics.record_http(_session_stats(rt))
        try:
            self.metrics.record_writes(rt.engine, summary.cycle_id)
            self.metrics.read_store(rt.engine, now)
        except SQLAlchemyError:
            log.warning("could not read the state store for metrics")
        if status == "succeeded":
            self.metrics.streams_succeeded(STREAMS, now)
        elif summary.failed_stream in STREAMS:
            self.metrics.streams_succeeded(STREAMS[: STREAMS.index(summary.failed_stream)], now)
        log.info(
            "cycle %s in %.1f s",
            status,
            seconds,
            extra={"writes": summary.writes.as_dict(), "pulled": summary.pulled, "error_class": error},
        )

    # -- reload, health, watchdog -------------------------------------------------------------

    def reload(self) -> bool:
        """Swap in new settings and mappings if they load; keep the old ones otherwise."""
        self._reload_requested = False
        self.notifier.reloading()
        try:
            fresh = load_settings(self.options.config, secrets_dir=self.options.secrets_dir)
            _same_identity(self.settings, fresh)
            stack = ExitStack()
            try:
                new_runtime = stack.enter_context(runtime(fresh))
                Schedule(fresh.schedule, fresh.district.timezone, fresh.district.id, lambda _d: True)
            except BaseException:
                stack.close()
                raise
        except (SettingsError, StoreError, ValueError, ConnectorError) as exc:
            self.live.reload_error = str(exc)
            log.error("reload rejected, the previous settings keep running: %s", exc)
            self.notifier.ready("reload rejected; previous settings running")
            return False
        old, self._runtime_stack = self._runtime_stack, stack
        self._runtime, self.settings = new_runtime, fresh
        old.close()
        self.metrics.forget_http()
        self.live.reload_error = None
        log.info("settings and mappings reloaded")
        self.notifier.ready("reloaded")
        return True

    def _start_health(self) -> None:
        health = self.settings.health
        app = HealthApp(
            lambda: self.runtime.engine,
            self.metrics.registry,
            self.live,
            timedelta(hours=health.ready_max_age_hours),
        )
        self.health = HealthServer(app, health.host, health.port)
        self.health.start()
        log.info("health endpoint listening on %s", self.health.url)

    def _start_watchdog(self) -> None:
        interval = watchdog_interval()
        if interval is None or not self.notifier.enabled:
            return

        def ping() -> None:
            while not self._stop_requested:
                if time.monotonic() - self._last_beat < STALL_SECONDS:
                    self.notifier.watchdog()
                time.sleep(interval)

        threading.Thread(target=ping, name="systemd-watchdog", daemon=True).start()


def _same_identity(old: Settings, new: Settings) -> None:
    if (old.district.id, old.store.url) != (new.district.id, new.store.url):
        raise SettingsError(
            "district.id and store.url cannot change while running (the lock is held on the old ones): "
            "restart the service instead"
        )


def _session_stats(rt: Runtime) -> dict[str, HttpStats]:
    return {session.name: session.stats for session in rt.plugin.sessions}


def _calendar_test(engine: Engine, fallback: SchoolDayTest) -> SchoolDayTest:
    """School days from the SIS calendar where it covers the date, by weekday elsewhere."""
    with engine.connect() as connection:
        days = set(connection.execute(select(calendar_days.c.day).distinct()).scalars())
    if not days:
        return fallback
    first, last = min(days), max(days)

    def is_school_day(day: date) -> bool:
        return day in days if first <= day <= last else fallback(day)

    return is_school_day
