"""Family notices in the sync cycle: generated once from the case, approved, sent once, logged.

Each cycle, before evaluation, the officer's decision on each "Review and approve letter" task is
read back (approve, hold, cancel) and every letter already sent is handed to the case as its task
done (so "§ 48260.5 notified" is met on the date sent). After evaluation a notice is generated for
each open notice task of the pack (one per trigger: its id is derived from student, year and
notice type), its facts frozen; a notice whose basis a correction removed before it was sent is
cancelled with a note. Once the cycle's writes are allowed, approved notices are delivered.

Sent once: a delivery row (state ``sending`` and the Message-ID it will carry) is committed before
the message goes to the SMTP server and marked ``sent`` after it was accepted. A row still
``sending`` at the next cycle means a crash in between: the letter may or may not have left, so it
is never re-sent automatically; the notice is held with a note for the officer. The SIS log is a
desired write, so a crash between sending and logging is repaired by the next cycle's diff,
without sending again: one row of the SIS's notices table per notice where the plugin has one
(PowerSchool's U_TRUANCY_NOTICES: status, dates, the letter and its delivery evidence), written
when the letter is generated; else a note when it is sent or cancelled (Ed-Fi). Notice notes an
earlier version wrote stay as the case log; a notice the SIS already logs is never generated
again, even by a store rebuilt from nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import asdict, replace
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, select, update

from truancy.connector.smtp import SmtpError, SmtpServer
from truancy.daemon.due import chunks
from truancy.daemon.evaluate import Evaluation, Target, school_year_of
from truancy.daemon.files import private_dir, write_private
from truancy.daemon.notice_languages import kept_shares, measure, record
from truancy.daemon.notices_schema import guardian_contacts, notice_deliveries, notices
from truancy.daemon.notices_settings import NoticeSettings
from truancy.daemon.officer import OfficerWork
from truancy.daemon.print_batch import rebuild_print_batch
from truancy.daemon.schema import attendance, sis_rows, students
from truancy.daemon.store import utcnow
from truancy.daemon.translation_tasks import translation_task
from truancy.documents.catalogs import Catalog, load_catalogs
from truancy.documents.letters import (
    SOURCE_LANGUAGE,
    Absence,
    District,
    LetterError,
    LetterFacts,
    Recipient,
    RenderedLetter,
    render_letter,
    to_pdf,
    to_pdf_all,
)
from truancy.mappings.case import OfficerAction
from truancy.mappings.codemap import CodeEntry
from truancy.mappings.notices import Notice, NoticePack
from truancy.mappings.notices_contacts import GuardianContact
from truancy.mappings.task_outcomes import outcome_of
from truancy.mappings.writes import AUTHOR, DesiredWrite, WriteKind, stable_key, sync_key

log = logging.getLogger("truancy.daemon.notices")

REVIEW_CODES = ("approve", "hold", "cancel")
CHECK_CODES = ("arrived", "resend", "cancel")
CHECK_OUTCOMES = json.dumps(
    [
        {"code": "arrived", "label": "The family got it: log it as sent", "closes": True},
        {"code": "resend", "label": "It did not arrive: send it again", "closes": True},
        {"code": "cancel", "label": "Cancel this letter", "closes": True},
    ],
    separators=(",", ":"),
)
"""A delivery that may have been accepted: what the officer found out from the family."""
REVIEW_OUTCOMES = json.dumps(
    [
        {"code": "approve", "label": "Approve and send", "closes": True},
        {"code": "hold", "label": "Hold (do not send yet)", "closes": True},
        {"code": "cancel", "label": "Cancel this letter", "closes": True},
    ],
    separators=(",", ":"),
)
OPEN = ("pending", "approved", "held")
STUDENT_FACTS = ("days_missed", "percent_missed")
"""Values a letter may name that the cycle supplies from the student's own designation."""
LOG_STATUS = {"pending": "awaiting_approval"}
"""A notice's status as its SIS log shows it (the others read as they are stored)."""
ILLNESS = re.compile(r"\b(ill|illness|sick|medical|health|doctor|hospital)", re.IGNORECASE)
NOTE_LIMIT = 4000
Row = Mapping[Any, Any]
"""A row of the notices tables as SQLAlchemy returns it."""
ContactSource = Callable[[Iterable[str]], Iterable[GuardianContact]]
PlanSource = Callable[[Iterable[str], date], set[str]]
"""The plugin's ``health_plans``: students with a 504 plan or an IEP in force on a day."""
PLAN_HOLD = "504/IEP plan on record: an officer reviews the case before any letter goes."


def notice_id(student_id: str, school_year: str, notice_type: str) -> str:
    """One notice per student, school year and notice type: a crash or a restore cannot make two."""
    return stable_key("notice", student_id, school_year, notice_type)


class NoticeCycle:
    """The notices part of one sync cycle (see the module docstring for the order of its steps)."""

    def __init__(
        self,
        engine: Engine,
        pack: NoticePack,
        settings: NoticeSettings,
        *,
        district_name: str,
        config_dir: Path,
        contacts: ContactSource | None,
        categorize: Callable[[str], CodeEntry | None],
        secrets_dir: Path | None = None,
        clock: Callable[[], datetime] = utcnow,
        log_table: bool = False,
        task_types: Mapping[str, str] | None = None,
        health_plans: PlanSource | None = None,
    ) -> None:
        """``log_table``: the SIS has a table for notices (PowerSchool's U_TRUANCY_NOTICES), so each
        letter is logged as one NOTICE row; without one it is logged as notes (Ed-Fi).
        ``task_types``: the case pack's task id → type; a notice whose trigger is a referral task
        announces a referral made, so it is due once the officer records the referral, not before.
        ``health_plans``: the SIS's 504/IEP status, where it records one; a letter for a student with
        a plan in force is held for the officer, whatever ``approval`` says."""
        self.engine = engine
        self.health_plans = health_plans
        self.log_table = log_table
        self.task_types = dict(task_types or {})
        self.pack = pack
        self.settings = settings
        self.config_dir = config_dir
        self.contacts = contacts
        self.categorize = categorize
        self.secrets_dir = secrets_dir
        self.clock = clock
        extra = [self._path(settings.catalogs_dir)] if settings.catalogs_dir else []
        self.catalogs: dict[str, Catalog] = load_catalogs(*extra)
        self.template_dirs = [self._path(settings.templates_dir)] if settings.templates_dir else []
        self.district = District(
            district_name,
            tuple(settings.district_address),
            settings.district_phone,
            settings.signature_name,
            settings.signature_title,
        )
        self.errors: list[str] = []
        self.delivery_errors: list[str] = []
        self._shares: dict[tuple[str, str], float] | None = None
        """Each school's language shares (Cal. Educ. Code § 48985), read once a cycle when needed."""

    def _path(self, path: Path) -> Path:
        return path if path.is_absolute() else self.config_dir / path

    # -- before evaluation ---------------------------------------------------------------------

    def before_evaluation(self, officer: OfficerWork, today: date) -> None:
        """Read the officer's decisions back, settle interrupted deliveries, and report sent
        letters to the case as their task done."""
        self._settle_interrupted()
        with self.engine.begin() as connection:
            rows = connection.execute(select(notices)).mappings().all()
            uncertain = self._uncertain(connection)
            for row in rows:
                if row["notice_id"] in uncertain:  # the officer answers the delivery check, not the review
                    if row["status"] == "held":
                        check = self._decision(officer, self._check_write(row), CHECK_CODES)
                        if check is not None:
                            self._settle_check(connection, row, check, uncertain[row["notice_id"]])
                elif row["status"] in ("pending", "held"):
                    decision = self._decision(officer, self._review_write(row), REVIEW_CODES)
                    if decision is not None:
                        self._decide(connection, row, decision, today)
        with self.engine.connect() as connection:
            sent = connection.execute(select(notices).where(notices.c.status == "sent")).mappings().all()
            channels = self._channels(connection)
        for row in sent:
            notice = self._notice(row["notice_type"])
            if notice is None or self._announces_referral(notice):
                continue  # the referral is the officer's act, recorded by the officer
            outcome = "sent_email" if "email" in channels.get(row["notice_id"], set()) else "sent_mail"
            officer.actions[row["sis_ref"]].append(
                OfficerAction("task_done", row["sent_on"], task_id=notice.trigger.task, outcome=outcome)
            )

    def _decision(
        self, officer: OfficerWork, task: DesiredWrite, codes: tuple[str, ...]
    ) -> tuple[str, date] | None:
        """The outcome the officer recorded on one of the notice's tasks, and its date."""
        remote = officer.rows.get(task.sync_key)
        if remote is None:
            return None
        action = officer.plugin.officer_action(remote)
        if action is None or action.kind != "task_done" or action.outcome not in codes:
            return None
        return action.outcome, action.on

    def _uncertain(self, connection: Any) -> dict[str, list[str]]:
        """Notices with a delivery the mail server may or may not have taken, and those messages' ids."""
        found: dict[str, list[str]] = {}
        for key, message_id in connection.execute(
            select(notice_deliveries.c.notice_id, notice_deliveries.c.message_id).where(
                notice_deliveries.c.state == "unknown"
            )
        ):
            found.setdefault(key, []).append(message_id or "")
        return found

    def _settle_check(
        self, connection: Any, row: Row, decision: tuple[str, date], message_ids: list[str]
    ) -> None:
        """What the officer found out about a delivery that may have been accepted: the family got
        it (logged as sent on the day it was handed over), send it again, or cancel it."""
        outcome, on = decision
        ids = ", ".join(message_ids)
        if outcome == "arrived":
            values = {
                "status": "sent",
                "sent_on": row["sent_on"] or on,
                "note": f"The officer confirmed on {on.isoformat()} that the family received it "
                f"(message id {ids}).",
            }
        elif outcome == "resend":
            connection.execute(
                delete(notice_deliveries).where(
                    notice_deliveries.c.notice_id == row["notice_id"], notice_deliveries.c.state == "unknown"
                )
            )
            values = {
                "status": "approved",
                "sent_on": None,
                "note": f"Sent again at the officer's request of {on.isoformat()}; the first attempt "
                f"(message id {ids}) may also have arrived.",
            }
        else:
            values = {
                "status": "cancelled",
                "note": f"Cancelled by the officer on {on.isoformat()} after an interrupted delivery "
                f"(message id {ids}, which the family may have received).",
            }
        connection.execute(
            update(notices).where(notices.c.notice_id == row["notice_id"]).values(decided_on=on, **values)
        )

    def _decide(self, connection: Any, row: Row, decision: tuple[str, date], today: date) -> None:
        outcome, on = decision
        status = {"approve": "approved", "hold": "held", "cancel": "cancelled"}[outcome]
        if status == row["status"]:
            return
        note = row["note"]
        if status == "cancelled":
            note = f"Cancelled by the officer on {on.isoformat()}; not sent."
        connection.execute(
            update(notices)
            .where(notices.c.notice_id == row["notice_id"])
            .values(status=status, decided_on=on, note=note)
        )

    def _settle_interrupted(self) -> None:
        """A delivery left ``sending`` by a crash: it may have left, so hold it for the officer."""
        with self.engine.connect() as connection:
            stuck = connection.execute(
                select(notice_deliveries.c.notice_id).where(notice_deliveries.c.state == "sending").distinct()
            ).scalars()
            stuck_ids = list(stuck)
        for stuck_id in stuck_ids:
            self._hold_uncertain(stuck_id, None)

    def _hold_uncertain(self, key: str, handed_over: date | None) -> None:
        """A message the mail server may have accepted (the connection was lost before it answered,
        or the daemon stopped before recording the answer): never sent again on its own; the notice
        is held and a "check delivery" task asks the officer what happened (RFC 1047)."""
        when = f" on {handed_over.isoformat()}" if handed_over else ""
        with self.engine.begin() as connection:
            connection.execute(
                update(notices)
                .where(and_(notices.c.notice_id == key, notices.c.status == "approved"))
                .values(
                    status="held",
                    sent_on=handed_over,
                    note=f"Delivery{when} was interrupted: the mail server may have taken the letter. "
                    "It is not sent again until an officer checks with the family.",
                )
            )
            connection.execute(
                update(notice_deliveries)
                .where(and_(notice_deliveries.c.notice_id == key, notice_deliveries.c.state == "sending"))
                .values(state="unknown")
            )

    # -- after evaluation ----------------------------------------------------------------------

    def schedule(self, evaluation: Evaluation, today: date) -> None:
        """Generate the notices now due and cancel those whose basis is gone."""
        due: dict[tuple[str, str], Target] = {}
        basis: set[tuple[str, str]] = set()
        for target in evaluation.desired.values():
            write = target.write
            if write.kind is WriteKind.FLAG and write.fields.get("status") == "active":
                basis.add((write.student_id, write.fields.get("flag_type", "")))
            if write.kind is WriteKind.TASK:
                notice = self.pack.for_task(write.fields.get("task_type", ""))
                if notice is not None and self._renderable(notice) and self._due(notice, write.fields):
                    due[(write.student_id, notice.id)] = target
        evaluated = () if evaluation.students is None else (notices.c.student_id.in_(evaluation.students),)
        with self.engine.begin() as connection:
            existing = {
                (row.student_id, row.notice_type): row
                for row in connection.execute(
                    select(
                        notices.c.student_id, notices.c.notice_type, notices.c.status, notices.c.notice_id
                    ).where(notices.c.school_year == evaluation.school_year, *evaluated)
                )
            }
            for (student_id, notice_type), row in existing.items():
                notice = self._notice(notice_type)
                if row.status in OPEN and notice and (student_id, notice.trigger.designation) not in basis:
                    connection.execute(
                        update(notices)
                        .where(notices.c.notice_id == row.notice_id)
                        .values(
                            status="cancelled",
                            decided_on=today,
                            note=f"Cancelled before sending on {today.isoformat()}: a correction means the "
                            f"pupil is no longer {notice.trigger.designation.replace('_', ' ')}.",
                        )
                    )
        candidates = [
            key
            for key in due
            if key not in existing and (key[0], self.pack.notice(key[1]).trigger.designation) in basis
        ]
        logged = self._logged_in_sis(candidates, evaluation.school_year)
        wanted = {key: due[key] for key in candidates if key not in logged}
        if not wanted:
            return
        contacts = self._read_contacts({student for student, _ in wanted})
        students = sorted({student for student, _ in wanted})
        planned = self.health_plans(students, today) if self.health_plans is not None else set()
        for (student_id, notice_type), target in sorted(wanted.items()):
            self._generate(
                self.pack.notice(notice_type),
                student_id,
                target,
                contacts.get(student_id, []),
                evaluation,
                today,
                has_plan=student_id in planned,
            )

    def _renderable(self, notice: Notice) -> bool:
        """Every value the letter names is at hand: the district's, or a fact of the student's own."""
        return set(notice.needs) <= set(self.settings.values) | set(STUDENT_FACTS)

    def _announces_referral(self, notice: Notice) -> bool:
        return self.task_types.get(notice.trigger.task) == "referral"

    def _due(self, notice: Notice, task: Mapping[str, str]) -> bool:
        """A notice is due while its task is open; one announcing a referral (§ 48263: "the school
        official ... referring the pupil shall notify") once the officer recorded the referral made."""
        if not self._announces_referral(notice):
            return task.get("status") == "open"
        made = outcome_of("referral", task.get("outcome") or None)
        return task.get("status") == "done" and (made is None or made.fulfils)

    def _logged_in_sis(self, keys: Iterable[tuple[str, str]], school_year: str) -> set[tuple[str, str]]:
        """Of these (student, notice type), those the SIS logs as sent or as on their way (a
        delivery on record, one that may have been accepted included), by the store's mirror of
        its rows (a store lost, or restored from an older backup, reads them back first): never
        generated, hence never sent, a second time. A letter logged with no delivery never reached
        the family and is generated again, with the same review task."""
        by_log: dict[str, tuple[str, str]] = {}
        for wanted in keys:
            key = notice_id(wanted[0], school_year, wanted[1])
            by_log[sync_key(WriteKind.NOTICE, wanted[0], school_year, f"notice:{key}")] = wanted
            by_log[sync_key(WriteKind.NOTE, wanted[0], school_year, f"notice-sent:{key}")] = wanted
        found: set[tuple[str, str]] = set()
        with self.engine.connect() as connection:
            for batch in chunks(sorted(by_log)):
                logs = connection.execute(
                    select(sis_rows.c.sync_key, sis_rows.c.kind, sis_rows.c.columns).where(
                        sis_rows.c.sync_key.in_(batch)
                    )
                )
                found.update(
                    by_log[log_key]
                    for log_key, kind, columns in logs
                    if kind == WriteKind.NOTE.value or _reached(columns or {})
                )
        return found

    def _read_contacts(self, student_ids: set[str]) -> dict[str, list[GuardianContact]]:
        found: dict[str, list[GuardianContact]] = {}
        if self.contacts is None:
            return found
        for contact in self.contacts(sorted(student_ids)):
            found.setdefault(contact.student_id, []).append(contact)
        now = self.clock()
        with self.engine.begin() as connection:
            connection.execute(
                delete(guardian_contacts).where(guardian_contacts.c.student_id.in_(student_ids))
            )
            for contact in (c for group in found.values() for c in group):
                values = asdict(contact)
                values.pop("student_name")
                values.pop("school_name")
                values["address"] = list(contact.address)
                connection.execute(insert(guardian_contacts).values(**values, read_at=now))
        return found

    def _generate(
        self,
        notice: Notice,
        student_id: str,
        target: Target,
        contacts: list[GuardianContact],
        evaluation: Evaluation,
        today: date,
        *,
        has_plan: bool = False,
    ) -> None:
        recipients = [c for c in contacts if c.may_receive]
        wanted_language = recipients[0].language if recipients else SOURCE_LANGUAGE
        catalog = self._catalog(wanted_language)
        facts = self._facts(student_id, recipients, evaluation.as_of, evaluation.school_year, today)
        days, count = evaluation.amounts.get((student_id, notice.trigger.designation), (0, 0.0))
        facts = replace(
            facts, extra={**facts.extra, "days_missed": str(days), "percent_missed": f"{count:.1f}"}
        )
        try:
            letter = render_letter(notice, facts, catalog, self.district, template_dirs=self.template_dirs)
            english = self._also_english(notice, facts, student_id, catalog, evaluation.school_year)
        except LetterError as exc:
            self.errors.append(f"data: a {notice.id} letter was not generated ({exc})")
            return
        status = "approved" if self.settings.approval == "auto" else "pending"
        note = None
        if not recipients:
            status, note = "held", "No guardian on file may receive mail: deliver by another means."
        elif has_plan:
            status, note = "held", PLAN_HOLD
        elif self._mostly_illness(student_id, evaluation.as_of, evaluation.school_year):
            status, note = (
                "held",
                (
                    "Most of this pupil's absences are excused for illness or medical care: an officer "
                    "reviews the case (health plan, 504 or IEP) before any letter goes."
                ),
            )
        with self.engine.connect() as connection:
            school = connection.execute(
                select(students.c.school_id).where(students.c.student_id == student_id)
            ).scalar_one_or_none()
        frozen = {
            "letter": _facts_json(facts),
            "recipients": [
                {"contact_id": c.contact_id, "name": c.name, "address": list(c.address), "email": c.email}
                for c in recipients
            ],
            "words": letter.words,
            "grade_level": letter.grade_level,
            "languages": [SOURCE_LANGUAGE, catalog.language] if english else [catalog.language],
        }
        with self.engine.begin() as connection:
            connection.execute(
                insert(notices).values(
                    notice_id=notice_id(student_id, evaluation.school_year, notice.id),
                    student_id=student_id,
                    sis_ref=target.sis_ref,
                    school_year=evaluation.school_year,
                    school_id=school,
                    notice_type=notice.id,
                    trigger_on=today,
                    language=catalog.language,
                    wanted_language=wanted_language,
                    status=status,
                    facts=frozen,
                    letter_text=f"{english.text}\n\n{letter.text}" if english else letter.text,
                    created_at=self.clock(),
                    note=note,
                )
            )

    def _facts(
        self, student_id: str, recipients: list[GuardianContact], as_of: date, school_year: str, today: date
    ) -> LetterFacts:
        first = recipients[0] if recipients else None
        return LetterFacts(
            letter_date=today,
            student=first.student_name if first else "",
            school=first.school_name if first else "",
            recipient=Recipient(first.name, first.address) if first else Recipient("", ()),
            absences=self._absences(student_id, as_of, school_year),
            supports=tuple(self.settings.supports),
            contact_name=self.settings.contact_name,
            contact_phone=self.settings.contact_phone,
            contact_email=self.settings.contact_email,
            extra=dict(self.settings.values),
        )

    def preview(self, sis_ref: str, today: date) -> tuple[RenderedLetter, bytes] | None:
        """The letter the first notice of the pack would be for this student today (None: no
        such student); nothing is stored or sent."""
        with self.engine.connect() as connection:
            student_id = connection.execute(
                select(students.c.student_id).where(students.c.sis_ref == sis_ref, ~students.c.deleted)
            ).scalar_one_or_none()
        if student_id is None:
            return None
        notice = next(n for n in self.pack.notices if set(n.needs) <= set(self.settings.values))
        found = list(self.contacts([student_id])) if self.contacts is not None else []
        recipients = [c for c in found if c.may_receive]
        catalog = self._catalog(recipients[0].language if recipients else SOURCE_LANGUAGE)
        facts = self._facts(student_id, recipients, today, school_year_of(today), today)
        letter = render_letter(notice, facts, catalog, self.district, template_dirs=self.template_dirs)
        return letter, to_pdf(letter.html)

    def _mostly_illness(self, student_id: str, as_of: date, school_year: str) -> bool:
        """More than half of the year's absences excused for illness or medical care (by the code
        map's description of each code): no automatic letter for a sick child."""
        with self.engine.connect() as connection:
            codes = connection.execute(
                select(attendance.c.code).where(
                    attendance.c.student_id == student_id,
                    attendance.c.day <= as_of,
                    attendance.c.day >= date(int(school_year[:4]), 7, 1),
                )
            ).scalars()
            entries = [self.categorize(code) for code in codes if code]
        absences = [e for e in entries if e is not None and e.category.value in ("excused", "unexcused")]
        illness = [e for e in absences if e.category.value == "excused" and ILLNESS.search(e.description)]
        return len(illness) * 2 > len(absences)

    def _also_english(
        self, notice: Notice, facts: LetterFacts, student_id: str, catalog: Catalog, school_year: str
    ) -> RenderedLetter | None:
        """Cal. Educ. Code § 48985: a letter in a language 15 percent or more of the pupil's school
        speak goes in English as well, in the same PDF (English first)."""
        share = self.pack.primary_language_share
        if share is None or catalog.language == SOURCE_LANGUAGE:
            return None
        if self._shares is None:
            self._shares = kept_shares(self.engine, school_year)
        if self._shares is None and self.contacts is not None:  # the year's first need: measure once
            record(self.engine, school_year, measure(self.engine, self.contacts), self.clock().date())
            self._shares = kept_shares(self.engine, school_year) or {}
        with self.engine.connect() as connection:
            school = connection.execute(
                select(students.c.school_id).where(students.c.student_id == student_id)
            ).scalar_one_or_none()
        if (self._shares or {}).get((school or "", catalog.language), 0.0) < share:
            return None
        english = self.catalogs[SOURCE_LANGUAGE]
        return render_letter(notice, facts, english, self.district, template_dirs=self.template_dirs)

    def _catalog(self, language: str) -> Catalog:
        catalog = self.catalogs.get(language)
        if catalog is not None and catalog.reviewed and catalog.statutory_reviewed:
            return catalog
        return self.catalogs[SOURCE_LANGUAGE]

    def _absences(self, student_id: str, as_of: date, school_year: str) -> tuple[Absence, ...]:
        """The dated records that counted this school year: unexcused absences and tardies."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(
                    attendance.c.day, attendance.c.code, attendance.c.category, attendance.c.minutes_absent
                )
                .where(attendance.c.student_id == student_id, attendance.c.day <= as_of)
                .order_by(attendance.c.day)
            ).all()
        found: list[Absence] = []
        year_start = date(int(school_year[:4]), 7, 1)
        for day, code, stored, minutes in rows:
            if day < year_start:
                continue
            entry = self.categorize(code) if code else None
            category = entry.category.value if entry is not None else stored
            if category == "unexcused":
                found.append(Absence(day, "part_day" if minutes else "full_day", minutes))
            elif category == "tardy":
                found.append(Absence(day, "tardy", minutes))
        return tuple(found)

    # -- delivery ------------------------------------------------------------------------------

    def deliver(self, today: date) -> int:
        """Send every approved notice; returns how many changed (sent, or held after a delivery the
        mail server may have taken), so the cycle logs them in the SIS at once."""
        with self.engine.connect() as connection:
            approved = (
                connection.execute(
                    select(notices)
                    .where(notices.c.status == "approved")
                    .order_by(notices.c.school_id, notices.c.notice_id)
                )
                .mappings()
                .all()
            )
        if not approved:
            return 0
        folder = private_dir(self._path(self.settings.output_dir))
        batch_id = f"print-{today.isoformat()}"
        printed, sent = False, 0
        for row in approved:
            pdf = self.pdf_for(row)
            name = f"{row['notice_type']}-{row['notice_id'][:12]}.pdf"
            write_private(folder / name, pdf)
            try:
                emailed = self._email(row, pdf, name)
            except SmtpError as exc:
                if exc.accepted_unknown:
                    self._hold_uncertain(row["notice_id"], today)
                    sent += 1
                    self.delivery_errors.append(
                        f"transient: the mail server may have taken a letter before the connection was "
                        f"lost ({exc}); it is held for the officer to check, not sent again"
                    )
                else:
                    self.delivery_errors.append(
                        f"transient: a letter was not emailed ({exc}); the next cycle retries"
                    )
                continue
            if not emailed:
                printed = True
                self._journal(row, "print", "household", state="sent", batch_id=batch_id)
            with self.engine.begin() as connection:
                connection.execute(
                    update(notices)
                    .where(notices.c.notice_id == row["notice_id"])
                    .values(status="sent", sent_on=today, pdf_path=str(folder / name))
                )
            sent += 1
        if printed:
            rebuild_print_batch(self.engine, folder, batch_id, self._path)
        return sent

    def pdf_for(self, row: Row) -> bytes:
        """The PDF of a stored notice, from its frozen facts."""
        notice = self.pack.notice(row["notice_type"])
        facts = _facts_from_json(row["facts"]["letter"])
        htmls = [
            render_letter(
                notice,
                facts,
                self.catalogs.get(language) or self.catalogs[SOURCE_LANGUAGE],
                self.district,
                template_dirs=self.template_dirs,
            ).html
            for language in row["facts"].get("languages", [row["language"]])
        ]
        return to_pdf_all(htmls)[0] if len(htmls) > 1 else to_pdf(htmls[0])

    def _email(self, row: Row, pdf: bytes, filename: str) -> bool:
        email = self.settings.email
        recipients = [r for r in row["facts"]["recipients"] if r["email"]]
        if email is None or not recipients:
            return False
        password = email.password_file
        if password is not None and not password.is_absolute():
            password = (self.secrets_dir or self.config_dir) / password
        server = SmtpServer(
            email.host, email.port, email.starttls, email.username, password, email.verify_tls
        )
        notice = self.pack.notice(row["notice_type"])
        for recipient in recipients:
            if self._already(row["notice_id"], recipient["contact_id"], "email"):
                continue
            message = EmailMessage()
            message["From"] = email.from_address
            message["To"] = recipient["email"]
            message["Subject"] = f"{self.district.name}: {notice.title}"
            message["Message-ID"] = make_msgid(domain=email.from_address.split("@", 1)[1])
            message.set_content(row["letter_text"])
            message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
            self._journal(
                row, "email", recipient["contact_id"], state="sending", message_id=message["Message-ID"]
            )
            try:
                server.send(message)
            except SmtpError as exc:
                if not exc.accepted_unknown:  # refused or never handed over: nothing left, send again later
                    self._unjournal(row, "email", recipient["contact_id"])
                raise
            self._journal(row, "email", recipient["contact_id"], state="sent", accepted=True)
        return True

    def _unjournal(self, row: Row, channel: str, recipient: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                delete(notice_deliveries).where(
                    notice_deliveries.c.notice_id == row["notice_id"],
                    notice_deliveries.c.recipient == recipient,
                    notice_deliveries.c.channel == channel,
                    notice_deliveries.c.state == "sending",
                )
            )

    def _already(self, notice_key: str, recipient: str, channel: str) -> bool:
        with self.engine.connect() as connection:
            state = connection.execute(
                select(notice_deliveries.c.state).where(
                    notice_deliveries.c.notice_id == notice_key,
                    notice_deliveries.c.recipient == recipient,
                    notice_deliveries.c.channel == channel,
                )
            ).scalar_one_or_none()
        return state is not None

    def _journal(
        self,
        row: Row,
        channel: str,
        recipient: str,
        *,
        state: str,
        message_id: str | None = None,
        batch_id: str | None = None,
        accepted: bool = False,
    ) -> None:
        key = {"notice_id": row["notice_id"], "recipient": recipient, "channel": channel}
        with self.engine.begin() as connection:
            found = connection.execute(
                select(notice_deliveries.c.state).where(
                    *(notice_deliveries.c[k] == v for k, v in key.items())
                )
            ).scalar_one_or_none()
            values: dict[str, Any] = {"state": state}
            if message_id is not None:
                values["message_id"] = message_id
            if batch_id is not None:
                values["batch_id"] = batch_id
            if accepted or state == "sent":
                values["accepted_at"] = self.clock()
            if found is None:
                connection.execute(
                    insert(notice_deliveries).values(**key, student_id=row["student_id"], **values)
                )
            else:
                connection.execute(
                    update(notice_deliveries)
                    .where(*(notice_deliveries.c[k] == v for k, v in key.items()))
                    .values(**values)
                )

    def _channels(self, connection: Any) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for key, channel in connection.execute(
            select(notice_deliveries.c.notice_id, notice_deliveries.c.channel).where(
                notice_deliveries.c.state.in_(("sent", "unknown"))  # unknown: the officer said it arrived
            )
        ):
            found.setdefault(key, set()).add(channel)
        return found

    # -- SIS rows ------------------------------------------------------------------------------

    def writes(self, student_ids: Collection[str] | None = None) -> dict[str, Target]:
        """The SIS rows the notices call for: review tasks, translation tasks, and each notice's log
        (its notices-table row, or notes when sent or cancelled), of the students ``student_ids``
        names (None: of every student)."""
        found: dict[str, Target] = {}
        among = () if student_ids is None else (notices.c.student_id.in_(list(student_ids)),)
        with self.engine.connect() as connection:
            rows = connection.execute(select(notices).where(*among)).mappings().all()
            ids = [row["notice_id"] for row in rows]
            deliveries: dict[str, list[Row]] = {}
            of_these = () if student_ids is None else (notice_deliveries.c.notice_id.in_(ids),)
            for delivery in connection.execute(select(notice_deliveries).where(*of_these)).mappings():
                deliveries.setdefault(delivery["notice_id"], []).append(delivery)
        for row in rows:
            writes: list[DesiredWrite] = []
            uncertain = any(d["state"] == "unknown" for d in deliveries.get(row["notice_id"], []))
            if self.settings.approval == "officer" or (row["status"] == "held" and not uncertain):
                writes.append(self._review_write(row))
            if uncertain:
                writes.append(self._check_write(row))
            if row["language"] != row["wanted_language"]:
                writes.append(self._translation_write(row))
            if self.log_table:
                writes.append(self._log_write(row, deliveries.get(row["notice_id"], [])))
            elif row["status"] == "sent":
                writes.append(self._sent_note(row, deliveries.get(row["notice_id"], [])))
            elif row["status"] == "cancelled" and row["note"]:
                writes.append(
                    self._note(row, "notice-cancelled", row["decided_on"] or row["trigger_on"], row["note"])
                )
            for write in writes:
                found[write.sync_key] = Target(write, row["sis_ref"])
        return found

    def _review_write(self, row: Row) -> DesiredWrite:
        notice = self._notice(row["notice_type"])
        title = notice.title if notice else row["notice_type"]
        fields = {
            "task_type": "notice_review",
            "title": f"Review and approve letter: {title}"[:200],
            "due_date": row["trigger_on"].isoformat(),
            "status": "open",
            "citation": notice.citation if notice else "",
            "detail": _clip(
                f"Approve to send, hold, or cancel. Language: {row['language']}. "
                f"Letter text:\n{row['letter_text']}"
            ),
            "outcome_options": REVIEW_OUTCOMES,
        }
        return DesiredWrite.build(
            WriteKind.TASK, row["student_id"], row["school_year"], f"notice-review:{row['notice_id']}", fields
        )

    def _check_write(self, row: Row) -> DesiredWrite:
        """Asks the officer whether a letter the mail server may have taken reached the family."""
        notice = self._notice(row["notice_type"])
        title = notice.title if notice else row["notice_type"]
        fields = {
            "task_type": "notice_delivery_check",
            "title": f"Check delivery with the family: {title}"[:200],
            "due_date": (row["sent_on"] or row["trigger_on"]).isoformat(),
            "status": "open",
            "citation": notice.citation if notice else "",
            "detail": "The connection to the mail server was lost while it was taking this letter, so it "
            "may or may not have arrived; it is not sent again on its own. Ask the family, then record "
            "what you found.",
            "outcome_options": CHECK_OUTCOMES,
        }
        return DesiredWrite.build(
            WriteKind.TASK, row["student_id"], row["school_year"], f"notice-check:{row['notice_id']}", fields
        )

    def _translation_write(self, row: Row) -> DesiredWrite:
        return translation_task(
            row["student_id"],
            row["school_year"],
            f"notice-translation:{row['notice_id']}",
            state=self.pack.state,
            title=f"Translation needed: send the letter in {row['wanted_language']} too",
            due=row["trigger_on"],
            detail="No reviewed catalog for the family's language: the letter went in English. "
            "Have a reviewed translation sent (statutory text is never machine-translated).",
        )

    def _sent_note(self, row: Row, deliveries: list[Row]) -> DesiredWrite:
        text = (
            f"Letter sent on {row['sent_on'].isoformat()} ({row['notice_type']}, {row['language']}): "
            + "; ".join(_evidence(deliveries, ("sent",)))
            + ".\n\n"
            + row["letter_text"]
        )
        return self._note(row, "notice-sent", row["sent_on"], text)

    def _log_write(self, row: Row, deliveries: list[Row]) -> DesiredWrite:
        """The notice's row in the SIS's notices table: written when generated, kept in step while
        it waits, and after sending or cancelling never changed again (its facts are frozen)."""
        notice = self._notice(row["notice_type"])
        sent = sorted({d["channel"] for d in deliveries if d["state"] in ("sent", "unknown")})
        trigger = (
            f"{notice.trigger.task} task of the case ({notice.trigger.designation.replace('_', ' ')})"
            if notice
            else ""
        )
        fields = {
            "notice_type": row["notice_type"],
            "citation": notice.citation if notice else "",
            "trigger": trigger[:200],
            "languages": ",".join(row["facts"].get("languages") or [row["language"]]),
            "generated_date": row["trigger_on"].isoformat(),
            "sent_date": row["sent_on"].isoformat() if row["sent_on"] else "",
            "channel": "+".join(sent),
            "evidence": "; ".join(_evidence(deliveries, ("sent", "unknown")))[:1000],
            "status": LOG_STATUS.get(row["status"], row["status"]),
            "status_reason": (row["note"] or "")[:1000],
            "letter_text": _clip(row["letter_text"]),
        }
        return DesiredWrite.build(
            WriteKind.NOTICE, row["student_id"], row["school_year"], f"notice:{row['notice_id']}", fields
        )

    def _note(self, row: Row, kind: str, on: date, text: str) -> DesiredWrite:
        fields = {
            "note_date": on.isoformat(),
            "category": "notice",
            "author": AUTHOR,
            "note_text": _clip(text),
        }
        return DesiredWrite.build(
            WriteKind.NOTE, row["student_id"], row["school_year"], f"{kind}:{row['notice_id']}", fields
        )

    def _notice(self, notice_type: str) -> Notice | None:
        try:
            return self.pack.notice(notice_type)
        except KeyError:
            return None


def _reached(log: Mapping[str, Any]) -> bool:
    """Whether a notice's SIS log says it was sent, or a delivery went out (its channel is logged
    for a delivery sent or left unknown)."""
    return log.get("status") == "sent" or bool(log.get("channel"))


def _evidence(deliveries: Iterable[Row], states: tuple[str, ...]) -> list[str]:
    """What proves each delivery: the message id and when the server accepted it, or the print
    batch; a delivery a crash or a dropped connection left unknown says so. Never an address."""
    found = []
    for delivery in sorted(deliveries, key=lambda d: (d["channel"], d["recipient"])):
        if delivery["state"] not in states:
            continue
        accepted = delivery["accepted_at"]
        when = accepted.isoformat(timespec="seconds") if accepted else ""
        if delivery["state"] == "unknown":
            found.append(f"email may have been accepted (interrupted), message id {delivery['message_id']}")
        elif delivery["channel"] == "email":
            found.append(f"email accepted {when}, message id {delivery['message_id']}")
        else:
            found.append(f"print batch {delivery['batch_id']}")
    return found


def _clip(text: str) -> str:
    return text if len(text) <= NOTE_LIMIT else text[: NOTE_LIMIT - 1] + "…"


def _facts_json(facts: LetterFacts) -> dict[str, Any]:
    return {
        "letter_date": facts.letter_date.isoformat(),
        "student": facts.student,
        "school": facts.school,
        "recipient": {"name": facts.recipient.name, "address": list(facts.recipient.address)},
        "absences": [[a.day.isoformat(), a.kind, a.minutes] for a in facts.absences],
        "supports": list(facts.supports),
        "contact_name": facts.contact_name,
        "contact_phone": facts.contact_phone,
        "contact_email": facts.contact_email,
        "extra": dict(facts.extra),
    }


def _facts_from_json(data: Mapping[str, Any]) -> LetterFacts:
    return LetterFacts(
        letter_date=date.fromisoformat(data["letter_date"]),
        student=data["student"],
        school=data["school"],
        recipient=Recipient(data["recipient"]["name"], tuple(data["recipient"]["address"])),
        absences=tuple(
            Absence(date.fromisoformat(d), kind, minutes) for d, kind, minutes in data["absences"]
        ),
        supports=tuple(data["supports"]),
        contact_name=data["contact_name"],
        contact_phone=data["contact_phone"],
        contact_email=data["contact_email"],
        extra=dict(data["extra"]),
    )
