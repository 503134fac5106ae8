"""Canonical casework records an officer keeps in the SIS: conferences, plans, referrals to help.

Plugins read their SIS's rows into these; the daemon keeps them per student and the packet and
the escalation preconditions are computed from them. They hold dates, codes and the officer's own
words (what was agreed, the plan's goals), which go only into the SIS and the packet, never logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from truancy.mappings.casework import ConferenceOutcome, ExceptionKind, ReferralStatus, Signer

CONFERENCE_OUTCOMES: frozenset[str] = frozenset({"held", "no_show", "declined", "rescheduled"})
REFERRAL_STATUSES: frozenset[str] = frozenset({"made", "accepted", "started", "completed", "declined"})
EXCEPTION_KINDS: frozenset[str] = frozenset(
    {"pregnancy", "foster_care", "homelessness", "principal_earner", "severe_illness"}
)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One effort to reach the family about a meeting: an invitation or a reminder, by one channel."""

    on: date
    channel: str
    purpose: str = "invitation"
    reference: str = ""
    """Where the attempt can be checked: the print batch it went in (``print-YYYY-MM-DD``) or the
    email's Message-ID."""


@dataclass(frozen=True, slots=True)
class Conference:
    record_id: str
    meeting: str
    starts_at: datetime | None = None
    place: str = ""
    outcome: ConferenceOutcome | None = None
    held_on: date | None = None
    attendees: tuple[str, ...] = ()
    interpreter: bool | None = None
    agreed: str = ""
    attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    record_id: str
    form: str
    start_date: date
    review_date: date | None = None
    end_date: date | None = None
    goals: str = ""
    supports: str = ""
    responsible: str = ""
    target_rate: float | None = None
    """The attendance rate the plan aims at (0-1); None: any improvement is on track."""
    signatures: dict[Signer, date] = field(default_factory=dict)
    progress: str = ""
    """What the daemon last wrote as the plan's progress (so it writes only a change)."""


@dataclass(frozen=True, slots=True)
class Referral:
    record_id: str
    partner: str
    service: str
    status: ReferralStatus
    made_on: date
    status_on: date | None = None


@dataclass(frozen=True, slots=True)
class RecordedException:
    """A circumstance the SIS records that bars a punitive step (TX § 25.0915(a-3))."""

    kind: ExceptionKind
    recorded_on: date


@dataclass(frozen=True, slots=True)
class CaseFile:
    """Everything the officer recorded for one student, as read back from the SIS."""

    conferences: tuple[Conference, ...] = ()
    plans: tuple[Plan, ...] = ()
    referrals: tuple[Referral, ...] = ()
    exceptions: tuple[RecordedException, ...] = ()
    notices_sent: Mapping[str, date] = field(default_factory=dict)
    """Notice type -> the day a letter of it went to the family this school year (from the store:
    the daemon sent it)."""

    def attempts(self) -> list[tuple[Conference, Attempt]]:
        return sorted(((c, a) for c in self.conferences for a in c.attempts), key=lambda pair: pair[1].on)


@dataclass(frozen=True, slots=True)
class PacketRequest:
    """An officer's request, made in the SIS, for a student's packet; the next cycle builds it."""

    record_id: str
    sis_ref: str
    kind: str
