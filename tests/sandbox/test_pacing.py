"""The sandbox at a remote SIS's pace, over real HTTP: responses held back, and a cap on requests in
flight answered with 429 and Retry-After. No timing assertions: what is checked is what the sandbox
counts (requests in flight, requests turned away) and what it answers."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from typer.testing import CliRunner

from tests.sandbox.helpers import ROSTER, TIMEOUT, code_minor, powerschool_headers, roster_headers
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.cli import app
from truancy.sandbox.pacing import PacingSettings
from truancy.sandbox.server import READY_MARKER, SandboxServer

ATTENDANCE = "/ws/schema/query/com.truancysync.attendance.daily.records"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(students=40, seed=3, as_of=PINNED_AS_OF) as running:
        yield running


def _pacing(server: SandboxServer, body: object | None = None) -> requests.Response:
    method = "GET" if body is None else "PUT"
    return requests.request(method, f"{server.url}/_sandbox/pacing", json=body, timeout=TIMEOUT)


def _wait_for(server: SandboxServer, key: str, value: int) -> dict[str, object]:
    for _ in range(500):
        state: dict[str, object] = _pacing(server).json()
        if state[key] == value:
            return state
        time.sleep(0.02)
    raise AssertionError(f"the sandbox never reported {key} = {value}")


def test_pacing_starts_off_and_is_set_and_read_back(server: SandboxServer) -> None:
    assert _pacing(server).json() == {
        "latency_ms": 0,
        "max_concurrent": None,
        "retry_after": 1,
        "in_flight": 0,
        "peak_in_flight": 0,
        "rejected": 0,
    }
    answer = _pacing(server, {"latency_ms": 50, "max_concurrent": 4, "retry_after": 2})
    assert answer.status_code == 200
    assert _pacing(server).json()["latency_ms"] == 50
    assert _pacing(server).json()["max_concurrent"] == 4


@pytest.mark.parametrize(
    "body", [{"latency_ms": -1}, {"latency_ms": "soon"}, {"max_concurrent": 0}, {"retry_after": -3}, [1]]
)
def test_bad_pacing_is_400_and_changes_nothing(server: SandboxServer, body: object) -> None:
    answer = _pacing(server, body)
    assert answer.status_code == 400
    assert "pacing" in answer.json()["message"] or "expected" in answer.json()["message"]
    assert _pacing(server).json()["latency_ms"] == 0


def test_a_delayed_response_holds_its_slot_until_it_is_answered(server: SandboxServer) -> None:
    headers = powerschool_headers(server.url)
    _pacing(server, {"latency_ms": 1500})
    result: list[int] = []
    worker = threading.Thread(
        target=lambda: result.append(
            requests.post(f"{server.url}{ATTENDANCE}", headers=headers, timeout=TIMEOUT).status_code
        )
    )
    worker.start()
    held = _wait_for(server, "in_flight", 1)
    assert result == []  # still waiting for its answer while the sandbox counts it in flight
    assert held["peak_in_flight"] == 1
    worker.join(TIMEOUT)
    assert result == [200]
    assert _pacing(server).json()["in_flight"] == 0


def test_requests_over_the_cap_are_429_with_retry_after(server: SandboxServer) -> None:
    headers = roster_headers(server.url)
    _pacing(server, {"latency_ms": 1500, "max_concurrent": 2, "retry_after": 3})
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def fetch() -> None:
        response = requests.get(f"{server.url}{ROSTER}/orgs", headers=headers, timeout=TIMEOUT)
        with lock:
            answers.append(response)

    first = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in first:
        thread.start()
    _wait_for(server, "in_flight", 2)
    over = [threading.Thread(target=fetch) for _ in range(3)]
    for thread in over:
        thread.start()
    for thread in over + first:
        thread.join(TIMEOUT)
    refused = [r for r in answers if r.status_code == 429]
    state = _pacing(server).json()
    assert len(answers) == 5
    assert state["peak_in_flight"] == 2
    assert len(refused) == state["rejected"] >= 1
    assert all(r.headers["Retry-After"] == "3" for r in refused)
    assert all(code_minor(r.json()) == "server_busy" for r in refused)
    assert all(r.status_code == 200 for r in answers if r not in refused)


def test_settings_refuse_out_of_range_values() -> None:
    with pytest.raises(ValueError, match="max_concurrent"):
        PacingSettings(max_concurrent=0)


def test_a_sandbox_process_started_with_pacing_serves_at_that_pace() -> None:
    pacing = PacingSettings(latency_ms=30, max_concurrent=3)
    with SandboxServer(students=20, seed=2, as_of=PINNED_AS_OF, in_process=False, pacing=pacing) as server:
        state = _pacing(server).json()
    assert state["latency_ms"] == 30
    assert state["max_concurrent"] == 3


def test_sandbox_serve_takes_latency_and_a_cap_and_refuses_a_bad_one() -> None:
    command = [
        "sandbox",
        "serve",
        "--port",
        "0",
        "--students",
        "20",
        "--latency-ms",
        "40",
        "--max-concurrent",
        "5",
    ]
    served = subprocess.Popen(
        [sys.executable, "-c", "from truancy.daemon.cli import main; main()", *command],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert served.stdout is not None
        line = next(line for line in served.stdout if line.startswith(READY_MARKER))
        url = line.removeprefix(READY_MARKER).strip()
        state = requests.get(f"{url}/_sandbox/pacing", timeout=TIMEOUT).json()
    finally:
        served.terminate()
        served.wait(30)
        if served.stdout is not None:
            served.stdout.close()
    assert (state["latency_ms"], state["max_concurrent"]) == (40, 5)

    refused = CliRunner().invoke(app, ["sandbox", "serve", "--port", "0", "--max-concurrent", "0"])
    assert refused.exit_code == 2
    assert "max_concurrent must be at least 1" in refused.output
