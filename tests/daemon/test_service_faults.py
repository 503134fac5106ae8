"""Scheduled cycles against a faulty SIS end in the same SIS state as a fault-free run.

The service runs its real loop on a virtual clock: 5xx bursts, a 429 with Retry-After, a connection
dropped mid-response, a read-back that fails every attempt (a transient cycle failure) and expired
tokens; the metrics and health endpoints show what happened, and the failure is logged once when it
starts and once on recovery.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tests.daemon.sandbox_sync import District, sandbox_district
from tests.daemon.service_support import SERVICE_TOML, VirtualClock, comparable
from truancy.daemon.service import Options, SyncService

pytestmark = pytest.mark.slow
START = datetime(2026, 3, 2, 17, 10, tzinfo=UTC)  # a Monday, 09:10 in Los Angeles


def scheduled_service(district: District, clock: VirtualClock) -> SyncService:
    service = SyncService(Options(district.config, install_signals=False), clock=clock, wait=clock.wait)
    clock.cycles = lambda: service.cycles_run
    return service


def metric(service: SyncService, name: str, **labels: str) -> float:
    value = service.metrics.registry.get_sample_value(name, {"district": "sandbox", **labels})
    return value or 0.0


def test_faults_over_scheduled_cycles_end_like_a_fault_free_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with sandbox_district(tmp_path / "clean", students=120, extra_toml=SERVICE_TOML) as clean:
        assert scheduled_service(clean, VirtualClock(START)).run(max_cycles=2) == 0
        expected = comparable(clean.sis_rows())
    assert all(expected.values())

    with sandbox_district(tmp_path / "faulty", students=120, extra_toml=SERVICE_TOML) as district:
        for fault in (
            {"path_prefix": "/ims/oneroster/rostering/v1p2/students", "status": 503, "count": 2},
            {"path_prefix": "/ims/oneroster/rostering/v1p2/enrollments", "drop": True, "count": 1},
            {"path_prefix": "/ws/schema/query", "status": 429, "count": 1, "retry_after": 1},
            {"path_prefix": "/ws/schema/table/u_truancy_flags", "status": 502, "count": 3},
        ):
            district.control("POST", "/faults", json=fault)
        seen: dict[str, object] = {}

        def after_failed_cycle() -> None:
            assert service.health is not None
            url = service.health.url
            seen["readyz_failing"] = requests.get(f"{url}/readyz", timeout=10).status_code
            seen["page_failing"] = requests.get(url, timeout=10).text
            district.control("POST", "/tokens/expire")
            district.control("POST", "/faults", json={"path_prefix": "/ws/schema/table", "status": 503})

        def after_recovery() -> None:
            assert service.health is not None
            url = service.health.url
            ready = requests.get(f"{url}/readyz", timeout=10)
            seen["readyz_ok"] = (ready.status_code, ready.json()["reason"])
            seen["healthz"] = requests.get(f"{url}/healthz", timeout=10).json()
            seen["metrics"] = requests.get(f"{url}/metrics", timeout=10).text

        service = scheduled_service(
            district, VirtualClock(START, after_cycle={1: after_failed_cycle, 2: after_recovery})
        )
        with caplog.at_level(logging.INFO, logger="truancy.daemon.service"):
            assert service.run(max_cycles=3) == 0
        assert comparable(district.sis_rows()) == expected

    assert seen["readyz_failing"] == 503
    assert "Needs attention" in str(seen["page_failing"])
    assert "transient" in str(seen["page_failing"])
    assert seen["readyz_ok"] == (200, "the last cycle succeeded")
    assert seen["healthz"] == {"status": "alive", "district": "sandbox"}
    assert 'truancy_cycles_total{district="sandbox",error_class="transient",status="failed"} 1.0' in str(
        seen["metrics"]
    )
    assert metric(service, "truancy_cycles_total", status="failed", error_class="transient") == 1
    assert metric(service, "truancy_cycles_total", status="succeeded", error_class="") == 2
    assert metric(service, "truancy_http_retries_total", session="sis.oneroster") >= 3
    assert metric(service, "truancy_http_throttled_total", session="sis.powerschool") >= 1
    assert metric(service, "truancy_http_retries_total", session="sis.powerschool") >= 3
    assert metric(service, "truancy_writes_total", kind="flag", op="create", outcome="done") > 0
    assert metric(service, "truancy_outbox_depth") == 0
    assert metric(service, "truancy_last_success_timestamp_seconds", stream="writeback") > 0
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len([m for m in messages if m.startswith("sync is failing")]) == 1
    assert len([m for m in messages if m.startswith("sync recovered")]) == 1
