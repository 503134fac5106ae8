"""Each school's primary languages against Cal. Educ. Code § 48985, measured and kept.

§ 48985(a): where 15 percent or more of a school's pupils speak a single primary language other
than English, notices sent to their parents are written in that language as well as in English.
A student's primary language is the first guardian's preferred language as the SIS records it.
The shares are measured from every enrolled student's guardians, which is a read of the whole
district, so they are kept per school year: the first cycle of a year measures them when none are
kept, and ``truancy notices languages`` measures them again whenever it is run. Only counts are
kept (school, language, students), never who speaks what.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date

from sqlalchemy import Column, Date, Engine, Integer, String, Table, delete, insert, select

from truancy.daemon.schema import metadata, students
from truancy.mappings.notices_contacts import GuardianContact

ContactSource = Callable[[Iterable[str]], Iterable[GuardianContact]]

school_languages = Table(
    "school_languages",
    metadata,
    Column("school_year", String(16), primary_key=True),
    Column("school_id", String(64), primary_key=True),
    Column("language", String(16), primary_key=True),
    Column("students", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("measured_on", Date, nullable=False),
)


def measure(engine: Engine, contacts: ContactSource) -> dict[str, Counter[str]]:
    """Per school, how many enrolled students' first guardian prefers each language."""
    with engine.connect() as connection:
        school_of = dict(
            connection.execute(
                select(students.c.student_id, students.c.school_id).where(~students.c.deleted)
            ).all()
        )
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    seen: set[str] = set()
    for contact in contacts(sorted(school_of)):
        if contact.student_id not in seen and contact.student_id in school_of:
            seen.add(contact.student_id)
            counts[school_of[contact.student_id] or ""][contact.language] += 1
    return dict(counts)


def record(engine: Engine, school_year: str, counts: Mapping[str, Counter[str]], today: date) -> None:
    """Replace the school year's kept shares with ``counts``."""
    rows = [
        {
            "school_year": school_year,
            "school_id": school,
            "language": language,
            "students": number,
            "total": sum(languages.values()),
            "measured_on": today,
        }
        for school, languages in counts.items()
        for language, number in languages.items()
    ]
    with engine.begin() as connection:
        connection.execute(delete(school_languages).where(school_languages.c.school_year == school_year))
        if rows:
            connection.execute(insert(school_languages), rows)


def kept_shares(engine: Engine, school_year: str) -> dict[tuple[str, str], float] | None:
    """(school, language) -> share of the school's students, as last measured this school year
    (None: not measured this year)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                school_languages.c.school_id,
                school_languages.c.language,
                school_languages.c.students,
                school_languages.c.total,
            ).where(school_languages.c.school_year == school_year)
        ).all()
    if not rows:
        return None
    return {(school, language): number / total for school, language, number, total in rows if total}
