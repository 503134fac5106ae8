"""Run the sandbox SIS: in this process (tests), as a subprocess (benchmarks) or in the foreground.

``python -m truancy.sandbox.server`` prints one ``listening on <url>`` line once the socket
accepts connections; :class:`SandboxServer` waits for that line. uvicorn's access log stays off,
because request URLs can carry filters with student data.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import socket
import subprocess  # nosec B404 - only to start this module itself, with our own argv
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from truancy.sandbox.app import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, create_app
from truancy.sandbox.calendar import SchoolYear
from truancy.sandbox.edfi.views import LEA_ID
from truancy.sandbox.generator import DISTRICT_TIMEZONE, district_today, generate_district
from truancy.sandbox.model import District
from truancy.sandbox.pacing import PacingError, PacingSettings

READY_MARKER = "Sandbox SIS listening on "
ERROR_MARKER = "Sandbox SIS cannot start: "
STARTUP_TIMEOUT_SECONDS = 120.0
_SECRET_ENV = "TRUANCY_SANDBOX_CLIENT_SECRET"  # noqa: S105 (the variable name, not a secret)


class SandboxPortError(RuntimeError):
    """The sandbox cannot listen where it was asked to; the message says what to change."""


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, a response written in two parts waits out the
    # client's delayed ACK (about 40 ms a request on Linux loopback).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SandboxPortError(
                f"port {port} on {host} is already in use: stop what listens there, or pass another "
                "--port (0 picks a free one)"
            ) from None
        raise SandboxPortError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    return sock


def _url(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    reachable = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104 - maps a wildcard to loopback
    return f"http://[{reachable}]:{port}" if ":" in reachable else f"http://{reachable}:{port}"


def _uvicorn(
    district: District,
    client_id: str,
    client_secret: str,
    fragments_dir: Path | None = None,
    pacing: PacingSettings | None = None,
) -> uvicorn.Server:
    app = create_app(
        district, client_id=client_id, client_secret=client_secret, fragments_dir=fragments_dir, pacing=pacing
    )
    config = uvicorn.Config(app, access_log=False, log_level="warning", lifespan="off")
    return uvicorn.Server(config)


SisSection = tuple[str, Mapping[str, Any]]
"""A plugin's name and its ``[sis]`` table, for a daemon config."""
SisSettings = Callable[[Mapping[str, Any]], SisSection]
"""Turns :func:`sandbox_facts` into the ``[sis]`` section (the daemon asks the plugin for it)."""


def sandbox_facts(url: str, as_of: date | None = None) -> dict[str, Any]:
    """What a SIS plugin needs to point a daemon at this sandbox: where, the demo credentials, the
    school year served (by its end year) and the district's education organization id."""
    return {
        "url": url,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        "school_year": SchoolYear.containing(as_of or district_today()).end_year,
        "education_organization_id": LEA_ID,
    }


def _toml_table(name: str, values: Mapping[str, Any]) -> str:
    """One TOML table and its sub-tables (strings, numbers and booleans as JSON writes them)."""
    lines = [f"[{name}]"]
    nested = [(key, value) for key, value in values.items() if isinstance(value, Mapping)]
    lines += [f"{key} = {json.dumps(v)}" for key, v in values.items() if not isinstance(v, Mapping)]
    return "\n".join(lines) + "\n" + "".join("\n" + _toml_table(f"{name}.{key}", sub) for key, sub in nested)


def write_daemon_config(path: Path, url: str, sis: SisSection | None = None) -> None:
    """A daemon TOML config pointing at the sandbox at ``url``, with its state DB beside the file.

    ``sis``: the plugin and its ``[sis]`` table (default: PowerSchool with OneRoster 1.2 rosters)."""
    path = Path(path)
    state_db = path.resolve().parent / "truancy-state.db"
    if sis is not None:
        plugin, table = sis
        sis_text = _toml_table("sis", {"plugin": plugin, **table})
    else:
        sis_text = f"""[sis]
plugin = "powerschool"

[sis.oneroster]
base_url = {json.dumps(f"{url}/ims/oneroster/rostering/v1p2")}
token_url = {json.dumps(f"{url}/oauth/token")}
client_id = "sandbox"
client_secret = "sandbox"

[sis.powerschool]
base_url = {json.dumps(url)}
client_id = "sandbox"
client_secret = "sandbox"
"""
    text = f"""[district]
id = "sandbox"
name = "Sandbox Unified School District"
state = "CA"
timezone = "{DISTRICT_TIMEZONE}"

[store]
url = {json.dumps(f"sqlite:///{state_db}")}

{sis_text}"""
    path.parent.mkdir(parents=True, exist_ok=True)
    # It holds the sandbox's client secret: owner-only (0600) whatever the umask, or `truancy run`
    # and `sync` refuse it as they refuse any secret others can read.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    students: int = 2000,
    seed: int = 1,
    write_config: Path | None = None,
    *,
    client_id: str = DEMO_CLIENT_ID,
    client_secret: str = DEMO_CLIENT_SECRET,
    fragments_dir: Path | None = None,
    as_of: date | None = None,
    sis_settings: SisSettings | None = None,
    pacing: PacingSettings | None = None,
) -> None:
    """Serve a generated district in the foreground until interrupted (``as_of``: as generate_district).

    ``write_config`` is written once the socket listens, with ``sis_settings`` deciding its ``[sis]``."""
    server = _uvicorn(
        generate_district(students, seed, as_of), client_id, client_secret, fragments_dir, pacing
    )
    try:
        sock = _listening_socket(host, port)
    except SandboxPortError as exc:
        print(f"{ERROR_MARKER}{exc}", flush=True)
        sys.exit(2)
    url = _url(sock, host)
    if write_config is not None:
        sis = sis_settings(sandbox_facts(url, as_of)) if sis_settings is not None else None
        write_daemon_config(write_config, url, sis)
    print(f"{READY_MARKER}{url}", flush=True)
    server.run(sockets=[sock])


class SandboxServer:
    """A sandbox SIS for the duration of a ``with`` block (or between ``start()`` and ``stop()``)."""

    def __init__(
        self,
        students: int = 2000,
        seed: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        in_process: bool = True,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        fragments_dir: Path | None = None,
        as_of: date | None = None,
        pacing: PacingSettings | None = None,
    ) -> None:
        """``fragments_dir``: a PowerSchool plugin's ``web_root`` to insert into the pages.

        ``pacing``: a remote SIS's latency and concurrency cap (:mod:`truancy.sandbox.pacing`).

        ``as_of`` pins the sandbox's today (the school year in progress then, attendance up to the
        day before); by default it is the district's today, so tests and benchmarks pin it.
        """
        self._students, self._seed, self._host, self._port = students, seed, host, port
        self.as_of = as_of
        self.pacing = pacing
        self._fragments_dir = fragments_dir
        self._in_process = in_process
        self._client_id, self._client_secret = client_id, client_secret
        self._district: District | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[str] | None = None
        self.url = ""

    @property
    def district(self) -> District:
        """The ground truth being served (in-process servers only)."""
        if self._district is None:
            raise RuntimeError("the district is only available from a started in-process SandboxServer")
        return self._district

    def start(self) -> None:
        if self._in_process:
            self._start_thread()
        else:
            self._start_process()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
            self._server = self._thread = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _start_thread(self) -> None:
        self._district = generate_district(self._students, self._seed, self.as_of)
        server = _uvicorn(
            self._district, self._client_id, self._client_secret, self._fragments_dir, self.pacing
        )
        sock = _listening_socket(self._host, self._port)
        self.url = _url(sock, self._host)
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the in-process sandbox server did not start")
            time.sleep(0.01)

    def _start_process(self) -> None:
        command = [
            sys.executable, "-m", "truancy.sandbox.server", "--host", self._host, "--port", str(self._port),
            "--students", str(self._students), "--seed", str(self._seed), "--client-id", self._client_id,
        ]  # fmt: skip
        if self._fragments_dir is not None:
            command += ["--fragments-dir", str(self._fragments_dir)]
        if self.as_of is not None:
            command += ["--as-of", self.as_of.isoformat()]
        if self.pacing is not None:
            command += ["--latency-ms", str(self.pacing.latency_ms)]
            if self.pacing.max_concurrent is not None:
                command += ["--max-concurrent", str(self.pacing.max_concurrent)]
        environment = {**os.environ, _SECRET_ENV: self._client_secret}
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=environment)  # noqa: S603 - sys.executable and our own arguments
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if line.startswith(READY_MARKER):
                self.url = line.removeprefix(READY_MARKER).strip()
                return
            if line.startswith(ERROR_MARKER):
                self.stop()
                raise SandboxPortError(line.removeprefix(ERROR_MARKER).strip())
        self.stop()
        raise RuntimeError("the sandbox server process exited before it was ready")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a generated sandbox district SIS.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--write-config", type=Path, default=None)
    parser.add_argument("--client-id", default=DEMO_CLIENT_ID)
    parser.add_argument("--fragments-dir", type=Path, default=None, help="a PowerSchool plugin's web_root")
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="the sandbox's today (YYYY-MM-DD): its school year, attendance up to the day before",
    )
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="delay every response this long, as a remote SIS would"
    )
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=None,
        help="answer requests beyond this many in flight with 429 and Retry-After, as a SIS rate-limits",
    )
    args = parser.parse_args(argv)
    try:
        pacing = PacingSettings(latency_ms=args.latency_ms, max_concurrent=args.max_concurrent)
    except PacingError as exc:
        parser.error(str(exc))
    secret = os.environ.get(_SECRET_ENV, DEMO_CLIENT_SECRET)
    serve(
        args.host,
        args.port,
        args.students,
        args.seed,
        args.write_config,
        client_id=args.client_id,
        client_secret=secret,
        fragments_dir=args.fragments_dir,
        as_of=args.as_of,
        pacing=pacing,
    )


if __name__ == "__main__":
    main()
