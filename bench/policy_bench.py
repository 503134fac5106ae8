"""Rules-engine throughput: a synthetic district evaluated under one policy pack on one core.

Usage: python bench/policy_bench.py [--students 100000] [--days 180] [--policy CA] [--seed 7]

Attendance is generated here (no I/O), so the time measured is the engine's alone.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections import Counter
from datetime import date, timedelta

from truancy.mappings.engine import evaluate_many
from truancy.mappings.facts import AttendanceEvent, Category, StudentAttendance
from truancy.mappings.policy import load_policy

# Typical shares of a district: most pupils miss a few days, a tail misses many.
ABSENCE_RATES = (0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2)
KINDS = (Category.UNEXCUSED, Category.EXCUSED, Category.EXCUSED, Category.TARDY, Category.SUSPENSION)


def school_calendar(days: int, start: date = date(2024, 8, 19)) -> tuple[date, ...]:
    """Weekdays from ``start``, skipping a two-week winter break, ``days`` of them."""
    calendar: list[date] = []
    day = start
    while len(calendar) < days:
        in_break = date(2024, 12, 23) <= day <= date(2025, 1, 3)
        if day.weekday() < 5 and not in_break:
            calendar.append(day)
        day += timedelta(days=1)
    return tuple(calendar)


def synthetic_students(count: int, calendar: tuple[date, ...], seed: int) -> list[StudentAttendance]:
    rng = random.Random(seed)
    students: list[StudentAttendance] = []
    for number in range(count):
        enrolled = calendar[rng.randrange(60) :] if rng.random() < 0.05 else calendar
        rate = rng.choice(ABSENCE_RATES)
        mean = rate * len(enrolled)
        absences = max(0, min(len(enrolled), round(rng.gauss(mean, math.sqrt(mean)))))
        student_id = f"S{number:07d}"
        events = []
        for day in rng.sample(enrolled, absences):
            category = rng.choice(KINDS)
            partial = category is Category.TARDY or (category is Category.UNEXCUSED and rng.random() < 0.2)
            minutes = rng.randrange(5, 120) if partial else None
            events.append(
                AttendanceEvent(student_id, day, category, minutes, code=category.value[:3].upper())
            )
        students.append(StudentAttendance(student_id, enrolled, tuple(events)))
    return students


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--policy", default="CA")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    policy = load_policy(args.policy)
    calendar = school_calendar(args.days)
    students = synthetic_students(args.students, calendar, args.seed)
    as_of = calendar[-1]
    conditions = {s.student_id: {"parent_conference_attempted": calendar[90]} for s in students[::3]}

    started, cpu_started = time.perf_counter(), time.process_time()
    designations: Counter[str] = Counter()
    for determination in evaluate_many(policy, students, as_of, conditions=conditions):
        designations.update(d.id for d in determination.designations)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started

    print(f"policy {policy.id} {policy.version}: {args.students} students x {args.days} school days")
    print(f"evaluated in {elapsed:.2f} s ({cpu:.2f} s CPU): {args.students / elapsed:,.0f} students/second")
    for designation, total in sorted(designations.items()):
        print(f"  {designation}: {total}")


if __name__ == "__main__":
    main()
