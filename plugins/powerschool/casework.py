"""The officer's casework rows (U_TRUANCY_CONFERENCES, _PLANS, _REFERRALS) read into canonical records.

A packet reads one student's rows (``studentsdcid==`` in ``q``); a cycle reads each table once.
A row an officer left unreadable (a date typed wrong, an unknown outcome) is skipped and counted in
the log by table, never quoted: it is the officer's to fix in the SIS.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, cast

from truancy.connector.powerschool import PowerSchoolClient, fiql_eq
from truancy.mappings.casework import ConferenceOutcome, ExceptionKind, ReferralStatus, Signer
from truancy.mappings.casework_records import (
    CONFERENCE_OUTCOMES,
    EXCEPTION_KINDS,
    REFERRAL_STATUSES,
    Attempt,
    CaseFile,
    Conference,
    PacketRequest,
    Plan,
    RecordedException,
    Referral,
)

log = logging.getLogger("truancy.plugins.powerschool.casework")
CONFERENCES = "U_TRUANCY_CONFERENCES"
PLANS = "U_TRUANCY_PLANS"
REFERRALS = "U_TRUANCY_REFERRALS"
PACKETS = "U_TRUANCY_PACKETS"
CIRCUMSTANCES = "U_TRUANCY_CIRCUMSTANCES"
SIGNERS: tuple[Signer, ...] = ("school", "parent", "student")


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def attempts_of(text: str | None) -> tuple[Attempt, ...]:
    """The ``attempts`` column: ``[{"on": "YYYY-MM-DD", "channel": "email", "purpose": "invitation",
    "ref": "<message id or print batch>"}]`` (``ref`` is absent where none was recorded)."""
    if not text:
        return ()
    items: Any = json.loads(text)
    return tuple(
        Attempt(
            date.fromisoformat(i["on"]),
            str(i["channel"]),
            str(i.get("purpose", "invitation")),
            str(i.get("ref", "")),
        )
        for i in items
    )


def attempts_text(attempts: tuple[Attempt, ...]) -> str:
    return json.dumps(
        [
            {"on": a.on.isoformat(), "channel": a.channel, "purpose": a.purpose}
            | ({"ref": a.reference} if a.reference else {})
            for a in attempts
        ],
        separators=(",", ":"),
    )


def _conference(row: Mapping[str, str]) -> Conference:
    outcome = row.get("outcome") or None
    if outcome is not None and outcome not in CONFERENCE_OUTCOMES:
        raise ValueError("unknown outcome")
    starts = row.get("starts_at")
    interpreter = row.get("interpreter", "").lower()
    return Conference(
        record_id=row["id"],
        meeting=row.get("meeting", ""),
        starts_at=datetime.fromisoformat(starts) if starts else None,
        place=row.get("place", ""),
        outcome=cast(ConferenceOutcome | None, outcome),
        held_on=_day(row.get("held_date")),
        attendees=tuple(line.strip() for line in row.get("attendees", "").splitlines() if line.strip()),
        interpreter={"yes": True, "no": False}.get(interpreter),
        agreed=row.get("agreed", ""),
        attempts=attempts_of(row.get("attempts")),
    )


def _plan(row: Mapping[str, str]) -> Plan:
    start = _day(row.get("start_date"))
    if start is None:
        raise ValueError("no start date")
    rate = row.get("target_rate")
    signatures = {signer: on for signer in SIGNERS if (on := _day(row.get(f"signed_{signer}"))) is not None}
    return Plan(
        record_id=row["id"],
        form=row.get("form", ""),
        start_date=start,
        review_date=_day(row.get("review_date")),
        end_date=_day(row.get("end_date")),
        goals=row.get("goals", ""),
        supports=row.get("supports", ""),
        responsible=row.get("responsible", ""),
        target_rate=float(rate) / 100 if rate else None,
        signatures=signatures,
        progress=row.get("progress", ""),
    )


def _referral(row: Mapping[str, str]) -> Referral:
    status = row.get("status", "")
    made = _day(row.get("made_date"))
    if status not in REFERRAL_STATUSES or made is None:
        raise ValueError("unknown status or no date")
    return Referral(
        record_id=row["id"],
        partner=row.get("partner", ""),
        service=row.get("service", ""),
        status=cast(ReferralStatus, status),
        made_on=made,
        status_on=_day(row.get("status_date")),
    )


def _circumstance(row: Mapping[str, str]) -> RecordedException:
    kind = row.get("kind", "")
    recorded = _day(row.get("recorded_date"))
    if kind not in EXCEPTION_KINDS or recorded is None:
        raise ValueError("unknown circumstance or no date")
    return RecordedException(cast(ExceptionKind, kind), recorded)


def read_case_file(client: PowerSchoolClient, sis_ref: str) -> CaseFile:
    """The casework the officer recorded for the student with DCID ``sis_ref``."""
    return read_case_files(client, sis_ref).get(sis_ref, CaseFile())


def read_case_files(client: PowerSchoolClient, sis_ref: str | None = None) -> dict[str, CaseFile]:
    """Every student's casework by DCID (three paged reads per cycle), or one student's."""
    found: dict[str, dict[str, list[Any]]] = {}
    readers: dict[str, Any] = {
        CONFERENCES: _conference,
        PLANS: _plan,
        REFERRALS: _referral,
        CIRCUMSTANCES: _circumstance,
    }
    for table, read in readers.items():
        skipped = 0
        pages = client.iter_table(table, q=fiql_eq("studentsdcid", sis_ref) if sis_ref else None)
        for row in (row for page in pages for row in page):
            try:
                record = read(row)
            except (ValueError, KeyError, TypeError):
                skipped += 1
                continue
            student = found.setdefault(row.get("studentsdcid", ""), {name: [] for name in readers})
            student[table].append(record)
        if skipped:
            log.warning("casework rows not read", extra={"table": table, "rows": skipped})
    return {
        ref: CaseFile(
            tuple(rows[CONFERENCES]), tuple(rows[PLANS]), tuple(rows[REFERRALS]), tuple(rows[CIRCUMSTANCES])
        )
        for ref, rows in found.items()
    }


def write_attempts(client: PowerSchoolClient, record_id: str, attempts: tuple[Attempt, ...]) -> None:
    """Log the invitations and reminders sent for one conference in its row (the daemon's column)."""
    client.update_row(CONFERENCES, record_id, {"attempts": attempts_text(attempts)})


def write_plan_progress(client: PowerSchoolClient, record_id: str, progress: str) -> None:
    """The plan's progress as the daemon measured it (its own column of the officer's row)."""
    client.update_row(PLANS, record_id, {"progress": progress})


def packet_requests(client: PowerSchoolClient) -> list[PacketRequest]:
    """Packets officers asked for on the student page and the daemon has not built yet."""
    rows = (row for page in client.iter_table(PACKETS, q=fiql_eq("status", "requested")) for row in page)
    return [PacketRequest(row["id"], row.get("studentsdcid", ""), row.get("kind", "")) for row in rows]


def record_packet(client: PowerSchoolClient, record_id: str, columns: Mapping[str, str]) -> None:
    """Answer a request: ``status`` built or refused, ``file_name``, ``built_date``, ``detail``."""
    client.update_row(PACKETS, record_id, dict(columns))
