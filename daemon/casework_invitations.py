"""Conference invitations and reminders in the sync cycle: in the family's language, by email or in
the day's print batch, each logged as an attempt in the SIS.

When an officer proposes a meeting (a U_TRUANCY_CONFERENCES row with a time and place and no
outcome yet), the next cycle invites the family. Guardians with an email get one message with an
iCalendar request (:mod:`truancy.documents.invitation`); a household without one (or every
household, when the district sends no email) gets a printed invitation letter in the day's print
batch beside the letters (:mod:`truancy.daemon.print_batch`). ``reminder_days_before`` the day, a
reminder follows the same way, updating the same calendar entry. The text comes from a reviewed
``invitations.po`` catalog in the guardian's language (:mod:`truancy.documents.invitation_text`);
without one it goes in English and the case gets a "translation needed" task.

Sent once, like letters: each message is journalled ``sending`` before it leaves and ``sent`` after
(:mod:`truancy.daemon.invitations_schema`), and the conference row's ``attempts`` (date, channel,
purpose, the Message-ID or print batch) are written from the journal, so CA § 48262's
"conscientious effort ... attempting to communicate with the parents" is on record even when the
family never comes, and a failed SIS write is repaired by the next cycle without sending again. An
email a crash left ``sending`` may have arrived: it is never sent again, and the family gets the
printed invitation instead, so an attempt surely on record follows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, delete, insert, select, update

from truancy.connector.errors import ConnectorError
from truancy.connector.smtp import SmtpError, SmtpServer
from truancy.daemon.casework import district_casework
from truancy.daemon.evaluate import Target, school_year_of
from truancy.daemon.files import private_dir, write_private
from truancy.daemon.invitations_schema import delivery_key, invitation_deliveries
from truancy.daemon.notices_settings import NoticeSettings
from truancy.daemon.print_batch import batch_id_for, rebuild_print_batch
from truancy.daemon.runtime import Runtime
from truancy.daemon.schema import students
from truancy.daemon.translation_tasks import translation_task
from truancy.documents.catalogs import Catalog, load_catalogs
from truancy.documents.invitation import Invitation, invitation_ics
from truancy.documents.invitation_text import (
    InvitationError,
    InvitationFacts,
    InvitationText,
    Purpose,
    render_invitation,
)
from truancy.documents.letters import SOURCE_LANGUAGE, District, to_pdf
from truancy.mappings.casework import CaseworkPack
from truancy.mappings.casework_records import Attempt, CaseFile, Conference
from truancy.mappings.notices_contacts import GuardianContact
from truancy.mappings.writes import DesiredWrite

log = logging.getLogger("truancy.daemon.casework_invitations")
ContactSource = Callable[[Iterable[str]], Iterable[GuardianContact]]
AttemptWriter = Callable[[str, tuple[Attempt, ...]], None]
Row = Mapping[Any, Any]
PURPOSES: tuple[Purpose, ...] = ("invitation", "reminder")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Student:
    """Whose conference it is, as the journal row records it."""

    sis_ref: str
    student_id: str
    school_id: str | None
    batch_id: str


def _households(guardians: Iterable[GuardianContact]) -> list[tuple[GuardianContact, ...]]:
    """Guardians grouped by postal address: one printed letter per envelope."""
    found: dict[tuple[str, ...], list[GuardianContact]] = {}
    for guardian in guardians:
        found.setdefault(guardian.address, []).append(guardian)
    return [tuple(group) for group in found.values()]


class InvitationCycle:
    def __init__(
        self,
        engine: Engine,
        pack: CaseworkPack,
        settings: NoticeSettings,
        *,
        district: str,
        zone: ZoneInfo,
        config_dir: Path,
        contacts: ContactSource,
        read_files: Callable[[], Mapping[str, CaseFile]],
        record_attempts: AttemptWriter,
        secrets_dir: Path | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.engine = engine
        self.pack = pack
        self.settings = settings
        self.email = settings.email
        self.zone = zone
        self.config_dir = config_dir
        self.contacts = contacts
        self.read_files = read_files
        self.record_attempts = record_attempts
        self.secrets_dir = secrets_dir or config_dir
        self.clock = clock
        extra = [self._path(settings.catalogs_dir)] if settings.catalogs_dir else []
        self.catalogs: dict[str, Catalog] = load_catalogs(*extra, domain="invitations")
        self.template_dirs = [self._path(settings.templates_dir)] if settings.templates_dir else []
        self.district = District(
            district,
            tuple(settings.district_address),
            settings.district_phone,
            settings.signature_name,
            settings.signature_title,
        )
        self.errors: list[str] = []

    def _path(self, path: Path) -> Path:
        return path if path.is_absolute() else self.config_dir / path

    # -- the cycle -----------------------------------------------------------------------------

    def run(self, today: date) -> int:
        """Send what is due and log every attempt in the SIS; returns how many messages went."""
        batch_id = batch_id_for(today.isoformat())
        self._settle(batch_id)
        files = self.read_files()
        journal = self._journal()
        due = [
            (ref, conference, purpose, by_post)
            for ref, file in files.items()
            for conference in file.conferences
            if (found := self._due(conference, today, journal)) is not None
            for purpose, by_post in (found,)
        ]
        sent = printed = 0
        if due:
            placed = self._students({ref for ref, *_ in due})
            guardians: dict[str, list[GuardianContact]] = {}
            for contact in self.contacts(sorted({student for student, _ in placed.values()})):
                if contact.may_receive:
                    guardians.setdefault(contact.student_id, []).append(contact)
            for ref, conference, purpose, by_post in due:
                if ref not in placed:
                    continue
                student_id, school_id = placed[ref]
                where = _Student(ref, student_id, school_id, batch_id)
                post, mailed = self._invite(
                    conference, purpose, by_post, guardians.get(student_id, []), where, today
                )
                sent, printed = sent + post + mailed, printed + post
        if printed:
            folder = private_dir(self._path(self.settings.output_dir))
            rebuild_print_batch(self.engine, folder, batch_id, self._path)
        self._log_attempts(files)
        return sent

    def _due(
        self, conference: Conference, today: date, journal: Mapping[tuple[str, str], list[Row]]
    ) -> tuple[Purpose, bool] | None:
        """What to send for a meeting proposed, not yet held, still ahead: (purpose, by post only),
        or None. By post only: an email a crash interrupted may have arrived, so a letter follows."""
        if conference.outcome is not None or conference.starts_at is None:
            return None
        try:
            meeting = self.pack.meeting(conference.meeting)
        except KeyError:
            return None
        day = conference.starts_at.date()
        if day < today:
            return None
        recorded: dict[str, date] = {}
        for attempt in conference.attempts:
            recorded[attempt.purpose] = min(attempt.on, recorded.get(attempt.purpose, attempt.on))
        for purpose in PURPOSES:
            rows = journal.get((conference.record_id, purpose), [])
            if purpose == "reminder":
                invited = [r["sent_on"] for r in journal.get((conference.record_id, "invitation"), [])]
                invited_on = min([*invited, recorded.get("invitation", today)])
                if today < day - timedelta(days=meeting.reminder_days_before) or invited_on >= today:
                    return None  # not yet, or the invitation only went today
            if not rows:
                if purpose in recorded:
                    continue  # on record in the SIS already (another store, or by hand)
                return purpose, False
            if all(r["channel"] == "email" and r["state"] == "unknown" for r in rows):
                return purpose, True
        return None

    def _invite(
        self,
        conference: Conference,
        purpose: Purpose,
        by_post: bool,
        guardians: Sequence[GuardianContact],
        where: _Student,
        today: date,
    ) -> tuple[int, int]:
        """Print, then email (a crash while printing leaves nothing sent, so all of it goes again);
        returns (letters printed, emails accepted)."""
        emailed = [g for g in guardians if g.email] if self.email is not None and not by_post else []
        covered = {g.address for g in emailed}
        posted = _households(
            g for g in guardians if g not in emailed and g.address and (by_post or g.address not in covered)
        )
        printed = self._print(conference, purpose, posted, where, today) if posted else 0
        mailed = self._email(conference, purpose, emailed, where, today) if emailed else 0
        return printed, mailed

    # -- rendering -----------------------------------------------------------------------------

    def _text(
        self, conference: Conference, purpose: Purpose, to: Sequence[GuardianContact], today: date
    ) -> tuple[InvitationText, str]:
        """The invitation in the first guardian's language if a reviewed catalog carries it, else
        English; returns it with the language the family asked for."""
        assert conference.starts_at is not None  # _due checked it
        meeting = self.pack.meeting(conference.meeting)
        facts = InvitationFacts(
            purpose=purpose,
            meeting_id=meeting.id,
            meeting_label=meeting.label,
            citation=meeting.citation,
            starts_at=conference.starts_at.replace(tzinfo=self.zone),
            minutes=meeting.minutes,
            place=conference.place,
            student=to[0].student_name,
            school=to[0].school_name,
            guardians=tuple(g.name for g in to),
            letter_date=today,
            address=to[0].address,
            contact_name=self.settings.contact_name,
            contact_phone=self.settings.contact_phone,
            contact_email=self.settings.contact_email,
        )
        wanted = to[0].language or SOURCE_LANGUAGE
        catalog = self.catalogs.get(wanted)
        if catalog is not None and catalog.reviewed and wanted != SOURCE_LANGUAGE:
            try:
                return render_invitation(
                    facts, catalog, self.district, template_dirs=self.template_dirs
                ), wanted
            except InvitationError:
                pass  # a catalog without this meeting's strings: English, and a translation task
        english = self.catalogs[SOURCE_LANGUAGE]
        return render_invitation(facts, english, self.district, template_dirs=self.template_dirs), wanted

    # -- delivery ------------------------------------------------------------------------------

    def _print(
        self,
        conference: Conference,
        purpose: Purpose,
        households: list[tuple[GuardianContact, ...]],
        where: _Student,
        today: date,
    ) -> int:
        folder = private_dir(self._path(self.settings.output_dir))
        letters: list[tuple[dict[str, Any], bytes]] = []
        for household in households:
            try:
                text, wanted = self._text(conference, purpose, household, today)
            except InvitationError as exc:
                self.errors.append(f"data: a conference {purpose} letter was not made ({exc})")
                return 0
            key = delivery_key(conference.record_id, purpose, household[0].contact_id)
            row = self._row(conference, purpose, "print", household[0].contact_id, where, today, text, wanted)
            row |= {"batch_id": where.batch_id, "pdf_path": str(folder / f"{purpose}-{key}.pdf")}
            letters.append((row, to_pdf(text.html)))
        with self.engine.begin() as connection:
            connection.execute(insert(invitation_deliveries), [row for row, _ in letters])
        for row, pdf in letters:
            write_private(Path(row["pdf_path"]), pdf)
        with self.engine.begin() as connection:
            for row, _ in letters:
                connection.execute(update(invitation_deliveries).where(*self._key(row)).values(state="sent"))
        return len(letters)

    def _email(
        self,
        conference: Conference,
        purpose: Purpose,
        to: Sequence[GuardianContact],
        where: _Student,
        today: date,
    ) -> int:
        assert self.email is not None  # _invite checked
        try:
            text, wanted = self._text(conference, purpose, to, today)
        except InvitationError as exc:
            self.errors.append(f"data: a conference {purpose} email was not made ({exc})")
            return 0
        message = self._message(conference, text, [g.email for g in to])
        row = self._row(conference, purpose, "email", "email", where, today, text, wanted)
        row["message_id"] = message["Message-ID"]
        with self.engine.begin() as connection:
            connection.execute(insert(invitation_deliveries).values(**row))
        try:
            self._server().send(message)
        except SmtpError as exc:
            if not exc.accepted_unknown:  # never handed over: nothing left, the next cycle sends it
                with self.engine.begin() as connection:
                    connection.execute(delete(invitation_deliveries).where(*self._key(row)))
            self.errors.append(f"transient: a conference {purpose} was not emailed ({exc})")
            return 0
        with self.engine.begin() as connection:
            connection.execute(update(invitation_deliveries).where(*self._key(row)).values(state="sent"))
        return 1

    def _server(self) -> SmtpServer:
        assert self.email is not None
        e = self.email
        password = e.password_file
        if password is not None and not password.is_absolute():
            password = self.secrets_dir / password
        return SmtpServer(e.host, e.port, e.starttls, e.username, password, e.verify_tls)

    def _message(self, conference: Conference, text: InvitationText, recipients: list[str]) -> EmailMessage:
        assert self.email is not None
        assert conference.starts_at is not None  # _due checked
        meeting = self.pack.meeting(conference.meeting)
        invitation = Invitation(
            record_id=conference.record_id,
            summary=text.summary,
            starts_at=conference.starts_at.replace(tzinfo=self.zone),
            minutes=meeting.minutes,
            place=conference.place,
            organizer=self.email.from_address,
            attendees=tuple(recipients),
            description=text.description,
        )
        message = EmailMessage()
        message["From"] = self.email.from_address
        message["To"] = ", ".join(recipients)
        message["Subject"] = text.subject
        message["Message-ID"] = make_msgid(domain=self.email.from_address.split("@", 1)[1])
        message.set_content(text.body)
        ics = invitation_ics(invitation, stamp=self.clock()).decode("utf-8")
        message.add_alternative(ics, subtype="calendar", cte="base64", params={"method": "REQUEST"})
        message["Content-Language"] = text.language  # after the body: set_content clears Content-*
        # Headers fold only past RFC 5322's 998: CPython's folder drops the space where it splits a
        # non-ASCII subject between two encoded words (a Vietnamese subject read "9tháng 6").
        message.policy = message.policy.clone(max_line_length=998)
        return message

    # -- the journal ---------------------------------------------------------------------------

    def _row(
        self,
        conference: Conference,
        purpose: Purpose,
        channel: str,
        household: str,
        where: _Student,
        today: date,
        text: InvitationText,
        wanted: str,
    ) -> dict[str, Any]:
        return {
            "record_id": conference.record_id,
            "purpose": purpose,
            "channel": channel,
            "household": household,
            "student_id": where.student_id,
            "sis_ref": where.sis_ref,
            "school_id": where.school_id,
            "school_year": school_year_of(today),
            "state": "sending",
            "sent_on": today,
            "language": text.language,
            "wanted_language": wanted,
            "created_at": self.clock(),
        }

    @staticmethod
    def _key(row: Mapping[str, Any]) -> tuple[Any, ...]:
        c = invitation_deliveries.c
        return (
            c.record_id == row["record_id"],
            c.purpose == row["purpose"],
            c.channel == row["channel"],
            c.household == row["household"],
        )

    def _settle(self, batch_id: str) -> None:
        """What a crash interrupted: an email may have left (``unknown``: never sent again); a
        letter never reached the print batch (dropped: it is printed again)."""
        c = invitation_deliveries.c
        with self.engine.begin() as connection:
            connection.execute(
                update(invitation_deliveries)
                .where(and_(c.channel == "email", c.state == "sending"))
                .values(state="unknown")
            )
            connection.execute(
                delete(invitation_deliveries).where(and_(c.channel == "print", c.state == "sending"))
            )

    def _journal(self) -> dict[tuple[str, str], list[Row]]:
        found: dict[tuple[str, str], list[Row]] = {}
        with self.engine.connect() as connection:
            for row in connection.execute(select(invitation_deliveries)).mappings():
                found.setdefault((row["record_id"], row["purpose"]), []).append(row)
        return found

    def _students(self, refs: set[str]) -> dict[str, tuple[str, str | None]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(students.c.sis_ref, students.c.student_id, students.c.school_id).where(
                    students.c.sis_ref.in_(sorted(refs))
                )
            ).all()
        return {row.sis_ref: (row.student_id, row.school_id) for row in rows}

    def _log_attempts(self, files: Mapping[str, CaseFile]) -> None:
        """Every message the journal has as sent, in its conference's SIS row (once each)."""
        sent: dict[str, list[Row]] = {}
        for rows in self._journal().values():
            for row in rows:
                if row["state"] == "sent":
                    sent.setdefault(row["record_id"], []).append(row)
        for file in files.values():
            for conference in file.conferences:
                have = {(a.on, a.channel, a.purpose) for a in conference.attempts}
                new: list[Attempt] = []
                for row in sorted(
                    sent.get(conference.record_id, []), key=lambda r: (r["sent_on"], r["purpose"])
                ):
                    if (row["sent_on"], row["channel"], row["purpose"]) in have:
                        continue
                    have.add((row["sent_on"], row["channel"], row["purpose"]))
                    reference = row["message_id"] or row["batch_id"] or ""
                    new.append(Attempt(row["sent_on"], row["channel"], row["purpose"], reference))
                if not new:
                    continue
                try:
                    self.record_attempts(conference.record_id, (*conference.attempts, *new))
                except ConnectorError as exc:
                    self.errors.append(
                        f"transient: a conference's attempts were not logged in the SIS "
                        f"({exc.__class__.__name__}); the next cycle logs them"
                    )

    # -- SIS rows ------------------------------------------------------------------------------

    def writes(self) -> dict[str, Target]:
        """A "translation needed" task for each conference whose family was invited in English
        because no reviewed catalog has their language."""
        found: dict[str, Target] = {}
        c = invitation_deliveries.c
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(invitation_deliveries)
                .where(c.language != c.wanted_language, c.state.in_(("sent", "unknown")))
                .order_by(c.sent_on)
            ).mappings()
            for row in rows:
                write = self._translation_write(row)
                found.setdefault(write.sync_key, Target(write, row["sis_ref"]))
        return found

    def _translation_write(self, row: Row) -> DesiredWrite:
        return translation_task(
            row["student_id"],
            row["school_year"],
            f"invitation-translation:{row['record_id']}",
            state=self.pack.state,
            title=f"Translation needed: invite the family in {row['wanted_language']} too",
            due=row["sent_on"],
            detail="No reviewed catalog for the family's language: the conference invitation went in "
            "English. Have a reviewed translation sent, or call the family with an interpreter.",
        )


def invitation_cycle(rt: Runtime, *, secrets_dir: Path | None = None) -> InvitationCycle | None:
    """The cycle's invitations, or None: notices off, no casework pack for the state, or a plugin
    that reads no casework, guardians or attempts. Without ``[notices.email]`` every invitation
    goes by post."""
    settings = rt.settings
    pack = district_casework(settings)
    contacts: ContactSource | None = getattr(rt.plugin, "guardian_contacts", None)
    read = getattr(rt.plugin, "casework_files", None)
    record = getattr(rt.plugin, "record_conference_attempts", None)
    if not settings.notices.enabled or pack is None or contacts is None or read is None or record is None:
        return None
    return InvitationCycle(
        rt.engine,
        pack,
        settings.notices,
        district=settings.district.name,
        zone=settings.district.zone,
        config_dir=settings.config_dir,
        contacts=contacts,
        read_files=read,
        record_attempts=record,
        secrets_dir=secrets_dir,
    )
