"""A conference invitation or reminder in the family's language: the email's subject and body, the
calendar entry's summary and description, and the printed letter for a family without email.

Every string comes from a reviewed ``invitations.po`` catalog (:mod:`truancy.documents.catalogs`);
dates and times are written the locale's way by Babel. A catalog that lacks a string this
invitation needs cannot carry it (:class:`InvitationError`): the caller sends English instead and
asks for a translation, never a machine-made one. The meeting's citation is printed as the casework
pack has it, in every language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

from babel.dates import format_date, format_time
from babel.lists import format_list

from truancy.documents.catalogs import Catalog
from truancy.documents.letters import SOURCE_LANGUAGE, District, _direction, _environment

Purpose = Literal["invitation", "reminder"]
TEMPLATE = "invitation.html.j2"


class InvitationError(ValueError):
    """The catalog cannot carry this invitation; the message names the missing strings."""


@dataclass(frozen=True)
class InvitationFacts:
    purpose: Purpose
    meeting_id: str
    meeting_label: str
    """The casework pack's name for the meeting (English): used only by the source catalog, and
    only when it has no ``meeting.<id>.label`` of its own (a district's own meeting)."""
    citation: str
    starts_at: datetime
    """Aware, in the district's time zone."""
    minutes: int
    place: str
    student: str
    school: str
    guardians: tuple[str, ...]
    letter_date: date
    address: tuple[str, ...] = ()
    """The household's postal address, for the printed letter's window."""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""


@dataclass(frozen=True)
class InvitationText:
    language: str
    subject: str
    body: str
    """The email's plain text."""
    summary: str
    description: str
    html: str
    """The printed letter (the same words as the email, with the address in the window)."""


class _Strings:
    def __init__(self, catalog: Catalog, values: Mapping[str, str]) -> None:
        self.catalog, self.values = catalog, values
        self.missing: list[str] = []

    def __call__(self, key: str) -> str:
        text = self.catalog.text(key)
        if text is None:
            self.missing.append(key)
            return ""
        try:
            return text.format_map(self.values)
        except (KeyError, IndexError, ValueError):
            self.missing.append(f"{key} (names a value this invitation lacks)")
            return ""


def render_invitation(
    facts: InvitationFacts,
    catalog: Catalog,
    district: District,
    *,
    template_dirs: Sequence[Path] = (),
) -> InvitationText:
    """The invitation in ``catalog``'s language, or InvitationError saying which strings it lacks."""
    if facts.starts_at.tzinfo is None:
        raise ValueError("a conference time needs its time zone")
    language = catalog.language
    zone = facts.starts_at.tzinfo
    ends = facts.starts_at + timedelta(minutes=facts.minutes)
    day = format_date(facts.starts_at, "full", locale=language)
    start = format_time(facts.starts_at, "short", tzinfo=zone, locale=language)
    values = {
        "student": facts.student,
        "school": facts.school,
        "guardian": format_list(list(facts.guardians), locale=language) if facts.guardians else "",
        "district": district.name,
        "contact_name": facts.contact_name,
        "contact_phone": facts.contact_phone,
        "contact_email": facts.contact_email,
        "date": day,
        "start": start,
        "end": format_time(ends, "short", tzinfo=zone, locale=language),
    }
    t = _Strings(catalog, values)
    meeting = catalog.text(f"meeting.{facts.meeting_id}.label")
    if meeting is None and language == SOURCE_LANGUAGE:
        meeting = facts.meeting_label
    if meeting is None:
        t.missing.append(f"meeting.{facts.meeting_id}.label")
    values["meeting"] = meeting or ""
    p = facts.purpose
    context = {
        "title": t(f"{p}.title"),
        "greeting": t("invitation.greeting"),
        "opening": t(f"{p}.opening"),
        "when_label": t("invitation.when_label"),
        "when": t("invitation.when"),
        "where_label": t("invitation.where_label"),
        "place": facts.place,
        "purpose_label": t("invitation.purpose_label"),
        "meeting": values["meeting"],
        "purpose": _purpose(catalog, facts.meeting_id, t),
        "citation": facts.citation,
        "interpreter": t("invitation.interpreter"),
        "reschedule": t("invitation.reschedule"),
        "contact_label": t("invitation.contact_label"),
        "contact": t("invitation.contact"),
        "closing": t("invitation.closing"),
    }
    subject, calendar = t(f"{p}.subject"), t("invitation.calendar")
    summary, description = t("invitation.summary"), t("invitation.description")
    if t.missing:
        raise InvitationError(f"{language!r}: no reviewed text for {', '.join(sorted(set(t.missing)))}")
    html = (
        _environment(template_dirs)
        .get_template(TEMPLATE)
        .render(
            lang=language,
            direction=_direction(language),
            district=district,
            guardian=values["guardian"],
            address=facts.address,
            letter_date=format_date(facts.letter_date, "long", locale=language),
            **context,
        )
    )
    return InvitationText(language, subject, _body(context, calendar, district), summary, description, html)


def _purpose(catalog: Catalog, meeting_id: str, t: _Strings) -> str:
    """What the meeting is for; the source catalog may lack it for a district's own meeting (then its
    name and citation say it), a translation may not."""
    if catalog.language == SOURCE_LANGUAGE and catalog.text(f"meeting.{meeting_id}.purpose") is None:
        return ""
    return t(f"meeting.{meeting_id}.purpose")


def _body(context: Mapping[str, str], calendar: str, district: District) -> str:
    c = context
    lines = [
        c["title"],
        "",
        c["greeting"],
        "",
        c["opening"],
        "",
        f"{c['when_label']}: {c['when']}",
        f"{c['where_label']}: {c['place']}",
        f"{c['purpose_label']}: {c['meeting']}"
        + (f": {c['purpose']}" if c["purpose"] else "")
        + f" ({c['citation']})",
        "",
        c["interpreter"],
        c["reschedule"],
        "",
        f"{c['contact_label']}: {c['contact']}",
        "",
        calendar,
        "",
        c["closing"],
        *(line for line in (district.signature_name, district.signature_title, district.name) if line),
    ]
    return "\n".join(lines) + "\n"
