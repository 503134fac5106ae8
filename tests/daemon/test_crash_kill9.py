"""``kill -9`` anywhere in a sync, then a restart, ends in exactly the SIS state of a clean run.

The daemon runs as child processes (forked from a forkserver that has the imports loaded, so each
start is cheap) against a sandbox SIS in another process. Each child is killed once it has sent a
chosen number of requests: the first kills land in the reads, the rest spread over the writes, each
child resuming where the journal and bookmarks left the last one. A final child runs to the end.
The crashing children write through the default pool of eight against a SIS 5 ms away, so each kill
lands with several writes in flight, some of which the SIS applies after the writer is gone.
"""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest
import requests

from tests.daemon.sandbox_sync import TABLES, District, sandbox_district
from tests.daemon.service_support import comparable, sync_once
from tests.sandbox_year import PINNED_AS_OF
from truancy.daemon.settings import load_settings
from truancy.sandbox.server import SandboxServer, write_daemon_config

pytestmark = pytest.mark.slow
STUDENTS = 120
LATENCY_MS = 5
KILLS = 50
READ_PHASE_KILLS = 10
POLL_SECONDS = 0.005


def requests_served(url: str) -> int:
    total: int = requests.get(f"{url}/_sandbox/stats", timeout=10).json()["total"]
    return total


def rows_written(district: District) -> int:
    return sum(len(rows) for rows in district.sis_rows().values())


def kill_after(
    context: multiprocessing.context.ForkServerContext, config: Path, url: str, count: int
) -> bool:
    """Start a sync and SIGKILL it after ``count`` more SIS requests; False if it finished first."""
    before = requests_served(url)
    child = context.Process(target=sync_once, args=(str(config),))
    child.start()
    while child.is_alive() and requests_served(url) - before < count:
        time.sleep(POLL_SECONDS)
    killed = child.is_alive()
    child.kill()
    child.join()
    return killed


def test_kill_9_at_fifty_points_then_restart_matches_a_clean_run(tmp_path: Path) -> None:
    with sandbox_district(tmp_path / "clean", students=STUDENTS) as clean:
        assert clean.sync().ok
        expected = comparable(clean.sis_rows())
        before = requests_served(clean.server.url)
        assert clean.sync().ok  # nothing left to write: the requests every cycle makes just to read
        reads_per_cycle = requests_served(clean.server.url) - before
    assert all(expected[table] for table in TABLES)

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["truancy.daemon.cli", "tests.daemon.service_support"])
    config = tmp_path / "crash" / "truancy.toml"
    with SandboxServer(students=STUDENTS, in_process=False, as_of=PINNED_AS_OF) as server:
        write_daemon_config(config, server.url)
        # the clean run above syncs without family notices (District.sync), so this one does too;
        # notices' own crash between sending and logging: tests/daemon/test_notices_end_to_end.py
        with config.open("a", encoding="utf-8") as settings_file:
            settings_file.write("\n[notices]\nenabled = false\n")
        district = District(server, load_settings(config), config)
        district.control("PUT", "/pacing", json={"latency_ms": LATENCY_MS})
        kills, progress = 0, []
        for attempt in range(KILLS * 2):
            if kills == KILLS:
                break
            # The first kills land among the reads; the rest a few writes past the reads, so each
            # child makes a little progress and the kills spread over the whole write phase.
            count = attempt + 1 if attempt < READ_PHASE_KILLS else reads_per_cycle + 2 + attempt % 4
            if kill_after(context, config, server.url, count):
                kills += 1
                progress.append(rows_written(district))
        assert kills == KILLS

        final = context.Process(target=sync_once, args=(str(config),))
        final.start()
        final.join()
        assert final.exitcode == 0
        assert comparable(district.sis_rows()) == expected

    assert progress[READ_PHASE_KILLS - 1] == 0, "the first kills should land before any write"
    assert len(set(progress)) >= 20, f"kills should spread over the writes, got {sorted(set(progress))}"
