"""What a case was last decided on, so that a note withdrawing something names the real cause.

A designation can stop holding because a past record was corrected in the SIS, because an
officer re-coded an absence, because the code map or the policy changed, because enrolled days
changed (a withdrawal, a calendar edit), or simply because later days were attended. The case
keeps a small ``Basis`` from the last time it changed; comparing it with the records now tells
which of these happened, and the note says exactly that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from truancy.mappings.codemap import RawMark

RE_EVALUATION = "a re-evaluation of the stored records"
"""The cause named when there is no earlier basis to compare with (e.g. a store rebuilt from scratch)."""


@dataclass(frozen=True)
class Basis:
    """The facts a case was decided on: all codes and digests, never a record's content.

    ``codes`` maps each code on the student's records to what it counted as ("quarantined" when
    the map could not count it); ``marks_digest`` covers the raw records dated up to ``as_of``;
    ``school_days`` counts the enrolled instructional days up to ``as_of``.
    """

    as_of: date
    policy_digest: str
    codes: Mapping[str, str]
    marks_digest: str
    school_days: int
    enrolled: bool


def marks_digest(marks: Iterable[RawMark], through: date) -> str:
    """A digest of the raw records dated up to ``through``: changes when a past record does."""
    lines = sorted(f"{m.date.isoformat()}|{m.code}|{m.minutes}" for m in marks if m.date <= through)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Looking:
    """The records now, seen from an earlier basis: the same digests, cut at the basis's date."""

    now: Basis
    marks_then: str
    school_days_then: int
    recoded: bool
    """An officer re-coded one of the student's absences this cycle."""


def change_cause(previous: Basis | None, looking: Looking) -> str:
    """Every reason the case could have changed since ``previous``, in words for a case note."""
    if previous is None:
        return RE_EVALUATION
    now = looking.now
    causes: list[str] = []
    if previous.enrolled and not now.enrolled:
        causes.append("the student's withdrawal")
    elif looking.school_days_then != previous.school_days:
        causes.append("a change in enrolled days")
    if looking.recoded:
        causes.append("an officer's re-coding of an absence")
    elif looking.marks_then != previous.marks_digest:
        causes.append("an attendance correction")
    if any(previous.codes.get(code, counted) != counted for code, counted in now.codes.items()):
        causes.append("a code map change")
    if previous.policy_digest != now.policy_digest:
        causes.append("a policy change")
    if not causes and now.as_of > previous.as_of:
        causes.append(f"the attendance recorded since {previous.as_of.isoformat()}")
    if not causes:
        return RE_EVALUATION
    return " and ".join(causes) if len(causes) <= 2 else ", ".join(causes[:-1]) + " and " + causes[-1]
