"""OneRoster: a full reconcile's peak memory, and how much a delta reads after 1% of users change.

The sandbox runs in its own process; the figures are this process's (the daemon's side):
    .venv/bin/python bench/oneroster_bench.py --students 100000

1. Full reconcile: every student and enrollment streamed through the PowerSchool plugin's roster
   pages (what the daemon does on schedule), counted and dropped page by page; peak RSS reported.
2. Delta: 1% of users are touched in the sandbox, then a delta read of ``users`` from the
   reconcile's bookmark; records read are compared with the collection's size. The delta includes
   the overlap window (records stamped shortly before the bookmark are re-read on purpose).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import requests

from truancy.connector.http import HttpSession
from truancy.connector.oauth1 import OAuth1Signer
from truancy.connector.oneroster import DeltaRead, OneRosterClient
from truancy.plugins.base import ConnectionOptions
from truancy.plugins.powerschool.plugin import PowerSchoolPlugin
from truancy.sandbox.server import SandboxServer


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def full_reconcile(url: str, config_dir: Path, page_size: int) -> dict[str, float | int | str | None]:
    config = {
        "oneroster": {
            "base_url": f"{url}/ims/oneroster/rostering/v1p2",
            "token_url": f"{url}/oauth/token",
            "client_id": "sandbox",
            "client_secret": "sandbox",
            "page_size": page_size,
        },
        "powerschool": {"base_url": url, "client_id": "sandbox", "client_secret": "sandbox"},
    }
    plugin = PowerSchoolPlugin(config, options=ConnectionOptions(), config_dir=config_dir)
    students = enrollments = 0
    bookmark = None
    started = time.perf_counter()
    for page in plugin.roster_pages(None):
        students += len(page.students)
        enrollments += len(page.enrollments)
        bookmark = page.cursor or bookmark
    plugin.close()
    return {
        "students": students,
        "enrollments": enrollments,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "bookmark": bookmark,
    }


def delta_after_one_percent(url: str, page_size: int) -> dict[str, float | int]:
    session = HttpSession(f"{url}/ims/oneroster/v1p1", auth=OAuth1Signer("sandbox", "sandbox"))
    client = OneRosterClient(session, page_size=page_size)
    full = DeltaRead(client, "users", None)
    for _ in full.pages():
        pass
    if full.bookmark is None:
        raise SystemExit("the sandbox served no users")
    touched = requests.post(
        f"{url}/_sandbox/oneroster/touch", json={"collection": "users", "every": 100}, timeout=120
    ).json()["touched"]
    requests_before = session.stats.requests
    delta = DeltaRead(client, "users", full.bookmark)
    for _ in delta.pages():
        pass
    session.close()
    return {
        "users": full.records_read,
        "touched": len(touched),
        "delta_records_read": delta.records_read,
        "delta_read_percent": round(100 * delta.records_read / full.records_read, 2),
        "delta_requests": session.stats.requests - requests_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=date(2026, 6, 5),
        help="the sandbox's today (default: just after 2025-26, a whole year, so runs compare)",
    )
    args = parser.parse_args()
    started = datetime.now()
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxServer(students=args.students, seed=args.seed, in_process=False, as_of=args.as_of) as server,
    ):
        results = {
            "students_generated": args.students,
            "sandbox_start_seconds": round((datetime.now() - started).total_seconds(), 1),
            "full_reconcile": full_reconcile(server.url, Path(tmp), args.page_size),
            "delta_after_1_percent": delta_after_one_percent(server.url, args.page_size),
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
