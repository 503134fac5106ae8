"""The rules engine: which designations of a policy pack one student meets, as of one date, and why.

It counts what each rule says the statute counts, on enrolled school days up to the evaluation
date only, and keeps the dated records behind every designation so an officer can defend it.
The result depends on the records, never on the order they arrived in.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from functools import lru_cache
from operator import itemgetter
from types import MappingProxyType
from typing import NamedTuple

from truancy.mappings.counting import (
    Crossing,
    Record,
    Selector,
    Share,
    TimeCrossing,
    day_of,
    first_consecutive_crossing,
    first_crossing,
    first_time_crossing,
    minutes_of,
    within_window,
)
from truancy.mappings.determination import Designation, Determination, Evidence
from truancy.mappings.facts import Category, StudentAttendance
from truancy.mappings.policy import Policy
from truancy.mappings.policy_schema import DAY_MINUTES, Criterion, Rule

__all__ = ["evaluate", "evaluate_many"]

_NO_CONDITIONS: Mapping[str, date] = MappingProxyType({})
_NO_STUDENT_CONDITIONS: Mapping[str, Mapping[str, date]] = MappingProxyType({})
_POSITION = itemgetter(1)
_CALENDARS_KEPT = 256
_TARDY = Category.TARDY
_CONSECUTIVE = "consecutive_school_days"
_ABSENT = frozenset({Category.EXCUSED, Category.UNEXCUSED, Category.SUSPENSION})


class _Report(NamedTuple):
    """One time a rule was met (CA 48261 counts several per year), with the records behind it."""

    on: date
    records: tuple[Record, ...]


class _Outcome(NamedTuple):
    """What a rule counted, the threshold it was held to, and each time it was met (if ever)."""

    value: float
    threshold: float
    reports: tuple[_Report, ...] = ()
    criterion: int = 0


class _Student(NamedTuple):
    """One student's records restricted to enrolled days up to the evaluation date, strongest first."""

    enrolled_days: int
    records: tuple[Record, ...]
    school_days: tuple[date, ...]
    grade: str | None = None


def evaluate(
    policy: Policy,
    student: StudentAttendance,
    as_of: date,
    *,
    conditions: Mapping[str, date] = _NO_CONDITIONS,
    conditions_through: date | None = None,
) -> Determination:
    """The designations ``student`` meets under ``policy`` on ``as_of``.

    ``conditions`` are officer-confirmed facts read back from the SIS (e.g. the date a parent
    conference was attempted); one dated after ``conditions_through`` (default ``as_of``) has not
    happened yet. After the last school day the daemon evaluates attendance as of that day but
    conditions through today, so a conference held in June still counts, dated when it was held.
    """
    return _evaluate(policy, student, as_of, conditions, None, conditions_through or as_of)


def _evaluate(
    policy: Policy,
    student: StudentAttendance,
    as_of: date,
    conditions: Mapping[str, date],
    calendars: _Calendars | None,
    conditions_through: date | None = None,
) -> Determination:
    facts = _prepare(student, as_of, calendars)
    outcomes: dict[str, _Outcome] = {}
    met: dict[str, date] = {}
    designations: list[Designation] = []
    evidence: dict[int, Evidence] = {}
    counts = _summary(facts)
    for compiled in _compiled(policy):
        outcome = compiled.evaluator.outcome(facts, outcomes)
        outcomes[compiled.rule_id] = outcome
        counts[compiled.count_key] = outcome.value
        met_on = outcome.reports[0].on if outcome.reports else None
        if met_on is not None and compiled.has_requirements:
            met_on = _requirements_met(compiled.rule, met_on, met, conditions, conditions_through or as_of)
        if met_on is None:
            continue
        met[compiled.rule_id] = met_on
        designations.append(_designation(compiled, outcome, met_on, evidence))
    return Determination(
        student_id=student.student_id,
        policy_id=policy.id,
        policy_version=policy.version,
        as_of=as_of,
        designations=tuple(designations),
        counts=counts,
    )


def evaluate_many(
    policy: Policy,
    students: Iterable[StudentAttendance],
    as_of: date,
    *,
    conditions: Mapping[str, Mapping[str, date]] = _NO_STUDENT_CONDITIONS,
) -> Iterator[Determination]:
    """Evaluate each student in turn (lazily, so a district streams through in flat memory);
    ``conditions`` maps a student id to that student's confirmed conditions."""
    calendars = _Calendars()
    for student in students:
        student_conditions = conditions.get(student.student_id, _NO_CONDITIONS)
        yield _evaluate(policy, student, as_of, student_conditions, calendars)


def _prepare(student: StudentAttendance, as_of: date, calendars: _Calendars | None) -> _Student:
    """The student's absences on enrolled days up to ``as_of``, in a canonical order."""
    days = student.school_days
    end = bisect_right(days, as_of)
    records: list[Record] = []
    if calendars is None:
        for event in student.events:
            position = bisect_left(days, event.date, 0, end)
            if position < end and days[position] == event.date:
                records.append((event, position))
    else:
        find = calendars.positions(days).get
        for event in student.events:
            found = find(event.date)
            if found is not None and found < end:
                records.append((event, found))
    records.sort(key=_POSITION)
    if len({record[1] for record in records}) < len(records):
        records.sort(key=_strongest_first)
    return _Student(end, tuple(records), days, student.grade)


class _Calendars:
    """Day-to-position lookups for the school-day lists students share (one per school and
    enrolment span), so that placing an absence is one dict lookup instead of a search."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[int, tuple[tuple[date, ...], dict[date, int]]] = {}

    def positions(self, days: tuple[date, ...]) -> dict[date, int]:
        known = self._known.get(id(days))
        if known is not None and known[0] is days:
            return known[1]
        if len(self._known) >= _CALENDARS_KEPT:
            self._known.clear()
        index = {day: position for position, day in enumerate(days)}
        self._known[id(days)] = (days, index)
        return index


def _strongest_first(record: Record) -> tuple[date, bool, int, str, str, str]:
    """A total order: by date, then whole days before part days, longer absences first, so the
    record that counts for a day never depends on input order (needed only when a day has two)."""
    event = record[0]
    minutes = event.minutes_absent
    partial = minutes is not None or event.category is _TARDY
    return (event.date, partial, -(minutes or 0), event.category, event.code or "", event.school_id or "")


def _summary(facts: _Student) -> dict[str, float]:
    """Plain tallies an officer checks against the SIS: one per day, by the day's strongest record."""
    partial = 0
    by_category = dict.fromkeys(_ABSENT, 0)
    last = -1
    for event, position in facts.records:
        if position == last:
            continue
        last = position
        if event.minutes_absent is not None or event.category is _TARDY:
            partial += 1
        elif event.category in by_category:
            by_category[event.category] += 1
    unexcused = by_category[Category.UNEXCUSED]
    absent = sum(by_category.values())
    enrolled = facts.enrolled_days
    return {
        "enrolled_days": enrolled,
        "absent_days": absent,
        "unexcused_days": unexcused,
        "excused_days": by_category[Category.EXCUSED],
        "suspension_days": by_category[Category.SUSPENSION],
        "partial_days": partial,
        "percent_absent": _percent(absent, enrolled),
        "percent_unexcused": _percent(unexcused, enrolled),
    }


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _requirements_met(
    rule: Rule, met_on: date, met: Mapping[str, date], conditions: Mapping[str, date], through: date
) -> date | None:
    """The day every requirement of ``rule`` held, or None: a designation needs all of them
    (a condition dated after ``through`` has not happened yet)."""
    for other in rule.requires.designations:
        if other not in met:
            return None
        met_on = max(met_on, met[other])
    for condition in rule.requires.conditions:
        happened = conditions.get(condition)
        if happened is None or happened > through:
            return None
        met_on = max(met_on, happened)
    return met_on


def _designation(
    compiled: _Compiled, outcome: _Outcome, met_on: date, known: dict[int, Evidence]
) -> Designation:
    """The designation with its evidence; ``known`` shares Evidence between rules counting a record.

    Each report's records are counted once per date and follow the previous report's, so the
    evidence is already in date order without duplicates.
    """
    evidence: list[Evidence] = []
    for report in outcome.reports:
        for record in report.records:
            event = record[0]
            item = known.get(id(event))
            if item is None:
                item = Evidence(event.date, event.category, event.minutes_absent, event.code)
                known[id(event)] = item
            evidence.append(item)
    rule = compiled.rule
    repeated = rule.repeat is not None
    return Designation(
        id=compiled.rule_id,
        label=rule.label,
        citation=rule.citation,
        rule=compiled.descriptions[outcome.criterion],
        met_on=met_on,
        count=outcome.value,
        threshold=outcome.threshold,
        unit=rule.unit,
        evidence=tuple(evidence),
        occasions=len(outcome.reports) if repeated else 1,
        report_dates=tuple(report.on for report in outcome.reports) if repeated else (),
        report_sizes=tuple(len(report.records) for report in outcome.reports) if repeated else (),
        further_citation=rule.repeat.citation if rule.repeat is not None else None,
    )


def _describe(rule: Rule, criterion: Criterion) -> str:
    """The rule in one line, e.g. "at least 3 occasions (unexcused, tardy; part days over 30 min)
    in school_year", shown to officers beside the citation."""
    bound = "more than" if rule.compare == "more_than" else "at least"
    upper = f" and less than {rule.threshold_max:g}" if rule.threshold_max is not None else ""
    if rule.unit == "reports":
        return f"{bound} {criterion.threshold:g} reports as {rule.reports_of} in school_year"
    bands = "; ".join(f"{band.threshold:g} in {','.join(band.grades)}" for band in rule.grade_thresholds)
    if not rule.is_percent:
        unit = f" {rule.unit.replace('_', ' ')}"
    elif rule.denominator == "window_days":
        unit = f"% of the past {criterion.window.length} school days"
    else:
        unit = "% of enrolled days"
    assert rule.counts is not None
    what = ", ".join(category.value for category in rule.counts.categories)
    partial = rule.counts.partial_days
    if partial is not None:
        if partial.more_than_minutes is not None:
            minutes = f"over {partial.more_than_minutes} min"
        elif partial.at_least_minutes is not None:
            minutes = f"of {partial.at_least_minutes}+ min"
        else:
            minutes = f"over {partial.more_than_day_fraction:g} of the day"
        what += f"; part days {minutes}" if rule.counts.full_days else f"; only part days {minutes}"
    by_grade = f"; by grade: {bands}" if bands else ""
    return f"{bound} {criterion.threshold:g}{upper}{unit} ({what}) in {criterion.window.describe()}{by_grade}"


class _Counted:
    """Days, days-or-parts and occasions: each counted date is one, up to the threshold's crossing."""

    def __init__(self, rule: Rule, day_minutes: int | None) -> None:
        assert rule.counts is not None
        self._selector = Selector(rule.counts, day_minutes)
        self._criteria = [
            (_needed(criterion.threshold, rule.compare), criterion.threshold, within_window(criterion.window))
            for criterion in rule.criteria()
        ]
        self._whole_year = rule.window.kind == "school_year" and not rule.alternatives
        repeat = rule.repeat
        self._every = repeat.every if repeat is not None else 0
        self._repeat = Selector(repeat.counts or rule.counts, day_minutes) if repeat is not None else None

    def outcome(self, facts: _Student, outcomes: Mapping[str, _Outcome]) -> _Outcome:
        counted = self._selector.select(facts.records)
        if self._whole_year:
            needed, threshold, _ = self._criteria[0]
            if len(counted) < needed:
                return _Outcome(len(counted), threshold)
            if self._repeat is None:
                report = _Report(day_of(counted[needed - 1]), tuple(counted))
                return _Outcome(len(counted), threshold, (report,))
            return self._with_repeats(facts, counted[:needed], threshold)
        return self._earliest(counted)

    def _earliest(self, counted: list[Record]) -> _Outcome:
        """The criterion (window and threshold) met first; unmet, the count of the first criterion."""
        best: tuple[date, int, Crossing] | None = None
        primary_peak = 0
        for index, (needed, _, within) in enumerate(self._criteria):
            crossing = first_crossing(counted, needed, within)
            primary_peak = crossing.peak if index == 0 else primary_peak
            met_on = crossing.met_on
            if met_on is not None and (best is None or met_on < best[0]):
                best = (met_on, index, crossing)
        if best is None:
            return _Outcome(primary_peak, self._criteria[0][1])
        met_on, index, crossing = best
        assert crossing.records is not None
        report = _Report(met_on, crossing.records)
        return _Outcome(crossing.peak, self._criteria[index][1], (report,), index)

    def _with_repeats(self, facts: _Student, first: list[Record], threshold: float) -> _Outcome:
        """CA 48261: after the first report, every ``every`` further counted records is another."""
        assert self._repeat is not None
        reports = [_Report(day_of(first[-1]), tuple(first))]
        later = self._repeat.select(facts.records, after=first[-1][1])
        for start in range(0, len(later) - self._every + 1, self._every):
            group = tuple(later[start : start + self._every])
            reports.append(_Report(day_of(group[-1]), group))
        counted = len(first) + self._every * (len(reports) - 1)
        return _Outcome(counted, threshold, tuple(reports))


class _Percent:
    """A share of enrolled days, measured to date: a status that holds from the start of its
    current run (``met_on``), since a rising attendance rate can end it."""

    def __init__(self, rule: Rule, day_minutes: int | None) -> None:
        assert rule.counts is not None
        self._rule = rule
        self._selector = Selector(rule.counts, day_minutes)
        self._whole_year = rule.window.kind == "school_year"
        self._outside = frozenset(rule.outside_membership_codes)

    def outcome(self, facts: _Student, outcomes: Mapping[str, _Outcome]) -> _Outcome:
        rule = self._rule
        if self._outside:
            facts = _in_membership(facts, self._outside)
        last = facts.enrolled_days - 1
        if last < 0:
            return _Outcome(0.0, rule.threshold)
        counted = self._selector.select(facts.records)
        if not counted:
            return _Outcome(0.0, rule.threshold)
        positions = [position for _, position in counted]
        share = Share(positions, rule.window, rule.denominator)
        percent = share.percent(last)
        if not self._holds(share, last):
            return _Outcome(round(percent, 2), rule.threshold)
        start = self._run_start(share, positions, last)
        first = share.first_position(last)
        in_window = tuple(record for record in counted if record[1] >= first)
        return _Outcome(round(percent, 2), rule.threshold, (_Report(facts.school_days[start], in_window),))

    def _holds(self, share: Share, position: int) -> bool:
        rule = self._rule
        if share.enrolled(position) < rule.min_enrolled_days:
            return False
        percent = share.percent(position)
        above = percent > rule.threshold if rule.compare == "more_than" else percent >= rule.threshold
        return above and (rule.threshold_max is None or percent < rule.threshold_max)

    def _run_start(self, share: Share, positions: list[int], last: int) -> int:
        """The first school day of the run of days, ending at ``last``, on which the status held."""
        if not self._whole_year or self._rule.threshold_max is not None:
            start = last
            while start > 0 and self._holds(share, start - 1):
                start -= 1
            return start
        # Over the whole year the share only falls between counted days, so the status can only
        # begin on a counted day or on the day enrolment reaches the minimum: check just those.
        gate = self._rule.min_enrolled_days - 1
        starts = sorted({p for p in positions if p <= last} | ({gate} if 0 <= gate <= last else set()))
        index = bisect_right(starts, last) - 1
        while index > 0 and self._holds(share, starts[index] - 1):
            index -= 1
        return starts[index]


def _in_membership(facts: _Student, outside: frozenset[str]) -> _Student:
    """The student's year without the days recorded with an ``outside`` code (NJ State-excused
    absences): those days are neither absences nor days in membership."""
    dropped = sorted({position for event, position in facts.records if event.code in outside})
    if not dropped:
        return facts
    gone = set(dropped)
    records = tuple(
        (event, position - bisect_left(dropped, position))
        for event, position in facts.records
        if position not in gone
    )
    enrolled = facts.school_days[: facts.enrolled_days]
    days = tuple(day for index, day in enumerate(enrolled) if index not in gone)
    return _Student(len(days), records, days, facts.grade)


def _tardies(records: tuple[Record, ...]) -> tuple[Record, ...]:
    return tuple(record for record in records if record[0].category is _TARDY)


class _Hours:
    """Hours missed (Ohio): each counted record weighs its minutes, a whole day the district's
    instructional day; met when a period's minutes reach the threshold in hours."""

    def __init__(self, rule: Rule, day_minutes: int) -> None:
        assert rule.counts is not None
        self._rule = rule
        self._day = day_minutes
        self._selector = Selector(rule.counts, day_minutes)
        self._criteria = [
            (criterion, None if criterion.window.kind == _CONSECUTIVE else within_window(criterion.window))
            for criterion in rule.criteria()
        ]

    def outcome(self, facts: _Student, outcomes: Mapping[str, _Outcome]) -> _Outcome:
        counted = self._selector.select(facts.records)
        minutes = [minutes_of(record, self._day) for record in counted]
        best: tuple[date, int, float, TimeCrossing] | None = None
        primary: tuple[int, float] = (0, self._rule.threshold)
        for index, (criterion, within) in enumerate(self._criteria):
            threshold = self._rule.threshold_for(facts.grade) if index == 0 else criterion.threshold
            needed = _needed_minutes(threshold, self._rule.compare)
            if within is None:
                runs = self._late_arrivals_kept(facts, counted)
                run_minutes = [minutes_of(record, self._day) for record in runs]
                crossing = first_consecutive_crossing(runs, run_minutes, needed)
            else:
                crossing = first_time_crossing(counted, minutes, needed, within)
            primary = (crossing.peak, threshold) if index == 0 else primary
            met_on = crossing.met_on
            if met_on is not None and (best is None or met_on < best[0]):
                best = (met_on, index, threshold, crossing)
        if best is None:
            return _Outcome(_hours(primary[0]), primary[1])
        met_on, index, threshold, crossing = best
        assert crossing.records is not None
        return _Outcome(_hours(crossing.peak), threshold, (_Report(met_on, crossing.records),), index)

    def _late_arrivals_kept(self, facts: _Student, counted: list[Record]) -> list[Record]:
        """The day records a consecutive run reads: where a day's strongest counted record is a part
        day other than a late arrival (which would end the run) but the day also has a counted late
        arrival, the late arrival stands for the day, so the run may end with it. Otherwise excusing
        that part day would let the late arrival join the run and raise the count."""
        late = {record[1]: record for record in self._selector.select(_tardies(facts.records))}
        if not late:
            return counted
        return [
            late.get(record[1], record)
            if record[0].minutes_absent is not None and record[0].category is not _TARDY
            else record
            for record in counted
        ]


def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def _needed_minutes(hours: float, compare: str) -> int:
    """Minutes needed to meet an hours threshold ("at least 30 hours" needs 1,800)."""
    exact = hours * 60
    return math.floor(exact) + 1 if compare == "more_than" else math.ceil(exact - 1e-9)


class _Reports:
    """CA 48262: how many times another rule has been met (reported) this school year."""

    def __init__(self, rule: Rule) -> None:
        assert rule.reports_of is not None
        self._of = rule.reports_of
        self._needed = _needed(rule.threshold, rule.compare)
        self._threshold = rule.threshold

    def outcome(self, facts: _Student, outcomes: Mapping[str, _Outcome]) -> _Outcome:
        referenced = outcomes.get(self._of)
        reports = referenced.reports if referenced is not None else ()
        if len(reports) < self._needed:
            return _Outcome(len(reports), self._threshold)
        crossing = reports[: self._needed]
        combined = _Report(crossing[-1].on, tuple(r for report in reports for r in report.records))
        return _Outcome(len(reports), self._threshold, (combined,))


def _needed(threshold: float, compare: str) -> int:
    """Records needed to meet a count threshold ("more than 2" needs 3, "at least 3" needs 3)."""
    return math.floor(threshold) + 1 if compare == "more_than" else math.ceil(threshold)


_Evaluator = _Counted | _Percent | _Hours | _Reports


class _Compiled(NamedTuple):
    rule_id: str
    rule: Rule
    evaluator: _Evaluator
    count_key: str
    descriptions: tuple[str, ...]
    has_requirements: bool


@lru_cache(maxsize=32)
def _compiled(policy: Policy) -> tuple[_Compiled, ...]:
    """Each enabled rule of ``policy`` in dependency order, with its counting prepared once."""
    compiled: list[_Compiled] = []
    day_minutes = policy.parameters.get(DAY_MINUTES)
    for rule_id in policy.rule_order:
        rule = policy.rules[rule_id]
        if not rule.enabled:
            continue
        evaluator: _Evaluator
        if rule.unit == "reports":
            evaluator = _Reports(rule)
        elif rule.unit == "hours":
            # load_policy refuses a pack whose hour rules lack the day's length.
            assert day_minutes is not None, f"{rule_id} counts hours without {DAY_MINUTES}"
            evaluator = _Hours(rule, day_minutes)
        elif rule.is_percent:
            evaluator = _Percent(rule, day_minutes)
        else:
            evaluator = _Counted(rule, day_minutes)
        descriptions = tuple(_describe(rule, criterion) for criterion in rule.criteria())
        requirements = bool(rule.requires.designations or rule.requires.conditions)
        key = f"{rule_id}.{rule.unit}"
        compiled.append(_Compiled(rule_id, rule, evaluator, key, descriptions, requirements))
    return tuple(compiled)


def changes_as_days_pass(policy: Policy, determination: Determination) -> bool:
    """Whether ``determination`` can change on a later school day with no new records.

    Counts of days, occasions and hours are crossings of dated records: with no new record a
    crossing stays where it is, whatever the window. A share of enrolled (or recent) days is not:
    each school day without an absence lowers it, so a share at or over its threshold may end (or,
    under a minimum of enrolled days, begin) and its value changes. A share under its threshold only
    falls further, so it is not.
    """
    for compiled in _compiled(policy):
        rule = compiled.rule
        if rule.is_percent and determination.counts.get(compiled.count_key, 0.0) + 0.01 >= rule.threshold:
            return True
    return False
