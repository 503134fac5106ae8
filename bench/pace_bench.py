"""Sync against a SIS at a distance: a first sync, the cycle after it, a no-change cycle and a 1% change,
with the sandbox answering every request ``--latency-ms`` late (in its own process, as a real SIS would be).

    .venv/bin/python bench/pace_bench.py --students 20000 --latency-ms 50
    .venv/bin/python bench/pace_bench.py --students 2000 --base /tmp/base   # and the old code beside

The first sync is set against its ideal: every read one round trip after another (reads are paged
in order), every write one round trip shared by ``write_concurrency`` in flight:
``(reads + writes / concurrency) x latency``. ``--base DIR`` runs the same cycles with the daemon
imported from another checkout (``git worktree add DIR <commit>``) against a fresh sandbox of the
same district in the same run, so the two figures compare. Peak RSS is the daemon's process alone.

The cycle after the first sync reads back the rows the first sync wrote (an incremental read-back
reads what changed since the last cycle, and the daemon's own writes are changes); the no-change
cycle after it is the steady state. The 1% change re-codes an absence of 0.5% of the students to
excused (a parent's note) and adds a new unexcused absence for another 0.5%.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import resource
import subprocess  # nosec B404 - only this script itself, with our own argv
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from truancy.sandbox.generator import FIRST_STUDENT_DCID
from truancy.sandbox.server import SandboxServer, write_daemon_config

if TYPE_CHECKING:  # the base checkout's child imports this script, and it may predate pacing
    from truancy.sandbox.pacing import PacingSettings

AS_OF = date(2026, 6, 5)
"""Just after 2025-26, a whole school year, so runs compare."""


def served(url: str) -> int:
    total: int = requests.get(f"{url}/_sandbox/stats", timeout=30).json()["total"]
    return total


def change_one_percent(url: str, students: int) -> int:
    """Corrections for one student in 200 (an unexcused absence re-coded excused) and a new unexcused
    absence, on the last school day they have none, for another one in 200; returns how many the SIS took."""
    changed = 0
    for index in range(0, students, 200):
        rows = requests.get(f"{url}/_sandbox/attendance/{FIRST_STUDENT_DCID + index}", timeout=60).json()
        absent = [row for row in rows if row["att_code"] == "UNX"]
        if absent:
            body = {"dcid": absent[-1]["dcid"], "att_code": "EX"}
            changed += requests.post(f"{url}/_sandbox/attendance/correct", json=body, timeout=30).ok
    for index in range(100, students, 200):
        for back in range(1, 15):
            body = {
                "studentsdcid": FIRST_STUDENT_DCID + index,
                "att_date": (AS_OF - timedelta(days=back)).isoformat(),
                "att_code": "UNX",
            }
            if requests.post(f"{url}/_sandbox/attendance", json=body, timeout=30).status_code == 201:
                changed += 1
                break
    return changed


CYCLES = ("first_sync", "after_first", "no_change", "one_percent")


def cycles(url: str, concurrency: int, students: int) -> dict[str, Any]:
    """The cycles by the daemon this interpreter imports, against the sandbox at ``url``."""
    from truancy.daemon.pipeline import SyncPipeline
    from truancy.daemon.runtime import runtime
    from truancy.daemon.settings import load_settings

    pooled = "write_concurrency" in inspect.signature(SyncPipeline).parameters
    results: dict[str, Any] = {"pooled": pooled}
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "truancy.toml"
        write_daemon_config(config, url)
        settings = load_settings(config)
        for label in CYCLES:
            if label == "one_percent":
                results["one_percent_changes"] = change_one_percent(url, students)
            with runtime(settings) as rt:
                extra: dict[str, Any] = {"write_concurrency": concurrency} if pooled else {}
                pipeline = SyncPipeline(rt.engine, rt.plugin, rt.policy, **extra)
                load = round(os.getloadavg()[0], 1)
                before, started = served(url), time.perf_counter()
                summary = pipeline.run_cycle(today=AS_OF)
                seconds = time.perf_counter() - started
            writes = summary.writes.as_dict()
            sent = writes["created"] + writes["updated"] + writes["deleted"] + writes["failed"]
            results[label] = {
                "seconds": round(seconds, 1),
                "requests": served(url) - before,
                "writes": sent,
                "evaluated": getattr(summary, "evaluated", None),
                "load_average": load,
                "errors": summary.errors[:3],
            }
            if label == "first_sync":
                results["first_sync_peak_rss_mb"] = _peak_rss_mb()
        results["attendance_records"] = summary.attendance_records
    results["peak_rss_mb"] = _peak_rss_mb()
    return results


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def with_ratios(results: dict[str, Any], latency_ms: int, concurrency: int) -> dict[str, Any]:
    first = results["first_sync"]
    width = concurrency if results["pooled"] else 1
    reads = first["requests"] - first["writes"]
    ideal = (reads + first["writes"] / width) * latency_ms / 1000
    first["ideal_seconds"] = round(ideal, 1)
    first["ratio_to_ideal"] = round(first["seconds"] / ideal, 2) if ideal else None
    for label in CYCLES[1:]:
        cycle = results[label]
        cycle["time_share_of_first"] = round(cycle["seconds"] / first["seconds"], 4)
        cycle["request_share_of_first"] = round(cycle["requests"] / first["requests"], 4)
    return results


def run_base(
    base: Path, students: int, seed: int, pacing: PacingSettings, concurrency: int
) -> dict[str, Any]:
    """The same cycles with the daemon from ``base``, in a child whose ``truancy`` is that checkout."""
    with tempfile.TemporaryDirectory() as shim, _sandbox(students, seed, pacing) as server:
        (Path(shim) / "truancy").symlink_to(base.resolve())
        environment = {**os.environ, "PYTHONPATH": shim}
        command = [sys.executable, __file__, "--daemon-only", server.url, "--students", str(students)]
        command += ["--write-concurrency", str(concurrency)]
        child = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    results: dict[str, Any] = json.loads(child.stdout)
    return results


def _sandbox(students: int, seed: int, pacing: PacingSettings) -> SandboxServer:
    return SandboxServer(students=students, seed=seed, in_process=False, as_of=AS_OF, pacing=pacing)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--write-concurrency", type=int, default=8)
    parser.add_argument("--base", type=Path, default=None, help="a checkout of the code to compare with")
    parser.add_argument(
        "--base-only", action="store_true", help="run only the --base checkout (a second run beside this one)"
    )
    parser.add_argument("--daemon-only", metavar="URL", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.daemon_only:
        print(json.dumps(cycles(args.daemon_only, args.write_concurrency, args.students)))
        return
    from truancy.sandbox.pacing import PacingSettings

    pacing = PacingSettings(latency_ms=args.latency_ms)
    report: dict[str, Any] = {
        "students": args.students,
        "latency_ms": args.latency_ms,
        "write_concurrency": args.write_concurrency,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    if not args.base_only:
        with _sandbox(args.students, args.seed, pacing) as server:
            report["this_code"] = with_ratios(
                cycles(server.url, args.write_concurrency, args.students),
                args.latency_ms,
                args.write_concurrency,
            )
    if args.base is not None:
        base = run_base(args.base, args.students, args.seed, pacing, args.write_concurrency)
        report["base_code"] = with_ratios(base, args.latency_ms, args.write_concurrency)
        if "this_code" in report:
            first = report["this_code"]["first_sync"]["seconds"]
            report["first_sync_speedup"] = round(report["base_code"]["first_sync"]["seconds"] / first, 2)
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
