"""Conference invitations and reminders in the sync cycle, each logged as an attempt in the SIS.

When an officer proposes a meeting (a U_TRUANCY_CONFERENCES row with a time and place and no
outcome yet), the next cycle emails each guardian who may receive mail an invitation with an
iCalendar request (:mod:`truancy.documents.invitation`), and, ``reminder_days_before`` the day, a
reminder that updates the same calendar entry. Each send is appended to the row's ``attempts``
(date, channel, purpose), so CA § 48262's "conscientious effort ... attempting to communicate with
the parents of the pupil at least once" is on record even when the family never comes.

The attempt is written to the SIS after the SMTP server accepted the message: an attempt on record
is always one that happened. Should that write fail, the next cycle sends again; the same UID makes
the family's calendar update the entry rather than add one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from truancy.connector.smtp import SmtpError, SmtpServer
from truancy.daemon.notices_settings import NoticeEmailSettings
from truancy.daemon.runtime import Runtime
from truancy.daemon.schema import students
from truancy.documents.invitation import Invitation, invitation_ics
from truancy.mappings.casework import CaseworkPack, casework_pack
from truancy.mappings.casework_records import Attempt, CaseFile, Conference
from truancy.mappings.notices_contacts import GuardianContact

log = logging.getLogger("truancy.daemon.casework_invitations")
ContactSource = Callable[[Iterable[str]], Iterable[GuardianContact]]
AttemptWriter = Callable[[str, tuple[Attempt, ...]], None]


def _now() -> datetime:
    return datetime.now(UTC)


class InvitationCycle:
    def __init__(
        self,
        engine: Engine,
        pack: CaseworkPack,
        email: NoticeEmailSettings,
        *,
        district: str,
        zone: ZoneInfo,
        contacts: ContactSource,
        read_files: Callable[[], Mapping[str, CaseFile]],
        record_attempts: AttemptWriter,
        password_dir: Path,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.engine = engine
        self.pack = pack
        self.email = email
        self.district = district
        self.zone = zone
        self.contacts = contacts
        self.read_files = read_files
        self.record_attempts = record_attempts
        self.password_dir = password_dir
        self.clock = clock
        self.errors: list[str] = []

    def _server(self) -> SmtpServer:
        password = self.email.password_file
        if password is not None and not password.is_absolute():
            password = self.password_dir / password
        e = self.email
        return SmtpServer(e.host, e.port, e.starttls, e.username, password, e.verify_tls)

    def _due(self, conference: Conference, today: date) -> str | None:
        """``invitation``, ``reminder`` or None for a meeting proposed, not yet held, still ahead."""
        if conference.outcome is not None or conference.starts_at is None:
            return None
        try:
            meeting = self.pack.meeting(conference.meeting)
        except KeyError:
            return None
        day = conference.starts_at.date()
        if day < today:
            return None
        purposes = {attempt.purpose for attempt in conference.attempts}
        if "invitation" not in purposes:
            return "invitation"
        if "reminder" not in purposes and today >= day - timedelta(days=meeting.reminder_days_before):
            return "reminder"
        return None

    def run(self, today: date) -> int:
        """Send what is due; returns how many messages the server accepted."""
        files = self.read_files()
        due = [
            (ref, conference, purpose)
            for ref, file in files.items()
            for conference in file.conferences
            if (purpose := self._due(conference, today)) is not None
        ]
        if not due:
            return 0
        student_of = self._student_ids({ref for ref, _, _ in due})
        guardians: dict[str, list[GuardianContact]] = {}
        for contact in self.contacts(sorted(set(student_of.values()))):
            guardians.setdefault(contact.student_id, []).append(contact)
        server, sent = self._server(), 0
        for ref, conference, purpose in due:
            emails = [
                c.email for c in guardians.get(student_of.get(ref, ""), []) if c.may_receive and c.email
            ]
            if not emails:
                continue
            try:
                server.send(self._message(conference, purpose, emails))
            except SmtpError as exc:
                self.errors.append(f"transient: conference {purpose} not sent ({exc})")
                continue
            sent += 1
            attempts = (*conference.attempts, Attempt(today, "email", purpose))
            self.record_attempts(conference.record_id, attempts)
        return sent

    def _student_ids(self, refs: set[str]) -> dict[str, str]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(students.c.sis_ref, students.c.student_id).where(students.c.sis_ref.in_(sorted(refs)))
            ).all()
        return {row.sis_ref: row.student_id for row in rows}

    def _message(self, conference: Conference, purpose: str, recipients: list[str]) -> EmailMessage:
        assert conference.starts_at is not None  # _due checked it
        meeting = self.pack.meeting(conference.meeting)
        starts = conference.starts_at.replace(tzinfo=self.zone)
        invitation = Invitation(
            record_id=conference.record_id,
            summary=f"{self.district}: {meeting.label}",
            starts_at=starts,
            minutes=meeting.minutes,
            place=conference.place,
            organizer=self.email.from_address,
            attendees=tuple(recipients),
            description="A meeting to talk about attendance and the support the school can offer.",
        )
        message = EmailMessage()
        message["From"] = self.email.from_address
        message["To"] = ", ".join(recipients)
        word = "Reminder" if purpose == "reminder" else "Invitation"
        message["Subject"] = f"{word}: {meeting.label}, {starts:%A %B %d, %I:%M %p}"
        message["Message-ID"] = make_msgid(domain=self.email.from_address.split("@", 1)[1])
        message.set_content(
            f"We would like to meet with you about your child's attendance.\n\n"
            f"When: {starts:%A %B %d %Y, %I:%M %p}\nWhere: {conference.place}\n\n"
            "If this time does not work for you, please reply or call the school and we will find another.\n"
            f"({meeting.citation})\n"
        )
        ics = invitation_ics(invitation, stamp=self.clock()).decode("utf-8")
        message.add_alternative(ics, subtype="calendar", params={"method": "REQUEST"})
        return message


def invitation_cycle(rt: Runtime, *, secrets_dir: Path | None = None) -> InvitationCycle | None:
    """The cycle's invitations, or None: no [notices.email], no casework pack for the state, or a
    plugin that reads no casework, guardians or attempts."""
    settings = rt.settings
    pack = casework_pack(settings.district.state)
    email = settings.notices.email
    contacts: ContactSource | None = getattr(rt.plugin, "guardian_contacts", None)
    read = getattr(rt.plugin, "casework_files", None)
    record = getattr(rt.plugin, "record_conference_attempts", None)
    if pack is None or email is None or contacts is None or read is None or record is None:
        return None
    return InvitationCycle(
        rt.engine,
        pack,
        email,
        district=settings.district.name,
        zone=settings.district.zone,
        contacts=contacts,
        read_files=read,
        record_attempts=record,
        password_dir=secrets_dir or settings.config_dir,
    )
