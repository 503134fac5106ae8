"""The outcomes report's figures, counted from the state store: what a director sends the county.

Chronic absence and truancy are re-counted from the stored attendance with the policy pack and the
code map in force, as of the report date and as of each month's end (a month's rate is the share of
students designated on that day), so the figures are the daemon's own reading of the law. Cases by
tier, officer interventions and the Cal. Educ. Code § 48273 counts come from the stored cases.

Every figure is a count of students (or a statistic over them); :mod:`report_suppression` then
removes any cell of fewer than ten students, and the cells that would give one away.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import Engine, select

from truancy.daemon.evaluate import (
    enrolled_school_days,
    enrollment_windows,
    evaluation_date,
    load_calendars,
    school_year_of,
)
from truancy.daemon.holdout import OutcomesSettings, held_out
from truancy.daemon.notices_schema import notices
from truancy.daemon.plan_starts import first_plan_starts
from truancy.daemon.report_suppression import MIN_CELL, cell, group_rows, with_rates
from truancy.daemon.schema import attendance, cases, students
from truancy.mappings.case import CaseState, case_from_dict
from truancy.mappings.case_policy import CasePolicy
from truancy.mappings.codemap import CodeLookup, RawMark, normalise
from truancy.mappings.engine import evaluate
from truancy.mappings.facts import (
    AttendanceEvent,
    Category,
    SchoolCalendar,
    StudentAttendance,
    canonical_grade,
)
from truancy.mappings.policy import Policy
from truancy.mappings.task_outcomes import PETITIONS

TRUANT = "truant"
CHRONICALLY_ABSENT = "chronically_absent"
ABSENT = frozenset({Category.EXCUSED, Category.UNEXCUSED, Category.SUSPENSION})
"""A full day missed for any reason, out-of-school suspension included (Cal. Educ. Code § 60901(c)(1))."""
INTERVENTION_KINDS = ("letter", "notice", "conference", "plan", "referral", "outreach", "review")
"""What the report measures: letters sent (the notices), and each kind of task an officer closed
(``notice``: the officer recorded the notification done), and plans started (their start date as
the cycle last read it from the SIS: :mod:`plan_starts`)."""
LANGUAGE_NOT_RECORDED = "not recorded"
ALL_LANGUAGES = "all"
GRADE_ORDER = ("K", *(str(n) for n in range(1, 13)))
PETITION_TITLES = {outcome.code: outcome.label for outcome in PETITIONS}


@dataclass
class StudentYear:
    """One student's school year as the report reads it: where, which grade, which days, which absences."""

    student_id: str
    school: str
    grade: str | None
    days: tuple[date, ...]
    events: tuple[AttendanceEvent, ...]

    def absent_on(self) -> set[date]:
        return {e.date for e in self.events if e.category in ABSENT and e.minutes_absent is None}


@dataclass
class Figures:
    """The report's figures before suppression: counts of students, by the breakdowns the report shows."""

    year: str
    as_of: date
    window_days: int
    groups: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)
    """breakdown ("district", "school", "grade") → group key → counts (students, truant, ...)."""
    months: list[dict[str, Any]] = field(default_factory=list)
    tiers: list[dict[str, Any]] = field(default_factory=list)
    interventions: list[dict[str, Any]] = field(default_factory=list)
    sarb: dict[str, Any] = field(default_factory=dict)
    holdout: list[dict[str, Any]] | None = None


def school_year_bounds(year: str) -> tuple[date, date]:
    """ "2025-26" → (2025-07-01, 2026-06-30); anything else is a ValueError saying what is expected."""
    try:
        start = int(year[:4])
        if year != f"{start}-{(start + 1) % 100:02d}":
            raise ValueError
    except ValueError:
        raise ValueError(f"school year {year!r}: expected YYYY-YY, e.g. 2025-26") from None
    return date(start, 7, 1), date(start + 1, 6, 30)


def report_date(engine: Engine, year: str, today: date) -> date:
    """The day the report counts as of: today, or the year's last instructional day once it is over."""
    first, last = school_year_bounds(year)
    calendars = {
        school: SchoolCalendar(school, tuple(d for d in cal.days if first <= d <= last))
        for school, cal in load_calendars(engine).items()
    }
    if today < first:
        raise ValueError(f"school year {year} has not begun on {today.isoformat()}")
    return evaluation_date(calendars, min(today, last))


def default_year(engine: Engine, today: date) -> str:
    """The school year of the latest instructional day the store holds up to ``today`` (the year in
    progress, or the one just ended over the summer); the year of ``today`` when it holds none."""
    days = [day for cal in load_calendars(engine).values() for day in cal.days if day <= today]
    return school_year_of(max(days, default=today))


def month_ends(first: date, as_of: date) -> list[date]:
    """The last day of each month from the year's start to ``as_of``, the last one being ``as_of``."""
    ends: list[date] = []
    cursor = first
    while cursor <= as_of:
        following = (cursor.replace(day=28) + timedelta(days=4)).replace(day=1)
        ends.append(min(following - timedelta(days=1), as_of))
        cursor = following
    return ends


def student_years(engine: Engine, year: str, as_of: date, lookup: CodeLookup) -> Iterator[StudentYear]:
    """Every student with an enrolled instructional day in ``year`` up to ``as_of``, one at a time.

    The year's attendance is streamed in the store's student order, one student's rows in memory
    at a time; students the store holds no rows for (no absence recorded) follow at the end.
    """
    first, last = school_year_bounds(year)
    calendars = load_calendars(engine)
    windows = enrollment_windows(engine)

    def student_year(student_id: str, grade: str | None, marks: list[Any]) -> StudentYear | None:
        enrolled = enrolled_school_days(windows.get(student_id, []), calendars, as_of)
        days = enrolled[bisect_left(enrolled, first) :]
        if not days:
            return None
        school = max(windows[student_id], key=lambda w: w[1])[0]
        events = tuple(_events(marks, lookup))
        return StudentYear(student_id, school, canonical_grade(grade), days, events)

    with engine.connect() as connection:
        roster = {
            student_id: grade
            for student_id, grade in connection.execute(
                select(students.c.student_id, students.c.grade).where(~students.c.deleted)
            )
        }
        rows = connection.execution_options(yield_per=5000).execute(
            select(
                attendance.c.student_id,
                attendance.c.day,
                attendance.c.code,
                attendance.c.minutes_absent,
                attendance.c.category,
                attendance.c.school_id,
            )
            .where(attendance.c.day >= first, attendance.c.day <= min(last, as_of))
            .order_by(attendance.c.student_id, attendance.c.day)
        )
        for student_id, marks in groupby(rows, key=lambda r: r[0]):
            if student_id in roster:
                found = student_year(student_id, roster.pop(student_id), list(marks))
                if found is not None:
                    yield found
    for student_id, grade in sorted(roster.items()):
        found = student_year(student_id, grade, [])
        if found is not None:
            yield found


def _events(rows: list[Any], lookup: CodeLookup) -> Iterator[AttendanceEvent]:
    for student_id, day, code, minutes, category, school_id in rows:
        if code is None:  # stored before raw codes were kept: it counts as it was read
            if category not in (None, Category.PRESENT.value):
                yield AttendanceEvent(student_id, day, Category(category), minutes, None, school_id)
            continue
        counted = normalise(RawMark(student_id, day, code, minutes, school_id), lookup)
        if isinstance(counted, AttendanceEvent):
            yield counted


def count_figures(
    engine: Engine,
    policy: Policy,
    lookup: CodeLookup,
    year: str,
    as_of: date,
    *,
    window_days: int = 10,
    holdout: Holdout | None = None,
) -> Figures:
    """Every figure of the report, unsuppressed (:func:`publish` withholds the small cells)."""
    first, _ = school_year_bounds(year)
    figures = Figures(year, as_of, window_days)
    groups: dict[str, dict[str, Counter[str]]] = {
        "district": defaultdict(Counter),
        "school": defaultdict(Counter),
    }
    groups["grade"] = defaultdict(Counter)
    ends = month_ends(first, as_of)
    monthly: list[Counter[str]] = [Counter() for _ in ends]
    stored = list(_stored_cases(engine, year))
    with_case = {case.student_id for case in stored}
    attendance_of: dict[str, StudentYear] = {}  # students with a case only: the case figures' need
    for student in student_years(engine, year, as_of, lookup):
        if student.student_id in with_case:
            attendance_of[student.student_id] = student
        facts = StudentAttendance(student.student_id, student.days, student.events, student.grade)
        now = {d.id for d in evaluate(policy, facts, as_of).designations}
        for breakdown, key in (
            ("district", "all"),
            ("school", student.school),
            ("grade", student.grade or "unknown"),
        ):
            counts = groups[breakdown][key]
            counts["students"] += 1
            counts[TRUANT] += TRUANT in now
            counts[CHRONICALLY_ABSENT] += CHRONICALLY_ABSENT in now
        for index, end in enumerate(ends):
            if student.days[0] > end:
                continue
            held = now if end == as_of else {d.id for d in evaluate(policy, facts, end).designations}
            monthly[index]["students"] += 1
            monthly[index][TRUANT] += TRUANT in held
            monthly[index][CHRONICALLY_ABSENT] += CHRONICALLY_ABSENT in held
    for case in stored:
        placed = attendance_of.get(case.student_id)
        if placed is None:
            continue
        for designation in ("habitual_truant", "chronic_truant"):
            held_now = case.designations.get(designation)
            if held_now is not None and held_now.active and held_now.met_on <= as_of:
                for breakdown, key in (
                    ("district", "all"),
                    ("school", placed.school),
                    ("grade", placed.grade or "unknown"),
                ):
                    groups[breakdown][key][designation] += 1
    figures.groups = {name: dict(found) for name, found in groups.items()}
    figures.months = [
        {"month": end.strftime("%Y-%m"), "as_of": end.isoformat(), **counts}
        for end, counts in zip(ends, monthly, strict=True)
        if counts["students"]
    ]
    if policy.case is not None:
        shown = [end for end, counts in zip(ends, monthly, strict=True) if counts["students"]]
        figures.tiers = _tiers_over_time(stored, policy.case, shown)
        letters = sent_letters(engine, year)
        plans = first_plan_starts(engine, year)
        figures.interventions = _interventions(
            stored, policy.case, attendance_of, window_days, letters, plans
        )
        figures.sarb = _sarb_counts(stored, policy.case, as_of)
        if holdout is not None and holdout.settings.enabled:
            figures.holdout = _holdout_effect(stored, policy.case, attendance_of, window_days, holdout, year)
    return figures


def _stored_cases(engine: Engine, year: str) -> Iterator[CaseState]:
    with engine.connect() as connection:
        for (state,) in connection.execute(select(cases.c.state).where(cases.c.school_year == year)):
            yield case_from_dict(state)


def _tiers_over_time(stored: list[CaseState], policy: CasePolicy, ends: list[date]) -> list[dict[str, Any]]:
    """Cases in each tier (its highest tier then) at each month's end, replaying the case history."""
    series = []
    for end in ends:
        counts: Counter[str] = Counter()
        for case in stored:
            entered: dict[str, date] = {}
            for event in case.history:
                if event.on > end or event.tier is None:
                    continue
                if event.kind == "tier_entered":
                    entered[event.tier] = event.on
                elif event.kind == "tier_left":
                    entered.pop(event.tier, None)
            in_force = [t for t in entered if policy.tier(t) is not None]
            if in_force:
                tier = policy.tier(max(in_force, key=policy.rank))
                counts[tier.label if tier is not None else ""] += 1
        series.append({"month": end.strftime("%Y-%m"), "tiers": dict(counts)})
    return series


def _interventions(
    stored: list[CaseState],
    policy: CasePolicy,
    attendance_of: dict[str, StudentYear],
    window: int,
    letters: Mapping[str, tuple[date | None, str]],
    plans: Mapping[str, date],
) -> list[dict[str, Any]]:
    """Attendance rate in the ``window`` enrolled days before and after each piece of officer work
    and each letter sent, by kind (all languages) and by kind and the family's language.

    One measurement per student and kind (their first); work too recent to have ``window`` school
    days after it by the report date is counted apart, not measured. ``letters``: student → (the
    day their first letter was sent, or None; the family's language from the notices, or "").
    ``plans``: student → the day their first plan started.
    """
    kinds: dict[str, str] = {task.id: task.type for tier in policy.tiers for task in tier.tasks}
    changes: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    too_recent: Counter[tuple[str, str]] = Counter()
    for case in stored:
        student = attendance_of.get(case.student_id)
        if student is None:
            continue
        absent = student.absent_on()
        sent_on, language = letters.get(case.student_id, (None, ""))
        firsts: dict[str, date] = {"letter": sent_on} if sent_on is not None else {}
        if case.student_id in plans:
            firsts["plan"] = plans[case.student_id]
        for task_id, done in case.completed_tasks.items():
            kind = kinds.get(task_id, "task")
            if kind not in firsts or done.on < firsts[kind]:
                firsts[kind] = done.on
        for kind, on in firsts.items():
            before = [d for d in student.days if d < on][-window:]
            after = [d for d in student.days if d > on][:window]
            for key in ((kind, ALL_LANGUAGES), (kind, language or LANGUAGE_NOT_RECORDED)):
                if len(before) < window or len(after) < window:
                    too_recent[key] += 1
                else:
                    changes[key].append((_rate(before, absent), _rate(after, absent)))
    rows = []
    for kind in INTERVENTION_KINDS:
        languages = sorted(
            {lang for k, lang in (*changes, *too_recent) if k == kind and lang != ALL_LANGUAGES}
        )
        for language in (ALL_LANGUAGES, *languages):
            pairs = changes.get((kind, language), [])
            waiting = too_recent.get((kind, language), 0)
            row: dict[str, Any] = {
                "kind": kind,
                "language": language,
                "students": len(pairs),
                "not_yet_measurable": waiting,
                "recorded": bool(pairs) or bool(waiting),
            }
            row.update(_paired_summary(pairs))
            rows.append(row)
    return rows


def sent_letters(engine: Engine, year: str) -> dict[str, tuple[date | None, str]]:
    """Student → (the day their first letter was sent, the family's language), from the notices."""
    found: dict[str, tuple[date | None, str]] = {}
    with engine.connect() as connection:
        for student_id, sent_on, language in connection.execute(
            select(notices.c.student_id, notices.c.sent_on, notices.c.wanted_language)
            .where(notices.c.school_year == year)
            .order_by(notices.c.student_id, notices.c.created_at)
        ):
            first, known = found.get(student_id, (None, ""))
            if sent_on is not None and (first is None or sent_on < first):
                first = sent_on
            found[student_id] = (first, known or language)
    return found


@dataclass(frozen=True)
class Holdout:
    """The district's hold-out settings, to redraw the same groups the sync drew."""

    settings: OutcomesSettings
    district: str


def _holdout_effect(
    stored: list[CaseState],
    policy: CasePolicy,
    attendance_of: dict[str, StudentYear],
    window: int,
    holdout: Holdout,
    year: str,
) -> list[dict[str, Any]]:
    """Intention to treat: every student whose case met the nudge's designation, in the group drawn
    for them; the change in attendance rate from the ``window`` days before the designation to the
    ``window`` days after, nudged group minus hold-out group, with a Welch 95% interval."""
    effects = []
    for task_id in holdout.settings.holdout_tasks:
        tier = next((t for t in policy.tiers if any(task.id == task_id for task in t.tasks)), None)
        if tier is None:
            continue
        designation = tier.enter_when.designation
        arms: dict[bool, list[float]] = {True: [], False: []}
        for case in stored:
            student = attendance_of.get(case.student_id)
            held = case.designations.get(designation)
            if student is None or held is None:
                continue
            before = [d for d in student.days if d < held.met_on][-window:]
            after = [d for d in student.days if d > held.met_on][:window]
            if len(before) == window and len(after) == window:
                absent = student.absent_on()
                held_out_now = held_out(holdout.settings, holdout.district, year, case.student_id)
                arms[held_out_now].append(_rate(after, absent) - _rate(before, absent))
        effects.append({"task": task_id, "designation": designation, **_welch(arms[False], arms[True])})
    return effects


def _welch(nudged: list[float], held: list[float]) -> dict[str, Any]:
    found: dict[str, Any] = {"nudged": len(nudged), "held_out": len(held)}
    if len(nudged) < 2 or len(held) < 2:
        return {**found, "effect": None, "ci_low": None, "ci_high": None}
    va, vb = statistics.variance(nudged) / len(nudged), statistics.variance(held) / len(held)
    effect = statistics.fmean(nudged) - statistics.fmean(held)
    if va + vb == 0:
        return {**found, "effect": effect, "ci_low": effect, "ci_high": effect}
    df = (va + vb) ** 2 / (va**2 / (len(nudged) - 1) + vb**2 / (len(held) - 1))
    half = t_critical(max(1, round(df))) * math.sqrt(va + vb)
    return {**found, "effect": effect, "ci_low": effect - half, "ci_high": effect + half}


def _published_effect(effect: dict[str, Any]) -> dict[str, Any]:
    shown = {**effect, "nudged": cell(effect["nudged"]), "held_out": cell(effect["held_out"])}
    if shown["nudged"] is None or shown["held_out"] is None:
        shown.update(effect=None, ci_low=None, ci_high=None)
    return shown


def _rate(days: list[date], absent: set[date]) -> float:
    return 1 - sum(d in absent for d in days) / len(days)


def _paired_summary(pairs: list[tuple[float, float]]) -> dict[str, float | None]:
    """Mean rate before and after, and the mean change with its 95% confidence interval (Student's t)."""
    if len(pairs) < 2:
        return {"before": None, "after": None, "change": None, "ci_low": None, "ci_high": None}
    diffs = [after - before for before, after in pairs]
    mean = statistics.fmean(diffs)
    half = t_critical(len(diffs) - 1) * statistics.stdev(diffs) / math.sqrt(len(diffs))
    return {
        "before": statistics.fmean(b for b, _ in pairs),
        "after": statistics.fmean(a for _, a in pairs),
        "change": mean,
        "ci_low": mean - half,
        "ci_high": mean + half,
    }


def t_critical(df: int) -> float:
    """Two-sided 95% critical value of Student's t (Cornish-Fisher expansion; within 0.01 from df 5)."""
    z = 1.959963984540054
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def _sarb_counts(stored: list[CaseState], policy: CasePolicy, as_of: date) -> dict[str, Any]:
    """Cal. Educ. Code § 48273: the number and types of referrals to the SARB, and of requests for
    petitions under § 48263, as officers recorded the board's determination (a task whose template
    ``records_petitions``: its outcome names the petition, :data:`task_outcomes.PETITIONS`)."""
    templates = [task for tier in policy.tiers for task in tier.tasks]
    referral_tasks = {task.id: task.title for task in templates if task.type == "referral"}
    determinations = {task.id for task in templates if task.records_petitions}
    made: Counter[str] = Counter()
    declined: Counter[str] = Counter()
    petitions: Counter[str] = Counter()
    for case in stored:
        for task_id, done in case.completed_tasks.items():
            if done.on > as_of:
                continue
            if task_id in referral_tasks:
                (declined if done.outcome == "declined" else made)[task_id] += 1
            elif task_id in determinations and done.outcome in PETITION_TITLES:
                petitions[done.outcome] += 1
    return {
        "citation": "Cal. Educ. Code § 48273",
        "referrals": [
            {
                "type": task_id,
                "title": title,
                "made": made.get(task_id, 0),
                "declined": declined.get(task_id, 0),
            }
            for task_id, title in sorted(referral_tasks.items())
        ],
        "petitions_requested": sum(petitions.values()),
        "petitions": [
            {"type": code, "title": title, "requested": petitions.get(code, 0)}
            for code, title in PETITION_TITLES.items()
        ]
        if determinations
        else [],
    }


MEASURES = (TRUANT, CHRONICALLY_ABSENT, "habitual_truant", "chronic_truant")
RATES = {"truancy_rate": TRUANT, "chronic_absence_rate": CHRONICALLY_ABSENT}


def _published_interventions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row withheld under ten students; the language rows of a kind sum to its "all" row, so a
    lone withheld language row takes the next smallest one with it."""
    shown = [dict(row) for row in rows]
    for kind in INTERVENTION_KINDS:
        languages = [row for row in shown if row["kind"] == kind and row["language"] != ALL_LANGUAGES]
        for column in ("students", "not_yet_measurable"):
            withheld = {id(row) for row in languages if cell(row[column]) is None}
            if len(withheld) == 1 and len(languages) > 1:
                rest = [row for row in languages if id(row) not in withheld]
                withheld.add(id(min(rest, key=lambda row: (row[column], row["language"]))))
            for row in shown:
                is_lone = id(row) in withheld
                if row["kind"] == kind and (is_lone or cell(row[column]) is None):
                    row[column] = None
    for row in shown:
        if row["students"] is None:
            row.update(before=None, after=None, change=None, ci_low=None, ci_high=None)
    return shown


def publish(figures: Figures, *, district_name: str, policy: Policy) -> dict[str, Any]:
    """The figures as the report publishes them: small cells withheld (``None``), no student data."""
    district = group_rows(figures.groups["district"], MEASURES, key="scope", total_published=False)
    months = []
    for month in figures.months:
        row = {"month": month["month"], "as_of": month["as_of"], "students": cell(month.get("students", 0))}
        for measure in (TRUANT, CHRONICALLY_ABSENT):
            row[measure] = cell(month.get(measure, 0)) if row["students"] is not None else None
        months.append(with_rates(row, RATES))
    labels = sorted({label for entry in figures.tiers for label in entry["tiers"]})
    tiers = [
        {"month": entry["month"], "tiers": {label: cell(entry["tiers"].get(label, 0)) for label in labels}}
        for entry in figures.tiers
    ]
    interventions = _published_interventions(figures.interventions)
    sarb = dict(figures.sarb)
    sarb["referrals"] = [
        {**r, "made": cell(r["made"]), "declined": cell(r["declined"])}
        for r in figures.sarb.get("referrals", [])
    ]
    sarb["petitions"] = [{**p, "requested": cell(p["requested"])} for p in figures.sarb.get("petitions", [])]
    sarb["petitions_requested"] = cell(figures.sarb.get("petitions_requested", 0))
    return {
        "district_name": district_name,
        "year": figures.year,
        "as_of": figures.as_of.isoformat(),
        "policy": {"id": policy.id, "version": policy.version},
        "min_cell": MIN_CELL,
        "window_days": figures.window_days,
        "district": with_rates({k: v for k, v in district[0].items() if k != "scope"}, RATES)
        if district
        else {"students": 0, **dict.fromkeys(MEASURES), **dict.fromkeys(RATES)},
        "schools": [
            with_rates(r, RATES) for r in group_rows(figures.groups["school"], MEASURES, key="school_id")
        ],
        "grades": sorted(
            (with_rates(r, RATES) for r in group_rows(figures.groups["grade"], MEASURES, key="grade")),
            key=lambda r: GRADE_ORDER.index(r["grade"]) if r["grade"] in GRADE_ORDER else len(GRADE_ORDER),
        ),
        "months": months,
        "tiers_over_time": tiers,
        "interventions": interventions,
        "sarb_48273": sarb,
        "holdout": None if figures.holdout is None else [_published_effect(e) for e in figures.holdout],
    }
