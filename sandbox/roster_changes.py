"""Changes to the served roster while it runs: records edited, users withdrawn or deleted, and a
student's enrollment ended (a withdrawal or transfer out) or started again (a re-enrollment).

They let tests and benchmarks prove that a delta sync reads only what changed and that a full
reconcile finds records a provider deleted outright. Every change gets a ``dateLastModified`` later
than any record already served, so a client's bookmark always sees it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from truancy.sandbox.roster import Record, timestamp

if TYPE_CHECKING:
    from truancy.sandbox.oneroster_api import RosterCollections

DELETION_STATUSES = frozenset({"tobedeleted", "inactive"})


def _later_stamp(roster: RosterCollections) -> str:
    latest = max(
        (record["dateLastModified"] for records in roster.records.values() for record in records),
        default="",
    )
    now = timestamp(datetime.now(UTC).replace(tzinfo=None))
    base = max(latest, now)
    moment = datetime.fromisoformat(base.removesuffix("Z")) + timedelta(milliseconds=1)
    return timestamp(moment)


def touch(roster: RosterCollections, collection: str, every: int) -> list[str]:
    """Mark every ``every``-th record of ``collection`` as modified now; the sourcedIds touched."""
    if collection not in roster.records or every < 1:
        raise ValueError("expected a served collection and every >= 1")
    stamp = _later_stamp(roster)
    touched = roster.records[collection][::every]
    for record in touched:
        record["dateLastModified"] = stamp
    roster.changed()
    return [record["sourcedId"] for record in touched]


def withdraw(
    roster: RosterCollections, user_id: str, *, hard_delete: bool, status: str = "tobedeleted"
) -> int:
    """Withdraw a user with their enrollments: marked ``status``, or removed outright.

    Returns how many records changed; ``KeyError`` when the user is unknown.
    """
    if status not in DELETION_STATUSES:
        raise ValueError(f"status must be one of {', '.join(sorted(DELETION_STATUSES))}")
    if user_id not in roster.by_id["users"]:
        raise KeyError(user_id)

    def belongs(record: Record) -> bool:
        user = record.get("user")
        return record["sourcedId"] == user_id or (isinstance(user, dict) and user.get("sourcedId") == user_id)

    stamp = _later_stamp(roster)
    changed = {id(record) for records in roster.records.values() for record in records if belongs(record)}
    if hard_delete:
        for name, records in roster.records.items():
            roster.records[name] = [record for record in records if id(record) not in changed]
    else:
        for records in roster.records.values():
            for record in records:
                if id(record) in changed:
                    record["status"] = status
                    record["dateLastModified"] = stamp
    roster.changed()
    return len(changed)


def _student_enrollments(roster: RosterCollections, user_id: str) -> list[Record]:
    if user_id not in roster.by_id["users"]:
        raise KeyError(user_id)
    return [
        record
        for record in roster.records["enrollments"]
        if record.get("role") == "student" and record["user"]["sourcedId"] == user_id
    ]


def end_enrollment(roster: RosterCollections, user_id: str, end: date) -> int:
    """The registrar records a withdrawal or transfer: the student's current enrollments end on ``end``.

    Returns how many enrollment records changed; ``KeyError`` when the user is unknown.
    """
    stamp = _later_stamp(roster)
    current = [r for r in _student_enrollments(roster, user_id) if r["endDate"] > end.isoformat()]
    for record in current:
        if record["beginDate"] > end.isoformat():
            raise ValueError("endDate is before the enrollment's beginDate")
        record["endDate"] = end.isoformat()
        record["dateLastModified"] = stamp
    roster.changed()
    return len(current)


def reenroll(roster: RosterCollections, user_id: str, begin: date, end: date) -> int:
    """The student comes back: a new enrollment in each of their classes from ``begin`` to ``end``.

    The new records get their own sourcedIds, as a SIS's re-entry does; returns how many were added.
    """
    stamp = _later_stamp(roster)
    earlier = _student_enrollments(roster, user_id)
    if any(r["endDate"] >= begin.isoformat() for r in earlier):
        raise ValueError("the student is still enrolled on beginDate")
    latest_round = {r["class"]["sourcedId"]: r for r in earlier}
    added = [
        {
            **record,
            "sourcedId": f"{record['sourcedId'].split('~')[0]}~{begin.isoformat()}",
            "beginDate": begin.isoformat(),
            "endDate": end.isoformat(),
            "dateLastModified": stamp,
        }
        for record in latest_round.values()
    ]
    roster.records["enrollments"] = sorted(
        [*roster.records["enrollments"], *added], key=lambda record: record["sourcedId"]
    )
    roster.changed()
    return len(added)
