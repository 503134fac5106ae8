"""The health endpoint for IT staff: /healthz, /readyz, /metrics and a status page at /.

It listens on loopback only and shows no student data: quarantined records appear as hashed keys.
The page refreshes itself and fits a phone screen, so whoever is on call can check it from anywhere
the loopback port is forwarded to.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from truancy.daemon.status import StatusReport, cycle_status, read_status
from truancy.daemon.store import StoreError

REFRESH_SECONDS = 30


@dataclass
class LiveState:
    """What the running service knows beyond the store: shared with the web thread (simple fields)."""

    district: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    next_run_at: datetime | None = None
    next_run_full: bool = False
    cycle_id: int | None = None
    stream: str | None = None
    failing: str | None = None
    """The error class of the failure in progress, or None."""
    reload_error: str | None = None


@dataclass
class Verdict:
    ready: bool
    reason: str


def readiness(report: StatusReport, now: datetime, max_age: timedelta) -> Verdict:
    last = report.last_conclusive_cycle
    if last is None:
        return Verdict(False, "no sync cycle has finished yet")
    if last["status"] == "blocked":
        return Verdict(False, "the retraction guard held the last cycle's writes back")
    if last["status"] != "succeeded":
        return Verdict(False, f"the last cycle failed ({last['error_class'] or 'data'} error)")
    success = report.last_success
    if success is None or now - success > max_age:
        return Verdict(False, f"no successful cycle in the last {max_age.total_seconds() / 3600:.0f} h")
    return Verdict(True, "the last cycle succeeded")


class HealthApp:
    def __init__(
        self,
        engine: Callable[[], Engine],
        registry: CollectorRegistry,
        live: LiveState,
        ready_max_age: timedelta,
    ) -> None:
        self._engine = engine
        self.registry = registry
        self.live = live
        self.ready_max_age = ready_max_age
        self.app = Starlette(
            routes=[
                Route("/", self.page),
                Route("/healthz", self.healthz),
                Route("/readyz", self.readyz),
                Route("/metrics", self.metrics),
            ]
        )

    def _report(self) -> StatusReport | None:
        try:
            return read_status(self._engine())
        except (StoreError, SQLAlchemyError):
            return None

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "alive", "district": self.live.district})

    async def readyz(self, request: Request) -> Response:
        report = self._report()
        verdict = (
            Verdict(False, "the state store cannot be read")
            if report is None
            else readiness(report, datetime.now(UTC), self.ready_max_age)
        )
        body = {"ready": verdict.ready, "reason": verdict.reason, "district": self.live.district}
        return JSONResponse(body, status_code=200 if verdict.ready else 503)

    async def metrics(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    async def page(self, request: Request) -> Response:
        report = self._report()
        now = datetime.now(UTC)
        verdict = (
            Verdict(False, "the state store cannot be read")
            if report is None
            else readiness(report, now, self.ready_max_age)
        )
        html = render_page(self.live, report, verdict, now)
        return HTMLResponse(html, status_code=200, headers={"Cache-Control": "no-store"})


class HealthPortError(RuntimeError):
    """The health endpoint's port is taken: a one-line error naming the setting to change."""


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise HealthPortError(
                f"port {port} on {host} is already in use: stop what listens there, or set health.port "
                "to another port (0 picks a free one)"
            ) from None
        raise HealthPortError(
            f"cannot listen on {host}:{port} (health.host, health.port): {exc.strerror}"
        ) from None
    return sock


class HealthServer:
    """uvicorn in a daemon thread, so the sync loop keeps the main thread and its signals."""

    def __init__(self, app: HealthApp, host: str, port: int) -> None:
        config = uvicorn.Config(app.app, access_log=False, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._host_port = (host, port)
        self._thread: threading.Thread | None = None
        self.host = host

    def start(self, timeout: float = 30.0) -> None:
        """Listen (HealthPortError when the port is taken), then serve in the background."""
        sock = _bind(*self._host_port)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="health-http", daemon=True
        )
        self._thread.start()
        started = threading.Event()
        while not self._server.started and self._thread.is_alive():
            started.wait(0.02)
            timeout -= 0.02
            if timeout <= 0:
                break
        if not self._server.started:
            raise HealthPortError(f"the health endpoint on {self.host} did not start within the timeout")

    @property
    def port(self) -> int:
        servers = self._server.servers
        port: int = servers[0].sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


STYLE = """
body{font:16px/1.45 system-ui,-apple-system,sans-serif;margin:0;padding:12px;max-width:960px;
margin-inline:auto;color:#1b1b1b;background:#fafafa}
h1{font-size:1.3rem;margin:.2rem 0}h2{font-size:1.05rem;margin:1.2rem 0 .4rem}
.verdict{padding:12px 14px;border-radius:8px;color:#fff;font-weight:600}
.ok{background:#1e7d32}.bad{background:#b3261e}.muted{color:#666;font-size:.9rem}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.92rem}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e3e3e3;vertical-align:top}
.scroll{overflow-x:auto}.fail{color:#b3261e;font-weight:600}code{font-size:.85rem}
"""


def _cell(value: object) -> str:
    return f"<td>{escape(str(value)) if value not in (None, '') else '&ndash;'}</td>"


def _table(headers: list[str], rows: list[list[object]], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _age(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def _stream_error(failing: bool, kind: str | None, message: str | None) -> str:
    if not message:
        return ""
    return f"{'FAILING: ' if failing else 'recovered: '}{kind or 'data'} error: {message}"


def render_page(live: LiveState, report: StatusReport | None, verdict: Verdict, now: datetime) -> str:
    css = "ok" if verdict.ready else "bad"
    title = "Healthy" if verdict.ready else "Needs attention"
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width,initial-scale=1">',
        f'<meta http-equiv=refresh content="{REFRESH_SECONDS}">',
        f"<title>truancy-sync: {escape(live.district)}: {title}</title><style>{STYLE}</style></head><body>",
        f"<h1>truancy-sync &middot; {escape(live.district)}</h1>",
        f'<div class="verdict {css}" id=verdict>{title}: {escape(verdict.reason)}</div>',
    ]
    running = (
        f"cycle {live.cycle_id} running ({escape(live.stream or 'starting')})"
        if live.cycle_id is not None
        else "idle"
    )
    next_run = (
        f"{live.next_run_at:%Y-%m-%d %H:%M} UTC{' (full reconcile)' if live.next_run_full else ''}"
        if live.next_run_at
        else "&ndash;"
    )
    parts.append(f'<p class="muted">Now {running}. Next run: {next_run}. Refresh: {REFRESH_SECONDS} s.</p>')
    if live.failing:
        parts.append(f'<p class="fail">Failing since the last cycle: {escape(live.failing)} error.</p>')
    if live.reload_error:
        rejected = escape(live.reload_error)
        parts.append(f'<p class="fail">Reload rejected (the previous settings still run): {rejected}</p>')
    if report is None:
        parts.append("<p class=fail>The state store cannot be read: check store.url and the database.</p>")
        parts.append("</body></html>")
        return "".join(parts)
    parts.append("<h2>Streams</h2>")
    parts.append(
        _table(
            ["stream", "last success", "lag", "error"],
            [
                [
                    name,
                    stream.last_success or "never",
                    _age(stream.lag_seconds),
                    _stream_error(stream.failing, stream.error_class, stream.last_error),
                ]
                for name, stream in report.streams.items()
            ],
            "No stream has run yet.",
        )
    )
    parts.append("<h2>Recent cycles</h2>")
    parts.append(
        _table(
            ["cycle", "started", "status", "writes", "errors"],
            [
                [
                    c["id"],
                    c["started_at"],
                    cycle_status(c) + (f" ({c['error_class']})" if c["error_class"] else ""),
                    ", ".join(f"{k} {v}" for k, v in (c["writes"] or {}).items() if v),
                    "; ".join(c["errors"]),
                ]
                for c in report.recent_cycles
            ],
            "No cycle yet.",
        )
    )
    parts.append(
        f'<p class="muted">Outbox: {report.outbox_pending} pending, '
        f"{report.outbox_failed_last_cycle} refused in the last cycle.</p>"
    )
    parts.append("<h2>Quarantine</h2>")
    parts.append(
        _table(
            ["stream", "record (hashed)", "reason"],
            [[q["stream"], q["record"], q["reason"]] for q in report.quarantined],
            "Nothing quarantined.",
        )
    )
    parts.append("<h2>Unknown attendance codes</h2>")
    parts.append(
        _table(
            ["code", "records"],
            [[code, count] for code, count in sorted(report.unknown_codes.items())],
            "Every code has a mapping.",
        )
    )
    parts.append("<h2>Held cases</h2>")
    parts.append(
        _table(
            ["waiting for code", "cases held"],
            [[code, count] for code, count in sorted(report.held["codes"].items())],
            "No case is held.",
        )
    )
    if report.blocked is not None:
        parts.append(f'<p id="blocked">Retraction guard: {escape(report.blocked["reason"])}</p>')
    parts.append(f'<p class="muted">Rendered {now:%Y-%m-%d %H:%M:%S} UTC.</p></body></html>')
    return "".join(parts)
