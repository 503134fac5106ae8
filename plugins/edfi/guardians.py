"""Guardian contacts over the Ed-Fi ODS/API: the student's contact associations and the contacts.

Data Standard 5 names them ``ed-fi/studentContactAssociations`` (``contactReference``,
``studentReference``, ``relationDescriptor``, ``contactRestrictions``, ``legalGuardian``,
``livesWith``, ``primaryContactStatus``, ``contactPriority``) and ``ed-fi/contacts``
(``contactUniqueId``, ``firstName``, ``lastSurname``, ``addresses``, ``electronicMails``,
``telephones``, ``languages``); Data Standard 4 has the same fields under ``ed-fi/parents``
(``parentUniqueId``) and ``ed-fi/studentParentAssociations`` (``parentReference``). Sources: the
Ed-Fi DS 5.0 and DS 4.0 Resources API OpenAPI definitions (``edFi_contact``,
``edFi_studentContactAssociation``, ``edFi_parent``, ``edFi_studentParentAssociation``); the
rename of Parent to Contact in DS 5 is also in a SIS vendor's DS 5 notes (Aeries, "Version 5
Ed-Fi Data Standard Overview", support.aeries.com article 14000156847).

A contact is a guardian when the association names them the legal guardian, someone the student
lives with, or the primary contact; emergency-only contacts are left out. Ed-Fi has no
"receives mail" flag: a host that records one adds it through an extension, read at
:data:`RECEIVES_MAIL` (the sandbox's ``_ext.sandbox.receivesMail``); without it a guardian
receives mail unless a contact restriction is recorded. Languages are ISO 639-2 codes in Ed-Fi's
``LanguageDescriptor`` and become BCP 47 tags. Only the students asked for are read, one at a time,
from the live ODS (never the snapshot: a letter goes to today's address); nothing here is logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from truancy.connector.edfi import EdFiClient
from truancy.mappings.notices_contacts import GuardianContact

RECEIVES_MAIL = ("sandbox", "receivesMail")
LANGUAGE_TAGS = {"eng": "en", "spa": "es", "vie": "vi", "chi": "zh", "zho": "zh", "ara": "ar"}
LANGUAGE_USES = ("correspondence language", "home language", "dominant language", "spoken language")
ADDRESS_TYPES = ("mailing", "home", "physical")


@dataclass(frozen=True, slots=True)
class ContactResources:
    """Where a data standard keeps contacts: resource names and the contact's key field."""

    contacts: str
    associations: str
    key: str
    reference: str


DS5 = ContactResources(
    "ed-fi/contacts", "ed-fi/studentContactAssociations", "contactUniqueId", "contactReference"
)
DS4 = ContactResources(
    "ed-fi/parents", "ed-fi/studentParentAssociations", "parentUniqueId", "parentReference"
)


def contact_resources(data_model_version: str | None) -> ContactResources:
    """DS 5 and later name them contacts; DS 4 (and a host that does not say) parents."""
    major = (data_model_version or "").split(".", 1)[0]
    return DS5 if major.isdigit() and int(major) >= 5 else DS4


def guardian_contacts(
    client: EdFiClient, student_ids: Iterable[str], resources: ContactResources = DS5
) -> Iterator[GuardianContact]:
    """The guardians of each student in ``student_ids`` (Ed-Fi studentUniqueIds)."""
    for student_id in student_ids:
        associations = client.find(resources.associations, {"studentUniqueId": student_id})
        guardians = sorted(
            (a for a in associations if _is_guardian(a)), key=lambda a: int(a.get("contactPriority") or 99)
        )
        if not guardians:
            continue
        student_name, school_name = _student_and_school(client, student_id)
        for association in guardians:
            contact_id = str((association.get(resources.reference) or {}).get(resources.key) or "")
            found = client.find(resources.contacts, {resources.key: contact_id}) if contact_id else []
            if not found:
                continue
            contact = found[0]
            yield GuardianContact(
                student_id=student_id,
                contact_id=contact_id,
                name=" ".join(str(contact.get(k) or "") for k in ("firstName", "lastSurname")).strip(),
                relationship=_code(association.get("relationDescriptor")) or "Guardian",
                receives_mail=_receives_mail(contact),
                contact_restriction=str(association.get("contactRestrictions") or ""),
                address=_address(contact.get("addresses")),
                email=_email(contact.get("electronicMails")),
                phone=_phone(contact.get("telephones")),
                language=_language(contact.get("languages")),
                student_name=student_name,
                school_name=school_name,
            )


def _is_guardian(association: Mapping[str, Any]) -> bool:
    return any(association.get(k) is True for k in ("legalGuardian", "livesWith", "primaryContactStatus"))


def _code(descriptor: Any) -> str:
    return str(descriptor or "").rsplit("#", 1)[-1]


def _student_and_school(client: EdFiClient, student_id: str) -> tuple[str, str]:
    """How the letter names the pupil and the school (read only for a student with a notice due)."""
    students = client.find("ed-fi/students", {"studentUniqueId": student_id})
    name = (
        " ".join(str(students[0].get(k) or "") for k in ("firstName", "lastSurname")).strip()
        if students
        else ""
    )
    enrollments = client.find("ed-fi/studentSchoolAssociations", {"studentUniqueId": student_id})
    school_id = (enrollments[-1].get("schoolReference") or {}).get("schoolId") if enrollments else None
    schools = client.find("ed-fi/schools", {"schoolId": str(school_id)}) if school_id is not None else []
    return name, str(schools[0].get("nameOfInstitution") or "") if schools else ""


def _receives_mail(contact: Mapping[str, Any]) -> bool:
    extension, field = RECEIVES_MAIL
    value = ((contact.get("_ext") or {}).get(extension) or {}).get(field)
    return value is not False


def _ranked(items: Any, field: str, order: tuple[str, ...]) -> list[Mapping[str, Any]]:
    rows = [item for item in items or [] if isinstance(item, dict)]

    def rank(item: Mapping[str, Any]) -> int:
        code = _code(item.get(field)).lower()
        return order.index(code) if code in order else len(order)

    return sorted(rows, key=rank)


def _address(addresses: Any) -> tuple[str, ...]:
    ranked = _ranked(addresses, "addressTypeDescriptor", ADDRESS_TYPES)
    if not ranked:
        return ()
    chosen = ranked[0]
    state = _code(chosen.get("stateAbbreviationDescriptor"))
    city = ", ".join(part for part in (str(chosen.get("city") or ""), state) if part)
    last = " ".join(part for part in (city, str(chosen.get("postalCode") or "")) if part)
    lines = (
        str(chosen.get("streetNumberName") or ""),
        str(chosen.get("apartmentRoomSuiteNumber") or ""),
        last,
    )
    return tuple(line for line in lines if line)


def _email(mails: Any) -> str:
    rows = [m for m in mails or [] if isinstance(m, dict) and m.get("electronicMailAddress")]
    rows.sort(key=lambda m: m.get("primaryEmailAddressIndicator") is not True)
    return str(rows[0]["electronicMailAddress"]) if rows else ""


def _phone(phones: Any) -> str:
    rows = [p for p in phones or [] if isinstance(p, dict) and p.get("telephoneNumber")]
    rows.sort(key=lambda p: int(p.get("orderOfPriority") or 99))
    return str(rows[0]["telephoneNumber"]) if rows else ""


def _language(languages: Any) -> str:
    rows = [item for item in languages or [] if isinstance(item, dict)]

    def rank(item: Mapping[str, Any]) -> int:
        uses = {_code(use.get("languageUseDescriptor")).lower() for use in item.get("uses") or []}
        return min((LANGUAGE_USES.index(u) for u in uses if u in LANGUAGE_USES), default=len(LANGUAGE_USES))

    rows.sort(key=rank)
    code = _code(rows[0].get("languageDescriptor")).lower() if rows else ""
    return LANGUAGE_TAGS.get(code, code) or "en"
