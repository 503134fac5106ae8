"""Full first sync and a no-change second sync of a sandbox district, timed, with peak memory.

The sandbox runs in its own process (as a real SIS would), so the figures are the daemon's:
    .venv/bin/python bench/sync_bench.py --students 20000
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from truancy.daemon.pipeline import SyncPipeline
from truancy.daemon.runtime import runtime
from truancy.daemon.settings import load_settings
from truancy.sandbox.server import SandboxServer, write_daemon_config


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=date(2026, 6, 5),
        help="the sandbox's today (default: just after 2025-26, a whole year, so runs compare)",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxServer(students=args.students, seed=args.seed, in_process=False, as_of=args.as_of) as server,
    ):
        config = Path(tmp) / "truancy.toml"
        write_daemon_config(config, server.url)
        settings = load_settings(config)
        results = {"students": args.students}
        for label in ("first_sync", "second_sync"):
            with runtime(settings) as rt:
                started = time.perf_counter()
                summary = SyncPipeline(rt.engine, rt.plugin, rt.policy).run_cycle(today=args.as_of)
                results[f"{label}_seconds"] = round(time.perf_counter() - started, 2)
                results[f"{label}_writes"] = summary.writes.as_dict()
        results["attendance_records"] = summary.attendance_records
        results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
