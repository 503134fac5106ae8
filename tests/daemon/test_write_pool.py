"""The write pool: a student's writes keep their order on one worker, a failure stops it cleanly, and a
sync through a SIS that rate-limits (the sandbox capped at two requests in flight, answering 429 with
Retry-After beyond) ends in exactly the rows of a sync that writes one at a time."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.daemon.sandbox_sync import sandbox_district
from tests.daemon.service_support import comparable
from truancy.daemon.pipeline import SyncPipeline
from truancy.daemon.runtime import runtime
from truancy.daemon.settings import SettingsError, load_settings
from truancy.daemon.write_pool import WritePool


def test_each_group_runs_in_order_on_one_worker_and_results_arrive_on_the_caller() -> None:
    groups = [[(g, i) for i in range(5)] for g in range(20)]
    seen: list[tuple[int, int]] = []
    threads: set[int] = set()
    worker_of: dict[int, set[int]] = {}
    lock = threading.Lock()

    def work(item: tuple[int, int]) -> tuple[int, int]:
        with lock:
            worker_of.setdefault(item[0], set()).add(threading.get_ident())
        return item

    def deliver(item: tuple[int, int]) -> None:
        threads.add(threading.get_ident())
        seen.append(item)

    pool = WritePool(work, deliver, 4)
    for group in groups:
        pool.add(group)
    pool.drain()

    assert sorted(seen) == sorted(item for group in groups for item in group)
    for g in range(20):
        assert [i for group, i in seen if group == g] == list(range(5))
        assert len(worker_of[g]) == 1
    assert threads == {threading.get_ident()}


def test_a_failing_write_stops_new_groups_delivers_finished_ones_and_is_raised() -> None:
    delivered: list[int] = []

    def work(item: int) -> int:
        if item == 3:
            raise RuntimeError("the SIS went away")
        return item

    pool = WritePool(work, delivered.append, 2)
    for n in range(200):
        pool.add([n])
        pool.collect(block=pool.queued >= 4)
    with pytest.raises(RuntimeError, match="went away"):
        pool.drain()

    assert 3 not in delivered
    assert set(delivered) >= {0, 1, 2}
    assert len(delivered) < 199


def test_a_rate_limited_sis_gets_every_write_and_the_pool_narrows(tmp_path: Path) -> None:
    with sandbox_district(tmp_path / "one", students=60) as serial:
        with runtime(serial.settings) as rt:
            first = SyncPipeline(rt.engine, rt.plugin, rt.policy, write_concurrency=1).run_cycle(
                today=serial.today
            )
        assert first.ok
        assert first.writes.created > 0
        expected = comparable(serial.sis_rows())

    with sandbox_district(tmp_path / "pool", students=60) as pooled:
        pacing = {"latency_ms": 10, "max_concurrent": 2, "retry_after": 1}
        pooled.control("PUT", "/pacing", json=pacing)
        with runtime(pooled.settings) as rt:
            summary = SyncPipeline(rt.engine, rt.plugin, rt.policy, write_concurrency=8).run_cycle(
                today=pooled.today
            )
            refused = sum(session.stats.throttled for session in rt.plugin.sessions)
        state = pooled.control("GET", "/pacing").json()
        pooled.control("PUT", "/pacing", json={})
        again = pooled.sync()

        assert summary.ok, summary.errors
        assert summary.writes.as_dict() == first.writes.as_dict()
        assert state["peak_in_flight"] <= 2
        assert state["rejected"] >= 1
        assert refused == state["rejected"]
        assert comparable(pooled.sis_rows()) == expected
        assert again.writes.created == again.writes.updated == again.writes.deleted == 0


def test_write_concurrency_is_a_sync_setting_of_at_least_one(tmp_path: Path) -> None:
    with sandbox_district(tmp_path, students=20, extra_toml="\n[sync]\nwrite_concurrency = 3\n") as district:
        assert district.settings.sync.write_concurrency == 3
        text = district.config.read_text(encoding="utf-8").replace(
            "write_concurrency = 3", "write_concurrency = 0"
        )
        district.config.write_text(text, encoding="utf-8")
        with pytest.raises(SettingsError, match="write_concurrency"):
            load_settings(district.config)


def test_a_closed_pool_finishes_the_write_in_flight_hands_it_on_and_never_starts_the_queued() -> None:
    started, release = threading.Event(), threading.Event()
    ran: list[int] = []

    def work(item: int) -> int:
        ran.append(item)
        if item == 0:
            started.set()
            release.wait(10)
        return item

    delivered: list[int] = []
    pool = WritePool(work, delivered.append, 1)
    pool.add([0])
    pool.add([1])
    assert started.wait(10)
    threading.Timer(0.2, release.set).start()
    pool.close()  # a cycle interrupted while sending: the SIS has the write in flight
    pool.collect()
    assert delivered == [0]
    assert ran == [0]
