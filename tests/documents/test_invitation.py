"""A conference invitation emailed to a real SMTP server on loopback (aiosmtpd) arrives as a
text/calendar METHOD:REQUEST part that icalendar parses back to the proposed date, time and place."""

from __future__ import annotations

import email
import socket
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from icalendar import Calendar

from truancy.connector.smtp import SmtpServer
from truancy.documents.invitation import Invitation, invitation_ics, invitation_uid


class Inbox(Sink):
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


INVITE = Invitation(
    record_id="1234",
    summary="Attendance conference",
    starts_at=datetime(2026, 12, 8, 15, 30, tzinfo=ZoneInfo("America/Los_Angeles")),
    minutes=45,
    place="Room 4, Lincoln Middle School",
    organizer="attendance@district.example.org",
    attendees=("guardian@example.org",),
    description="To plan supports for attendance together.",
)


def test_the_invitation_arrives_as_a_calendar_request_with_the_proposed_time_and_place() -> None:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        message = EmailMessage()
        message["From"] = INVITE.organizer
        message["To"] = INVITE.attendees[0]
        message["Subject"] = "Invitation: attendance conference"
        message.set_content("We would like to meet with you.")
        ics = invitation_ics(INVITE, stamp=datetime(2026, 12, 1, 18, 0, tzinfo=UTC))
        message.add_alternative(ics.decode("utf-8"), subtype="calendar", params={"method": "REQUEST"})
        SmtpServer("127.0.0.1", port, starttls=False).send(message)
    finally:
        controller.stop()
    (raw,) = inbox.messages
    received = email.message_from_bytes(raw, policy=default)
    parts = [p for p in received.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    assert parts[0].get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(parts[0].get_content())
    assert str(calendar["method"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == INVITE.starts_at
    assert (event.decoded("dtend") - event.decoded("dtstart")).total_seconds() == 45 * 60
    assert str(event["location"]) == INVITE.place
    assert str(event["uid"]) == invitation_uid("1234", "district.example.org")
    assert str(event["attendee"]) == "mailto:guardian@example.org"


def test_a_time_without_its_zone_is_refused() -> None:
    naive = Invitation("1", "x", datetime(2026, 12, 8, 15, 30), 30, "here", "a@b.org", ())
    with pytest.raises(ValueError, match="time zone"):
        invitation_ics(naive, stamp=datetime(2026, 12, 1, tzinfo=UTC))
