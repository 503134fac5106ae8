"""Ed-Fi: a district's year of attendance pulled through the Ed-Fi plugin and evaluated.

The sandbox runs in its own process, so the figures are this process's (the daemon's side):
    .venv/bin/python bench/edfi_bench.py --students 100000

1. Plugin: enrollments, calendars and every studentSchoolAttendanceEvent through ``EdFiPlugin``
   (discovery, OAuth 2, paging, descriptor mapping), then each student's year evaluated under a
   state policy. Records per second and peak RSS are reported.
2. Baseline: the same attendance pages fetched with plain ``requests`` and ``json.loads`` in the
   same run, to tell the client's cost from the sandbox's serving rate.

Measured on the shared 2-core machine (100,000 students, 1,056,884 attendance events, 2,467 requests):
the plugin pulled 7,655 events/s against 7,848/s for plain requests + json.loads (0.98: the sandbox's
serving rate is the limit); evaluating every student under CA took 12 s; peak RSS 505 MB, most of it
the year of events the benchmark holds in memory to evaluate.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import requests

from truancy.mappings.engine import evaluate_many
from truancy.mappings.facts import AttendanceEvent, Enrollment, SchoolCalendar, StudentAttendance
from truancy.mappings.policy import load_policy
from truancy.plugins.base import ConnectionOptions
from truancy.plugins.edfi import EdFiPlugin
from truancy.sandbox.server import SandboxServer

EVENTS = "/edfi/data/v3/ed-fi/studentSchoolAttendanceEvents"
SUSPENSION = "uri://sandbox.k12.example.org/AttendanceEventCategoryDescriptor#Out-of-School Suspension"
DEFAULT_CODES = Path(__file__).resolve().parents[1] / "plugins" / "edfi" / "codes.yaml"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def plugin_for(url: str, config_dir: Path) -> EdFiPlugin:
    codes = config_dir / "codes.yaml"
    extra = f'  "{SUSPENSION}": {{category: suspension, description: "Out-of-school suspension"}}\n'
    codes.write_text(DEFAULT_CODES.read_text(encoding="utf-8") + extra, encoding="utf-8")
    settings = {
        "code_map": str(codes),
        "edfi": {
            "base_url": f"{url}/edfi/",
            "client_id": "sandbox",
            "client_secret": "sandbox",
            "school_year": 2026,
            "education_organization_id": 255901,
            "paging": "offset",
        },
    }
    return EdFiPlugin(settings, options=ConnectionOptions(), config_dir=config_dir)


def student_years(
    enrollments: list[Enrollment],
    calendars: dict[str, SchoolCalendar],
    events: dict[str, list[AttendanceEvent]],
    as_of: date,
) -> list[StudentAttendance]:
    years: list[StudentAttendance] = []
    for enrollment in enrollments:
        days = calendars[enrollment.school_id].days
        end = min(enrollment.end or as_of, as_of)
        enrolled = days[bisect_left(days, enrollment.begin) : bisect_right(days, end)]
        mine = tuple(sorted(events.get(enrollment.student_id, ()), key=lambda event: event.date))
        years.append(StudentAttendance(enrollment.student_id, enrolled, mine))
    return years


def through_plugin(url: str, policy_name: str, as_of: date) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        plugin = plugin_for(url, Path(folder))
        started = time.perf_counter()
        enrollments = [e for page in plugin.roster_pages(None) for e in page.enrollments]
        calendars = {calendar.school_id: calendar for calendar in plugin.calendars()}
        roster = {enrollment.student_id for enrollment in enrollments}
        events: dict[str, list[AttendanceEvent]] = defaultdict(list)
        records = rejected = 0
        attendance_started = time.perf_counter()
        for page in plugin.attendance_pages(None, lambda key: key if key in roster else None):
            records += len(page.changes) + len(page.rejected)
            rejected += len(page.rejected)
            for change in page.changes:
                if change.event is not None:
                    events[change.event.student_id].append(change.event)
        pulled = time.perf_counter()
        policy = load_policy(policy_name)
        designated = sum(
            bool(determination.designations)
            for determination in evaluate_many(
                policy, student_years(enrollments, calendars, events, as_of), as_of
            )
        )
        evaluated = time.perf_counter()
        requests_sent = plugin.session.stats.requests
        plugin.close()
    return {
        "attendance_records": records,
        "rejected": rejected,
        "students": len(roster),
        "designated": designated,
        "pull_seconds": round(pulled - started, 2),
        "attendance_seconds": round(pulled - attendance_started, 2),
        "attendance_records_per_second": round(records / (pulled - attendance_started)),
        "evaluate_seconds": round(evaluated - pulled, 2),
        "requests": requests_sent,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def plain_requests(url: str, page_size: int) -> dict[str, Any]:
    token = requests.post(
        f"{url}/edfi/oauth/token",
        auth=("sandbox", "sandbox"),
        data={"grant_type": "client_credentials"},
        timeout=30,
    ).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    started = time.perf_counter()
    records = offset = 0
    while True:
        response = session.get(f"{url}{EVENTS}", params={"offset": offset, "limit": page_size}, timeout=60)
        page = json.loads(response.content)
        records += len(page)
        offset += len(page)
        if len(page) < page_size:
            break
    elapsed = time.perf_counter() - started
    return {"records": records, "seconds": round(elapsed, 2), "records_per_second": round(records / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--policy", default="CA")
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=date(2026, 6, 5),
        help="the sandbox's today and the evaluation date (default: just after 2025-26, a whole year)",
    )
    args = parser.parse_args()
    with SandboxServer(students=args.students, seed=args.seed, in_process=False, as_of=args.as_of) as server:
        plugin = through_plugin(server.url, args.policy, args.as_of)
        baseline = plain_requests(server.url, 500)
    ratio = plugin["attendance_records_per_second"] / baseline["records_per_second"]
    print(json.dumps({"students": args.students, "plugin": plugin, "plain_requests": baseline,
                      "plugin_vs_plain_rate": round(ratio, 2)}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
