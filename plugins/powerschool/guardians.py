"""Guardian contacts over OneRoster 1.2: the student's ``agents`` (GUIDRefs to users), each read as a
user whose role is ``parent``, ``guardian`` or ``relative``.

``email``, ``sms`` and ``phone`` are OneRoster 1.2 user fields (Rostering REST binding, user
class). OneRoster has no postal address, preferred language or custody flags: providers carry them
in the record's ``metadata`` extension, under the keys :data:`METADATA` names (the sandbox's; a
provider with other keys needs them passed as ``keys``, not yet a setting). Only the students asked
for are read, one user at a time: the daemon asks only for students with a case or a notice due.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from truancy.connector.http import HttpSession
from truancy.mappings.notices_contacts import GuardianContact

GUARDIAN_ROLES = frozenset({"parent", "guardian", "relative"})
METADATA = {
    "relationship": "sandbox.relationship",
    "language": "sandbox.preferredLanguage",
    "receives_mail": "sandbox.receivesMail",
    "restriction": "sandbox.contactRestriction",
    "address": "sandbox.address",
}


def _user(session: HttpSession, sourced_id: str) -> Mapping[str, Any] | None:
    response = session.get(f"users/{quote(sourced_id, safe='')}")
    body = response.json()
    user = body.get("user") if isinstance(body, dict) else None
    return user if isinstance(user, dict) else None


def _org_name(session: HttpSession, org: Any) -> str:
    sourced_id = org.get("sourcedId") if isinstance(org, dict) else None
    if not sourced_id:
        return ""
    body = session.get(f"orgs/{quote(str(sourced_id), safe='')}").json()
    record = body.get("org") if isinstance(body, dict) else None
    return str(record.get("name") or "") if isinstance(record, dict) else ""


def _address(value: Any) -> tuple[str, ...]:
    if not isinstance(value, dict):
        return ()
    city = ", ".join(str(value[k]) for k in ("city", "state") if value.get(k))
    last = " ".join(part for part in (city, str(value.get("postalCode") or "")) if part)
    return tuple(
        line for line in (str(value.get("line1") or ""), str(value.get("line2") or ""), last) if line
    )


def guardian_contacts(
    session: HttpSession, student_ids: Iterable[str], keys: Mapping[str, str] = METADATA
) -> Iterator[GuardianContact]:
    """The guardians of each student in ``student_ids`` (OneRoster sourcedIds)."""
    for student_id in student_ids:
        student = _user(session, student_id)
        if student is None:
            continue
        student_name = " ".join(str(student.get(k) or "") for k in ("givenName", "familyName")).strip()
        school_name = _org_name(session, student.get("primaryOrg"))
        for agent in student.get("agents") or []:
            agent_id = agent.get("sourcedId") if isinstance(agent, dict) else None
            guardian = _user(session, agent_id) if agent_id else None
            if guardian is None or guardian.get("status") == "tobedeleted":
                continue
            roles = {role.get("role") for role in guardian.get("roles") or [] if isinstance(role, dict)}
            if not roles & GUARDIAN_ROLES:
                continue
            metadata = guardian.get("metadata") or {}
            name = " ".join(str(guardian.get(k) or "") for k in ("givenName", "familyName")).strip()
            yield GuardianContact(
                student_id=student_id,
                contact_id=str(agent_id),
                name=name,
                relationship=str(
                    metadata.get(keys["relationship"]) or sorted(str(r) for r in roles & GUARDIAN_ROLES)[0]
                ),
                receives_mail=bool(metadata.get(keys["receives_mail"], True)),
                contact_restriction=str(metadata.get(keys["restriction"]) or ""),
                address=_address(metadata.get(keys["address"])),
                email=str(guardian.get("email") or ""),
                phone=str(guardian.get("phone") or guardian.get("sms") or ""),
                language=str(metadata.get(keys["language"]) or "en"),
                student_name=student_name,
                school_name=school_name,
            )
