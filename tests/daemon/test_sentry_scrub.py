"""Sentry events and breadcrumbs from a real run carry no student data, and still say what failed.

The service runs scheduled cycles against a sandbox district with Sentry configured through
``daemon/sentry.py``; only the transport is swapped for one that keeps envelopes in memory. One
cycle fails inside the pipeline while student rows are in its frames' locals (a store row with a
category no code wrote), one fails on a 503 burst that outlasts every retry; each envelope is then
searched for every name, id and birth date of the sandbox district.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.daemon.sandbox_sync import District, sandbox_district
from tests.daemon.service_support import SERVICE_TOML, VirtualClock
from truancy.daemon import service as service_module
from truancy.daemon.schema import attendance, evaluation_due
from truancy.daemon.sentry import init_sentry
from truancy.daemon.service import Options, SyncService
from truancy.daemon.settings import SentrySettings

sentry_sdk = pytest.importorskip("sentry_sdk", reason="sentry-sdk is not installed (truancy-sync[sentry])")
from sentry_sdk.envelope import Envelope  # noqa: E402
from sentry_sdk.transport import Transport  # noqa: E402

pytestmark = pytest.mark.slow
START = datetime(2026, 3, 2, 17, 10, tzinfo=UTC)  # a Monday, 09:10 in Los Angeles
SENTRY_TOML = '\n[sentry]\ndsn = "https://public@sentry.invalid/1"\nenvironment = "test"\n'


class CapturingTransport(Transport):
    """Keeps every envelope the client would have sent; nothing leaves the process."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        return [
            item.payload.json
            for envelope in self.envelopes
            for item in envelope.items
            if item.type == "event" and item.payload.json is not None
        ]


@pytest.fixture
def transport(monkeypatch: pytest.MonkeyPatch) -> Iterator[CapturingTransport]:
    """The service's own ``init_sentry``, with the network transport replaced right after it."""
    capturing = CapturingTransport()

    def init_capturing(settings: SentrySettings, district: str, release: str) -> bool:
        started = init_sentry(settings, district, release)
        client = sentry_sdk.get_client()
        if client.transport is not None:
            client.transport.kill()
        client.transport = capturing
        return started

    monkeypatch.setattr(service_module, "init_sentry", init_capturing)
    yield capturing
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


def garble_one_attendance_row(service: SyncService) -> None:
    """A store row no ingest wrote (no raw code, a category no map has): evaluating it raises while
    that student's rows are in locals."""
    with service.runtime.engine.begin() as connection:
        key, student_id = connection.execute(
            select(attendance.c.source_key, attendance.c.student_id).limit(1)
        ).one()
        connection.execute(
            update(attendance).where(attendance.c.source_key == key).values(code=None, category="garbled")
        )
        # as an ingest that changes a row marks its student, so the next cycle evaluates it
        connection.execute(evaluation_due.insert().values(student_id=student_id, cycle_id=0))


def student_values(district: District) -> set[str]:
    values: set[str] = set()
    for student in district.server.district.students:
        values.update((student.given_name, student.family_name, student.student_number, student.sourced_id))
        values.add(student.birth_date.isoformat())
    return {value for value in values if value}


def leaked_dcids(district: District, text: str) -> set[str]:
    return {
        str(student.dcid)
        for student in district.server.district.students
        if re.search(rf"(?<![\w.:-]){student.dcid}(?![\w.:-])", text)
    }


def test_sentry_events_of_a_failing_run_carry_no_student_data(
    tmp_path: Path, transport: CapturingTransport
) -> None:
    with sandbox_district(tmp_path, students=120, extra_toml=SERVICE_TOML + SENTRY_TOML) as district:

        def after_first_cycle() -> None:
            garble_one_attendance_row(service)

        def after_internal_failure() -> None:
            district.control(
                "POST",
                "/faults",
                json={"path_prefix": "/ims/oneroster/rostering/v1p2/students", "status": 503, "count": 10},
            )

        clock = VirtualClock(START, after_cycle={1: after_first_cycle, 2: after_internal_failure})
        service = SyncService(Options(district.config, install_signals=False), clock=clock, wait=clock.wait)
        clock.cycles = lambda: service.cycles_run
        assert service.run(max_cycles=3) == 0
        sentry_sdk.flush()
        serialised = "\n".join(envelope.serialize().decode("utf-8") for envelope in transport.envelopes)
        values = student_values(district)
        dcids = leaked_dcids(district, serialised)

    events = transport.events()
    assert events, "no Sentry event was captured"
    leaks = sorted(value for value in values if value in serialised) + sorted(dcids)
    assert not leaks, f"{len(leaks)} student values in Sentry envelopes, e.g. {leaks[:3]}"

    exceptions = [value for event in events for value in (event.get("exception") or {}).get("values", [])]
    assert any(value["type"] == "ValueError" for value in exceptions), "the internal error lost its type"
    frames = [frame for value in exceptions for frame in (value.get("stacktrace") or {}).get("frames", [])]
    assert any(frame.get("module") == "truancy.daemon.evaluate" for frame in frames)
    assert all("vars" not in frame for frame in frames)
    error_classes = {(event.get("extra") or {}).get("error_class") for event in events}
    assert {"internal", "transient"} <= error_classes
    assert all(event.get("tags", {}).get("district") == "sandbox" for event in events)
    assert all("request" not in event and "user" not in event for event in events)

    crumbs = [crumb for event in events for crumb in (event.get("breadcrumbs") or {}).get("values", [])]
    http = [crumb for crumb in crumbs if crumb.get("category") == "httplib"]
    assert http, "HTTP breadcrumbs were dropped altogether"
    assert any("/ws/schema/" in crumb["data"]["url"] for crumb in http)
    for crumb in http:
        assert "?" not in crumb["data"]["url"]
        assert "http.query" not in crumb["data"]
    queries = [crumb for crumb in crumbs if crumb.get("category") == "query"]
    assert all(set(crumb.get("data") or {}) <= {"db.executemany"} for crumb in queries), "SQL parameters"
