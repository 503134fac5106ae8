"""Property (issue 11): for any code map that drops codes and any policy override, no flag is
withdrawn and no open task cancelled for a student whose records were quarantined, and a second
cycle on the same records changes nothing.

The real evaluator runs on a real SQLite store filled with drawn attendance; only the SIS is left
out (what the SIS should hold is the evaluator's desired state, which the outbox diffs against).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from truancy.daemon.evaluate import Evaluation, Evaluator, Target
from truancy.daemon.progress import SilentReporter
from truancy.daemon.schema import attendance, calendar_days, cases, enrollments, metadata, students
from truancy.daemon.store import create_store_engine
from truancy.mappings.codemap import CodeMap
from truancy.mappings.policy import Policy, load_policy
from truancy.mappings.writes import WriteKind

SCHOOL = "100"
FIRST_DAY = date(2025, 9, 2)
SCHOOL_DAYS = [d for d in (FIRST_DAY + timedelta(days=n) for n in range(84)) if d.weekday() < 5]
TODAY = SCHOOL_DAYS[-1] + timedelta(days=3)
STUDENTS = [f"stu-{n}" for n in range(5)]
CODES = {
    "PRE": "{category: present}",
    "A": "{category: unexcused}",
    "EX": "{category: excused}",
    "T": "{category: tardy, partial_day: true}",
    "SUS": "{category: suspension}",
}
THRESHOLDS = (None, 4, 6, 30)
"""District overrides of CA's truant threshold (None: the statute's 3)."""


def code_map(codes: set[str]) -> CodeMap:
    lines = "".join(f"  {code}: {CODES[code]}\n" for code in sorted(codes))
    return CodeMap.from_yaml_text(f"version: 1\ncodes:\n{lines}")


def _policies() -> dict[int | None, Policy]:
    folder = Path(tempfile.mkdtemp(prefix="hold-property-"))
    policies: dict[int | None, Policy] = {None: load_policy("CA")}
    for threshold in THRESHOLDS[1:]:
        path = folder / f"truant-{threshold}.yaml"
        path.write_text(
            f"version: 1\npolicy: CA\nrules:\n  truant:\n    threshold: {threshold}\n", encoding="utf-8"
        )
        policies[threshold] = load_policy("CA", overrides=path)
    return policies


POLICIES = _policies()

marks = st.lists(
    st.tuples(st.sampled_from(SCHOOL_DAYS), st.sampled_from(sorted(CODES)), st.sampled_from([None, 20, 45])),
    max_size=14,
    unique_by=lambda mark: mark[0],
)


@contextmanager
def store(year: dict[str, list[tuple[date, str, int | None]]]) -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_store_engine(f"sqlite:///{folder}/state.db")
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(calendar_days.insert(), [{"school_id": SCHOOL, "day": d} for d in SCHOOL_DAYS])
            connection.execute(
                students.insert(),
                [
                    {
                        "student_id": s,
                        "sis_ref": f"{n}",
                        "school_id": SCHOOL,
                        "deleted": False,
                        "seen_cycle": 1,
                    }
                    for n, s in enumerate(STUDENTS)
                ],
            )
            connection.execute(
                enrollments.insert(),
                [
                    {
                        "source_id": f"e-{s}",
                        "student_id": s,
                        "school_id": SCHOOL,
                        "begin_date": FIRST_DAY,
                        "seen_cycle": 1,
                    }
                    for s in STUDENTS
                ],
            )
            rows = [
                {
                    "source_key": f"{s}-{day.isoformat()}",
                    "student_id": s,
                    "day": day,
                    "category": None,
                    "minutes_absent": minutes,
                    "code": code,
                    "school_id": SCHOOL,
                    "seen_cycle": 1,
                }
                for s, days in year.items()
                for day, code, minutes in days
            ]
            if rows:
                connection.execute(attendance.insert(), rows)
        try:
            yield engine
        finally:
            engine.dispose()


def cycle(engine: Engine, policy: Policy, codes: CodeMap, cycle_id: int) -> Evaluation:
    evaluator = Evaluator(engine, policy, cycle_id, SilentReporter(), lookup=codes.categorize)
    return evaluator.run(TODAY)


def standing(desired: dict[str, Target], student: str) -> dict[str, str]:
    """The student's flags and tasks the SIS should hold: sync key → status."""
    return {
        key: target.write.fields["status"]
        for key, target in desired.items()
        if target.write.student_id == student and target.write.kind is not WriteKind.NOTE
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    year=st.fixed_dictionaries({s: marks for s in STUDENTS}),
    dropped=st.sets(st.sampled_from(sorted(CODES)), min_size=1, max_size=len(CODES) - 1),
    threshold=st.sampled_from(THRESHOLDS),
)
def test_quarantined_students_keep_every_flag_and_open_task_and_a_second_cycle_changes_nothing(
    year: dict[str, list[tuple[date, str, int | None]]], dropped: set[str], threshold: int | None
) -> None:
    full, partial = code_map(set(CODES)), code_map(set(CODES) - dropped)
    policy = POLICIES[threshold]
    with store(year) as engine:
        before = cycle(engine, POLICIES[None], full, 1)
        after = cycle(engine, policy, partial, 2)
        for student, days in year.items():
            if not any(code in dropped for _, code, _ in days):
                continue
            had, has = standing(before.desired, student), standing(after.desired, student)
            assert had.keys() <= has.keys(), "a held student lost a flag or task"
            assert all(has[key] == "open" for key, status in had.items() if status == "open")
        with engine.connect() as connection:
            saved = dict(connection.execute(select(cases.c.student_id, cases.c.state)).all())
        again = cycle(engine, policy, partial, 3)
        with engine.connect() as connection:
            assert dict(connection.execute(select(cases.c.student_id, cases.c.state)).all()) == saved
    assert {k: t.write for k, t in again.desired.items()} == {k: t.write for k, t in after.desired.items()}
    assert again.held == after.held
