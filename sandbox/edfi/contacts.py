"""The sandbox's guardians as Ed-Fi DS 5 ``contacts`` and ``studentContactAssociations``.

The same generated guardians the OneRoster sandbox serves as parent/guardian/relative users
(``truancy.sandbox.guardians``), so one district reads alike through either SIS. Field names are
the DS 5.0 resources' (``edFi_contact``: ``contactUniqueId``, ``firstName``, ``lastSurname``,
``addresses``, ``electronicMails``, ``telephones``, ``languages``; ``edFi_studentContactAssociation``:
``contactReference``, ``studentReference``, ``relationDescriptor``, ``contactRestrictions``,
``legalGuardian``, ``livesWith``, ``primaryContactStatus``, ``contactPriority``), with default
``uri://ed-fi.org`` descriptor values. Ed-Fi has no "receives mail" flag: the sandbox carries it in
an ``_ext`` extension (``_ext.sandbox.receivesMail``), as a host adds fields through an extension.
"""

from __future__ import annotations

from typing import Any

from truancy.sandbox.edfi.views import record_id, student_reference
from truancy.sandbox.guardians import guardians_of, household_heads
from truancy.sandbox.model import District, Student

Record = dict[str, Any]
ED_FI = "uri://ed-fi.org"
LANGUAGES = {"en": "eng", "es": "spa", "vi": "vie", "zh": "chi", "ar": "ara"}
RELATIONS = {
    "Mother": "Mother",
    "Father": "Father",
    "Legal guardian": "Guardian",
    "Grandmother": "Grandmother",
}


def contact_records(district: District) -> tuple[list[Record], list[Record]]:
    """(contacts, studentContactAssociations) for every student of the district."""
    school_index = {school.schoolid: index for index, school in enumerate(district.schools)}
    contacts: list[Record] = []
    associations: list[Record] = []
    heads = household_heads(district.students, school_index)
    for student in district.students:
        users = guardians_of(student, school_index[student.schoolid], "", {}, heads.get(student.dcid))
        for number, user in enumerate(users, start=1):
            contacts.append(_contact(user))
            associations.append(_association(student, user, number))
    return contacts, associations


def _contact(user: Record) -> Record:
    metadata = user["metadata"]
    address = metadata["sandbox.address"]
    body: Record = {
        "id": record_id("contact", user["sourcedId"]),
        "contactUniqueId": user["sourcedId"],
        "firstName": user["givenName"],
        "lastSurname": user["familyName"],
        "addresses": [
            {
                "addressTypeDescriptor": f"{ED_FI}/AddressTypeDescriptor#Mailing",
                "stateAbbreviationDescriptor": f"{ED_FI}/StateAbbreviationDescriptor#{address['state']}",
                "city": address["city"],
                "postalCode": address["postalCode"],
                "streetNumberName": address["line1"],
            }
        ],
        "telephones": [
            {
                "telephoneNumberTypeDescriptor": f"{ED_FI}/TelephoneNumberTypeDescriptor#Home",
                "telephoneNumber": user["phone"],
                "orderOfPriority": 1,
            }
        ],
        "languages": [
            {
                "languageDescriptor": f"{ED_FI}/LanguageDescriptor#"
                + LANGUAGES[metadata["sandbox.preferredLanguage"]],
                "uses": [{"languageUseDescriptor": f"{ED_FI}/LanguageUseDescriptor#Correspondence language"}],
            }
        ],
        "_ext": {"sandbox": {"receivesMail": bool(metadata["sandbox.receivesMail"])}},
    }
    if user.get("email"):
        body["electronicMails"] = [
            {
                "electronicMailTypeDescriptor": f"{ED_FI}/ElectronicMailTypeDescriptor#Home/Personal",
                "electronicMailAddress": user["email"],
                "primaryEmailAddressIndicator": True,
            }
        ]
    return body


def _association(student: Student, user: Record, number: int) -> Record:
    metadata = user["metadata"]
    role = user["roles"][0]["role"]
    body: Record = {
        "id": record_id("sca", user["sourcedId"]),
        "contactReference": {"contactUniqueId": user["sourcedId"]},
        "studentReference": student_reference(student),
        "relationDescriptor": f"{ED_FI}/RelationDescriptor#{RELATIONS[metadata['sandbox.relationship']]}",
        "contactPriority": number,
        "primaryContactStatus": number == 1,
        "legalGuardian": role in {"parent", "guardian"},
        "livesWith": number == 1 or role == "relative",
    }
    if metadata["sandbox.contactRestriction"]:
        body["contactRestrictions"] = metadata["sandbox.contactRestriction"]
    return body
