"""Family notices in the sync cycle: one letter a household, once a school year, approved as a batch.

A notice whose trigger is ``enrollment`` (TX § 25.095(a): "at the beginning of the school year")
goes to every enrolled student's family. Each cycle finds the enrolled students no family notice of
this school year covers yet (all of them at the year's first cycle; a newly enrolled child later),
reads their guardians, groups them into families (:mod:`truancy.mappings.families`: a shared
guardian, by SIS contact or by name and mailing address) and generates one letter per family
naming each child, its facts frozen. Every covered student is recorded with the notice (per family
and school year), so a rerun, a crash or a restore never makes a second letter for them, and the
casework readiness sees the date it was sent.

Volume: a district of 20,000 students mails some 12,000 of these once a year. They go by post (the
pack's channels), in numbered print files of 100 letters sorted by school, each with its manifest,
at most 1,000 letters a cycle, and never as SIS review tasks: with ``approval = "officer"``
the day's letters form one batch the officer approves as a whole (``truancy notices approve``)
after reading the sample letter written beside it; the letters differ only in names and addresses,
so one review covers them all. With ``approval = "auto"`` they print in the cycle that finds them.
A student with a case this school year gets a note in the SIS once the letter has gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, or_, select, update

from truancy.daemon.evaluate import Target, school_year_of
from truancy.daemon.family_notices_schema import family_notice_students, family_notices
from truancy.daemon.files import private_dir, write_private
from truancy.daemon.notices import NoticeCycle
from truancy.daemon.notices_settings import NoticeSettings
from truancy.daemon.schema import enrollments, students
from truancy.daemon.store import utcnow
from truancy.documents.catalogs import Catalog
from truancy.documents.letters import (
    SOURCE_LANGUAGE,
    District,
    LetterError,
    LetterFacts,
    Recipient,
    render_letter,
    to_pdf,
    to_pdf_all,
)
from truancy.mappings.families import Family, families
from truancy.mappings.notices import Notice
from truancy.mappings.notices_contacts import GuardianContact
from truancy.mappings.writes import AUTHOR, DesiredWrite, WriteKind, stable_key

log = logging.getLogger("truancy.daemon.family_notices")

ContactSource = Callable[[Iterable[str]], Iterable[GuardianContact]]
Row = Mapping[Any, Any]
PRINT_CHUNK = 100
"""Letters per print file: a 12,000-letter mailing is split so no file is laid out whole in memory."""
PRINT_PER_CYCLE = 1000
"""Letters printed per cycle (at some 0.15-0.3 s each): a district's mailing spreads over a few
cycles instead of holding one for an hour."""
MANIFEST_HEADER = "school_id,notice,students,pages,language,wanted_language"
INSERT_CHUNK = 500


def family_notice_id(family_key: str, school_year: str, notice_type: str) -> str:
    """One letter per family, school year and notice type, whoever's store makes it."""
    return stable_key("family-notice", family_key, school_year, notice_type)


class FamilyNoticeCycle:
    """The family-notice part of one sync cycle (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        notices: Sequence[Notice],
        settings: NoticeSettings,
        *,
        district: District,
        catalogs: Mapping[str, Catalog],
        template_dirs: Sequence[Path],
        output_dir: Path,
        contacts: ContactSource | None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.notices = tuple(notices)
        self.settings = settings
        self.district = district
        self.catalogs = catalogs
        self.template_dirs = list(template_dirs)
        self.output_dir = output_dir
        self.contacts = contacts
        self.clock = clock
        self.errors: list[str] = []

    # -- generation ----------------------------------------------------------------------------

    def schedule(self, today: date) -> int:
        """Generate the letters due: one per family of each enrolled student not yet covered this
        school year. Returns how many letters were generated."""
        if self.contacts is None:
            return 0
        school_year = school_year_of(today)
        made = 0
        for notice in self.notices:
            uncovered = self._uncovered(notice, school_year, today)
            if not uncovered:
                continue
            found = list(self.contacts(sorted(uncovered)))
            grouped = [f for f in families(found) if set(f.students) <= set(uncovered)]
            reached = {student for family in grouped for student in family.students}
            alone = [Family((student,), ()) for student in sorted(set(uncovered) - reached)]
            names = {c.student_id: (c.student_name, c.school_name) for c in found}
            rows = [
                row
                for family in (*grouped, *alone)
                if (row := self._letter(notice, family, names, uncovered, school_year, today)) is not None
            ]
            self._insert(rows)
            made += len(rows)
            if rows and self.settings.approval == "officer":
                self._write_sample(notice, rows)
        return made

    def _uncovered(self, notice: Notice, school_year: str, today: date) -> dict[str, tuple[str, str]]:
        """Students enrolled for this school year and not gone before today, whom no letter of
        ``notice`` covers yet: student id -> (SIS key, school id)."""
        start = int(school_year[:4])
        year_end = date(start + 1, 6, 30)
        covered = (
            select(family_notice_students.c.student_id)
            .where(
                family_notice_students.c.school_year == school_year,
                family_notice_students.c.notice_type == notice.id,
            )
            .scalar_subquery()
        )
        enrolled = (
            select(enrollments.c.student_id)
            .where(
                enrollments.c.begin_date <= year_end,
                or_(
                    enrollments.c.end_date.is_(None), enrollments.c.end_date >= max(today, date(start, 7, 1))
                ),
            )
            .scalar_subquery()
        )
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(students.c.student_id, students.c.sis_ref, students.c.school_id).where(
                    ~students.c.deleted,
                    students.c.student_id.in_(enrolled),
                    students.c.student_id.not_in(covered),
                )
            ).all()
        return {student_id: (sis_ref or "", school or "") for student_id, sis_ref, school in rows}

    def _letter(
        self,
        notice: Notice,
        family: Family,
        names: Mapping[str, tuple[str, str]],
        uncovered: Mapping[str, tuple[str, str]],
        school_year: str,
        today: date,
    ) -> dict[str, Any] | None:
        first = family.guardians[0] if family.guardians else None
        wanted = first.language if first else SOURCE_LANGUAGE
        catalog = self._catalog(wanted)
        children = ", ".join(
            f"{names[s][0]} ({names[s][1]})" if names.get(s, ("", ""))[1] else names.get(s, ("", ""))[0]
            for s in family.students
        )
        facts = LetterFacts(
            letter_date=today,
            student=children,
            school=names.get(family.students[0], ("", ""))[1],
            recipient=Recipient(first.name, first.address) if first else Recipient("", ()),
            absences=(),
            supports=tuple(self.settings.supports),
            contact_name=self.settings.contact_name,
            contact_phone=self.settings.contact_phone,
            contact_email=self.settings.contact_email,
            extra=dict(self.settings.values),
        )
        try:
            letter = render_letter(notice, facts, catalog, self.district, template_dirs=self.template_dirs)
        except LetterError as exc:
            self.errors.append(f"data: a {notice.id} letter was not generated ({exc})")
            return None
        status = "approved" if self.settings.approval == "auto" else "pending"
        note = None
        if first is None:
            status, note = "held", "No guardian on file may receive mail: deliver by another means."
        notice_key = family_notice_id(Family(family.students, ()).key, school_year, notice.id)
        return {
            "notice": {
                "notice_id": notice_key,
                "school_year": school_year,
                "notice_type": notice.id,
                "batch_id": f"{notice.id}-{school_year}-{today.isoformat()}",
                "school_id": uncovered[family.students[0]][1],
                "language": catalog.language,
                "wanted_language": wanted,
                "status": status,
                "facts": {
                    "letter": _frozen(facts),
                    "recipients": [
                        {"contact_id": g.contact_id, "name": g.name, "address": list(g.address)}
                        for g in family.guardians
                    ],
                    "children": len(family.students),
                    "words": letter.words,
                    "grade_level": letter.grade_level,
                },
                "letter_text": letter.text,
                "created_at": self.clock(),
                "note": note,
            },
            "students": [
                {
                    "school_year": school_year,
                    "notice_type": notice.id,
                    "student_id": student,
                    "notice_id": notice_key,
                    "sis_ref": uncovered[student][0],
                }
                for student in family.students
            ],
        }

    def _insert(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            with self.engine.begin() as connection:
                connection.execute(insert(family_notices), [row["notice"] for row in chunk])
                connection.execute(
                    insert(family_notice_students), [s for row in chunk for s in row["students"]]
                )

    def _write_sample(self, notice: Notice, rows: Sequence[Mapping[str, Any]]) -> None:
        """The batch's first letter, for the officer to read before approving the batch."""
        first = next((row["notice"] for row in rows if row["notice"]["status"] == "pending"), None)
        if first is None:
            return
        folder = private_dir(self.output_dir)
        write_private(folder / f"{first['batch_id']}-sample.pdf", to_pdf(self._html(first)))
        log.info(
            "family notices await batch approval",
            extra={"notice": notice.id, "batch": first["batch_id"], "letters": len(rows)},
        )

    def _catalog(self, language: str) -> Catalog:
        catalog = self.catalogs.get(language)
        if catalog is not None and catalog.reviewed and catalog.statutory_reviewed:
            return catalog
        return self.catalogs[SOURCE_LANGUAGE]

    def _notice(self, notice_type: str) -> Notice | None:
        return next((n for n in self.notices if n.id == notice_type), None)

    def _html(self, row: Row) -> str:
        notice = self._notice(row["notice_type"])
        if notice is None:
            raise LetterError(f"{row['notice_type']}: not in the notice pack any more")
        catalog = self.catalogs.get(row["language"]) or self.catalogs[SOURCE_LANGUAGE]
        facts = _thawed(row["facts"]["letter"])
        return render_letter(notice, facts, catalog, self.district, template_dirs=self.template_dirs).html

    # -- delivery ------------------------------------------------------------------------------

    def deliver(self, today: date) -> int:
        """Print approved family letters, at most ``PRINT_PER_CYCLE`` a cycle: per generation batch,
        numbered files of ``PRINT_CHUNK`` letters sorted by school, each with its manifest. A part is
        recorded as sent with its file in one transaction after the file is written, and numbered by
        the parts the store records, so a crash in between rewrites the same file, never a second
        copy of its letters. Returns how many letters were printed."""
        with self.engine.connect() as connection:
            approved = (
                connection.execute(
                    select(family_notices)
                    .where(family_notices.c.status == "approved")
                    .order_by(
                        family_notices.c.batch_id, family_notices.c.school_id, family_notices.c.notice_id
                    )
                    .limit(PRINT_PER_CYCLE)
                )
                .mappings()
                .all()
            )
        folder = private_dir(self.output_dir) if approved else self.output_dir
        printed = 0
        for batch_id, rows in _by_batch(approved):
            for start in range(0, len(rows), PRINT_CHUNK):
                chunk = rows[start : start + PRINT_CHUNK]
                name = f"{batch_id}-print-{self._parts(batch_id) + 1:04d}"
                pdf, pages = to_pdf_all([self._html(row) for row in chunk])
                write_private(folder / f"{name}.pdf", pdf)
                manifest = [MANIFEST_HEADER] + [
                    f"{row['school_id'] or ''},{row['notice_id'][:12]},{row['facts'].get('children', 1)},"
                    f"{count},{row['language']},{row['wanted_language']}"
                    for row, count in zip(chunk, pages, strict=True)
                ]
                write_private(folder / f"{name}.csv", "\n".join(manifest) + "\n")
                with self.engine.begin() as connection:
                    connection.execute(
                        update(family_notices)
                        .where(
                            family_notices.c.notice_id.in_([row["notice_id"] for row in chunk]),
                            family_notices.c.status == "approved",
                        )
                        .values(status="sent", sent_on=today, print_file=str(folder / f"{name}.pdf"))
                    )
                printed += len(chunk)
        return printed

    def _parts(self, batch_id: str) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count(func.distinct(family_notices.c.print_file))).where(
                        family_notices.c.batch_id == batch_id, family_notices.c.print_file.is_not(None)
                    )
                ).scalar_one()
            )

    # -- SIS rows ------------------------------------------------------------------------------

    def writes(self, cased: Collection[str]) -> dict[str, Target]:
        """A note on each covered student with a case this cycle (``cased``: the students the
        evaluation writes for): the letter's date and print file once sent, or why it could not be
        mailed."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(
                    family_notice_students.c.student_id,
                    family_notice_students.c.sis_ref,
                    family_notices.c.notice_id,
                    family_notices.c.school_year,
                    family_notices.c.notice_type,
                    family_notices.c.status,
                    family_notices.c.sent_on,
                    family_notices.c.print_file,
                    family_notices.c.created_at,
                    family_notices.c.note,
                )
                .join(family_notices, family_notices.c.notice_id == family_notice_students.c.notice_id)
                .where(family_notices.c.status.in_(("sent", "held")))
            ).mappings()
            found: dict[str, Target] = {}
            for row in rows:
                write = self._note(row) if row["student_id"] in cased else None
                if write is not None:
                    found[write.sync_key] = Target(write, row["sis_ref"])
        return found

    def _note(self, row: Row) -> DesiredWrite | None:
        notice = self._notice(row["notice_type"])
        if notice is None:
            return None
        if row["status"] == "sent":
            on = row["sent_on"]
            text = (
                f"{notice.title} ({notice.citation}) sent to the family on {on.isoformat()} by post, "
                f"print file {Path(row['print_file']).name}."
            )
        else:
            on = row["created_at"].date()
            text = f"{notice.title} ({notice.citation}) not mailed: {row['note']}"
        fields = {"note_date": on.isoformat(), "category": "notice", "author": AUTHOR, "note_text": text}
        return DesiredWrite.build(
            WriteKind.NOTE, row["student_id"], row["school_year"], f"family-notice:{row['notice_id']}", fields
        )


def _by_batch(rows: Sequence[Row]) -> Iterator[tuple[str, list[Row]]]:
    batches: dict[str, list[Row]] = {}
    for row in rows:
        batches.setdefault(row["batch_id"], []).append(row)
    yield from batches.items()


def approve_batch(
    engine: Engine, notice_type: str, today: date, batch_id: str | None = None
) -> dict[str, int]:
    """Approve every pending letter of ``notice_type`` (of one batch, if named): the officer's one
    decision for the batch. Returns the letters approved per batch."""
    conditions = [family_notices.c.notice_type == notice_type, family_notices.c.status == "pending"]
    if batch_id is not None:
        conditions.append(family_notices.c.batch_id == batch_id)
    with engine.begin() as connection:
        counts: dict[str, int] = {}
        for (batch,) in connection.execute(select(family_notices.c.batch_id).where(*conditions)):
            counts[batch] = counts.get(batch, 0) + 1
        connection.execute(
            update(family_notices).where(*conditions).values(status="approved", decided_on=today)
        )
    return counts


def batches(engine: Engine) -> list[dict[str, Any]]:
    """Each generation batch: its notice type, letters by status, and the students they cover."""
    counted: dict[str, dict[str, Any]] = {}
    with engine.connect() as connection:
        for batch, notice_type, status, facts in connection.execute(
            select(
                family_notices.c.batch_id,
                family_notices.c.notice_type,
                family_notices.c.status,
                family_notices.c.facts,
            )
        ):
            entry = counted.setdefault(
                batch, {"batch_id": batch, "notice": notice_type, "letters": {}, "students": 0}
            )
            entry["letters"][status] = entry["letters"].get(status, 0) + 1
            entry["students"] += int(facts.get("children", 1))
    return [counted[key] for key in sorted(counted)]


def family_notices_sent(engine: Engine, school_year: str) -> dict[str, dict[str, date]]:
    """For each student covered by a family letter sent this school year: notice type -> date sent."""
    found: dict[str, dict[str, date]] = {}
    with engine.connect() as connection:
        for student_id, notice_type, sent_on in connection.execute(
            select(
                family_notice_students.c.student_id,
                family_notices.c.notice_type,
                family_notices.c.sent_on,
            )
            .join(family_notices, family_notices.c.notice_id == family_notice_students.c.notice_id)
            .where(family_notices.c.status == "sent", family_notices.c.school_year == school_year)
        ):
            found.setdefault(student_id, {})[notice_type] = sent_on
    return found


def _frozen(facts: LetterFacts) -> dict[str, Any]:
    return {
        "letter_date": facts.letter_date.isoformat(),
        "student": facts.student,
        "school": facts.school,
        "recipient": {"name": facts.recipient.name, "address": list(facts.recipient.address)},
        "supports": list(facts.supports),
        "contact_name": facts.contact_name,
        "contact_phone": facts.contact_phone,
        "contact_email": facts.contact_email,
        "extra": dict(facts.extra),
    }


def _thawed(data: Mapping[str, Any]) -> LetterFacts:
    return LetterFacts(
        letter_date=date.fromisoformat(data["letter_date"]),
        student=data["student"],
        school=data["school"],
        recipient=Recipient(data["recipient"]["name"], tuple(data["recipient"]["address"])),
        absences=(),
        supports=tuple(data["supports"]),
        contact_name=data["contact_name"],
        contact_phone=data["contact_phone"],
        contact_email=data["contact_email"],
        extra=dict(data["extra"]),
    )


def family_cycle(cycle: NoticeCycle) -> FamilyNoticeCycle | None:
    """The family letters of the cycle's notice pack, sharing its settings, catalogs and letterhead
    (None: the pack has no enrollment notice)."""
    notices = cycle.pack.by_enrollment()
    if not notices:
        return None
    return FamilyNoticeCycle(
        cycle.engine,
        notices,
        cycle.settings,
        district=cycle.district,
        catalogs=cycle.catalogs,
        template_dirs=cycle.template_dirs,
        output_dir=cycle.config_dir / cycle.settings.output_dir,
        contacts=cycle.contacts,
        clock=cycle.clock,
    )
