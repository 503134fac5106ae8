"""The outcomes report over a large district: time and peak memory of counting a school year.

Usage: python bench/report_bench.py [--students 20000] [--days 180] [--seed 7] [--store FILE]

A SQLite state store is filled directly (no SIS, no sync): three schools' calendars, one enrollment
per student and one attendance row per enrolled day, present ones included, as the store keeps
them. Then a fresh process counts the year's figures (``count_figures``, CA pack, the PowerSchool
code map) and reports its wall time and peak RSS, so the fill does not count towards the memory.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert

from truancy.daemon.report_outcomes import count_figures, publish
from truancy.daemon.schema import attendance, calendar_days, enrollments, students
from truancy.daemon.store import upgrade
from truancy.mappings.codemap import load_code_map
from truancy.mappings.policy import load_policy
from truancy.plugins.powerschool.plugin import DEFAULT_CODE_MAP

SCHOOLS = ("100", "200", "300")
ABSENCE_RATES = (0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2)
ABSENT_CODES = ("A", "UNX", "EX", "ILL", "SUS")
YEAR, FIRST_DAY, AS_OF = "2025-26", date(2025, 8, 13), date(2026, 6, 4)
BATCH = 20_000


def school_days(count: int) -> list[date]:
    days: list[date] = []
    day = FIRST_DAY
    while len(days) < count:
        if day.weekday() < 5 and not date(2025, 12, 22) <= day <= date(2026, 1, 2):
            days.append(day)
        day += timedelta(days=1)
    return days


def fill(store: Path, count: int, days: int, seed: int) -> int:
    """The store with ``count`` students; returns the attendance rows written."""
    rng = random.Random(seed)
    engine = create_engine(f"sqlite:///{store}")
    upgrade(engine)
    calendar = school_days(days)
    rows = 0
    with engine.begin() as connection:
        connection.execute(
            insert(calendar_days), [{"school_id": s, "day": d} for s in SCHOOLS for d in calendar]
        )
        for start in range(0, count, 1000):
            ids = [f"s{n:07d}" for n in range(start, min(start + 1000, count))]
            connection.execute(
                insert(students),
                [{"student_id": i, "sis_ref": i, "school_id": SCHOOLS[n % 3], "grade": str(n % 12 + 1),
                  "deleted": False, "seen_cycle": 1} for n, i in enumerate(ids, start)],
            )  # fmt: skip
            connection.execute(
                insert(enrollments),
                [{"source_id": f"e-{i}", "student_id": i, "school_id": SCHOOLS[n % 3],
                  "begin_date": FIRST_DAY, "end_date": None, "seen_cycle": 1}
                 for n, i in enumerate(ids, start)],
            )  # fmt: skip
        batch: list[dict[str, object]] = []
        for n in range(count):
            student, school, rate = f"s{n:07d}", SCHOOLS[n % 3], rng.choice(ABSENCE_RATES)
            for day in calendar:
                code = rng.choice(ABSENT_CODES) if rng.random() < rate else "PRE"
                batch.append({"source_key": f"{student}-{day}", "student_id": student, "day": day,
                              "code": code, "minutes_absent": None, "school_id": school,
                              "seen_cycle": 1})  # fmt: skip
                if len(batch) == BATCH:
                    connection.execute(insert(attendance), batch)
                    rows += len(batch)
                    batch = []
        if batch:
            connection.execute(insert(attendance), batch)
            rows += len(batch)
    engine.dispose()
    return rows


def count(store: Path) -> None:
    """Count the year (run in its own process) and print wall time and peak RSS."""
    engine = create_engine(f"sqlite:///{store}")
    policy, code_map = load_policy("CA"), load_code_map(DEFAULT_CODE_MAP)
    started = time.perf_counter()
    figures = count_figures(engine, policy, code_map.categorize, YEAR, AS_OF)
    report = publish(figures, district_name="bench", policy=policy)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    district = report["district"]
    print(
        f"counted {district['students']:,} students in {elapsed:.1f} s, peak RSS {peak:.0f} MB "
        f"(chronically absent {district['chronically_absent']}, truant {district['truant']})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", type=Path, help="reuse (or keep) this store file")
    parser.add_argument("--count-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_only:
        count(args.count_only)
        return
    store = args.store or Path(tempfile.mkdtemp(prefix="report-bench-")) / "store.db"
    if not store.exists():
        started = time.perf_counter()
        rows = fill(store, args.students, args.days, args.seed)
        print(f"filled {store} with {rows:,} attendance rows in {time.perf_counter() - started:.1f} s")
    subprocess.run([sys.executable, __file__, "--count-only", str(store)], check=True)


if __name__ == "__main__":
    main()
