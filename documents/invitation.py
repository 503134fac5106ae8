"""A conference invitation as an iCalendar request (RFC 5545 / RFC 5546 ``METHOD:REQUEST``), so the
family's mail program offers "add to calendar" with the date, time and place the officer proposed.

The UID is derived from the conference record, so a reminder or a rescheduled time updates the same
calendar entry (``SEQUENCE`` counts the changes) instead of adding another. Built with ``icalendar``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from icalendar import Calendar, Event, vCalAddress, vText


@dataclass(frozen=True, slots=True)
class Invitation:
    record_id: str
    summary: str
    starts_at: datetime
    """Aware, in the district's time zone."""
    minutes: int
    place: str
    organizer: str
    attendees: tuple[str, ...]
    description: str = ""
    sequence: int = 0


def invitation_uid(record_id: str, domain: str) -> str:
    digest = hashlib.sha256(f"conference\x1f{record_id}".encode()).hexdigest()[:32]
    return f"{digest}@{domain}"


def invitation_ics(invitation: Invitation, *, stamp: datetime) -> bytes:
    """The invitation as an ``.ics`` body; ``stamp`` is when it was made (DTSTAMP)."""
    if invitation.starts_at.tzinfo is None:
        raise ValueError("a conference time needs its time zone")
    calendar = Calendar()
    calendar.add("prodid", "-//truancy-sync//conference//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", invitation_uid(invitation.record_id, invitation.organizer.split("@")[-1]))
    event.add("dtstamp", stamp)
    event.add("dtstart", invitation.starts_at)
    event.add("dtend", invitation.starts_at + timedelta(minutes=invitation.minutes))
    event.add("summary", invitation.summary)
    event.add("location", invitation.place)
    event.add("sequence", invitation.sequence)
    if invitation.description:
        event.add("description", invitation.description)
    organizer = vCalAddress(f"mailto:{invitation.organizer}")
    organizer.params["cn"] = vText("Attendance office")
    event["organizer"] = organizer
    for address in invitation.attendees:
        attendee = vCalAddress(f"mailto:{address}")
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("TRUE")
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    body: bytes = calendar.to_ical()
    return body
