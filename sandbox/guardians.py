"""Each student's guardians as OneRoster 1.2 users (role ``parent``/``guardian``/``relative``),
linked both ways through ``agents``, so a client reads them the way the standard says.

OneRoster 1.2 users carry ``email``, ``sms`` and ``phone`` (Rostering REST binding, user class) but
no postal address, preferred language or custody flags; the sandbox carries those in the record's
``metadata`` extension object, under the keys ``sandbox.*`` below (a SIS's own OneRoster puts them
wherever its vendor extension says: the plugin reads them through its own field names).

Languages are drawn per school so that one primary language other than English reaches the 15%
share of Cal. Educ. Code § 48985 at some schools and not at others. Most guardians have an email;
some do not receive mail, and some are under a contact restriction (a custody order).

Some students are siblings (about one in eight, paired with the student before them): like a SIS
that keeps a guardian record per child, each child has its own guardian records (their own
sourcedIds), which carry the same names, address, email, phone and language as the sibling's, so
a client finds the family by name and address, not by id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from random import Random
from typing import Any

from truancy.sandbox.model import Student
from truancy.sandbox.names import GIVEN_NAMES

Record = dict[str, Any]
BASE_PATH = "/ims/oneroster/rostering/v1p2"

# (language tag, share) per school, by the school's position; English takes the rest.
SCHOOL_LANGUAGES: tuple[tuple[tuple[str, float], ...], ...] = (
    (("es", 0.30), ("vi", 0.06), ("zh", 0.04), ("ar", 0.03)),
    (("es", 0.12), ("vi", 0.18), ("zh", 0.05), ("ar", 0.03)),
    (("es", 0.20), ("zh", 0.16), ("ar", 0.06), ("vi", 0.03)),
    (("es", 0.25), ("ar", 0.17), ("vi", 0.04), ("zh", 0.04)),
)
GUARDIAN_NAMES = {
    "vi": (("Nguyễn Thị", "Hoa"), ("Trần Văn", "Minh")),
    "zh": (("陈", "美玲"), ("王", "建国")),
    "ar": (("حداد", "ليلى"), ("حداد", "عمر")),
}
STREETS = ("Oak Avenue", "Calle Real", "Maple Street", "Mission Road", "Lê Lợi Way", "Juniper Court")
RELATIONSHIPS = (
    ("parent", "Mother"),
    ("parent", "Father"),
    ("guardian", "Legal guardian"),
    ("relative", "Grandmother"),
)


def language_of(student: Student, school_index: int) -> str:
    """The family's primary language: one draw per student, deterministic."""
    draw = Random(f"lang-{student.dcid}").random()
    for language, share in SCHOOL_LANGUAGES[school_index % len(SCHOOL_LANGUAGES)]:
        if draw < share:
            return language
        draw -= share
    return "en"


SIBLING_SHARE = 0.125


def household_heads(
    students: Sequence[Student], school_index: Mapping[int, int]
) -> dict[int, tuple[Student, int]]:
    """Sibling DCID -> the older sibling whose household it shares, with that sibling's school index
    (the student before it in the district's order, itself no sibling: pairs, deterministic)."""
    heads: dict[int, tuple[Student, int]] = {}
    for previous, student in pairwise(students):
        if previous.dcid not in heads and Random(f"sibling-{student.dcid}").random() < SIBLING_SHARE:
            heads[student.dcid] = (previous, school_index[previous.schoolid])
    return heads


def guardians_of(
    student: Student,
    school_index: int,
    modified: str,
    school_ref: Record,
    head: tuple[Student, int] | None = None,
) -> list[Record]:
    """One or two guardian users for ``student`` (deterministic from its DCID); ``head``: the
    sibling whose household's guardians these are (see the module docstring)."""
    own = student
    if head is not None:
        student, school_index = head
    rng = Random(f"guardians-{student.dcid}")
    student_ref = {
        "href": f"{BASE_PATH}/users/{own.sourced_id}",
        "sourcedId": own.sourced_id,
        "type": "user",
    }
    language = language_of(student, school_index)
    count = 2 if rng.random() < 0.45 else 1
    house = 100 + student.dcid % 900
    street = STREETS[student.dcid % len(STREETS)]
    records = []
    for number in range(1, count + 1):
        role, relationship = RELATIONSHIPS[(student.dcid + number) % len(RELATIONSHIPS)]
        if language in GUARDIAN_NAMES:
            family, given = GUARDIAN_NAMES[language][(number - 1) % 2]
        else:
            given = GIVEN_NAMES[(student.dcid * 3 + number) % len(GIVEN_NAMES)]
            family = student.family_name
        sourced_id = f"gdn-{own.dcid}-{number}"
        person = f"gdn-{student.dcid}-{number}"
        has_email = rng.random() < 0.85
        restricted = number == 2 and rng.random() < 0.1
        record: Record = {
            "sourcedId": sourced_id,
            "status": "active",
            "dateLastModified": modified,
            "enabledUser": "false",
            "username": sourced_id,
            "givenName": given,
            "familyName": family,
            "identifier": sourced_id.upper(),
            "roles": [{"roleType": "primary", "role": role, "org": school_ref}],
            "agents": [student_ref],
            "phone": f"+1 555 01{student.dcid % 100:02d} {number:02d}{student.dcid % 97:02d}",
            "metadata": {
                "sandbox.relationship": relationship,
                "sandbox.preferredLanguage": language,
                "sandbox.receivesMail": number == 1 or rng.random() < 0.5,
                "sandbox.contactRestriction": "no contact (court order)" if restricted else "",
                "sandbox.address": {
                    "line1": f"{house} {street}",
                    "city": "Springfield",
                    "state": "CA",
                    "postalCode": f"95{student.dcid % 1000:03d}",
                },
            },
        }
        if has_email:
            record["email"] = f"{person}@families.example.org"
        records.append(record)
    return records
