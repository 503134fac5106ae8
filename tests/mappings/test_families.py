"""Families: students who share a guardian (one SIS contact, or the same name at the same mailing
address) are one family; a guardian who may not receive mail links nobody."""

from __future__ import annotations

from truancy.mappings.families import families
from truancy.mappings.notices_contacts import GuardianContact


def _contact(student: str, contact: str, name: str, address: str, **changes: object) -> GuardianContact:
    values: dict[str, object] = {
        "student_id": student,
        "contact_id": contact,
        "name": name,
        "relationship": "Mother",
        "receives_mail": True,
        "contact_restriction": "",
        "address": tuple(address.split("|")),
        "email": "",
        "phone": "",
        "language": "en",
        **changes,
    }
    return GuardianContact(**values)  # type: ignore[arg-type]


def test_siblings_with_a_guardian_record_each_are_one_family_by_name_and_address() -> None:
    found = families(
        [
            _contact("s1", "g-1", "María Rivera", "12 Oak Avenue|Springfield, TX 75000"),
            _contact("s2", "g-2", "MARIA  Rivera", "12 Oak Avenue|Springfield TX 75000"),
            _contact("s2", "g-2b", "Jorge Rivera", "12 Oak Avenue|Springfield, TX 75000"),
            _contact("s3", "g-3", "María Rivera", "40 Elm Street|Springfield, TX 75000"),  # another María
        ]
    )
    # case, accents, spacing and punctuation fold: "MARIA  Rivera" at "Springfield TX" is María
    assert [f.students for f in found] == [("s1", "s2"), ("s3",)]
    assert [g.name for g in found[0].guardians] == ["María Rivera", "Jorge Rivera"]


def test_one_contact_shared_by_children_and_separated_parents_make_one_family() -> None:
    found = families(
        [
            _contact("s1", "mother", "Ana Chen", "1 A Street|Town"),
            _contact("s2", "mother", "Ana Chen", "1 A Street|Town"),
            _contact("s2", "father", "Wei Chen", "9 B Road|Town"),
            _contact("s3", "father", "Wei Chen", "9 B Road|Town"),  # a half-sibling at the father's
            _contact("s4", "other", "Wei Chen", "5 C Lane|Town"),  # same name, elsewhere: not him
        ]
    )
    assert [f.students for f in found] == [("s1", "s2", "s3"), ("s4",)]
    assert [g.name for g in found[0].guardians] == ["Ana Chen", "Wei Chen"]
    assert found[0].key != found[1].key


def test_a_restricted_guardian_links_nobody_and_a_student_without_one_has_no_family() -> None:
    found = families(
        [
            _contact("s1", "g", "Sam Doe", "1 A Street|Town"),
            _contact("s2", "g2", "Sam Doe", "1 A Street|Town", contact_restriction="court order"),
            _contact("s3", "g3", "Lee Doe", "2 B Street|Town", receives_mail=False),
        ]
    )
    assert [f.students for f in found] == [("s1",)]


def test_a_family_key_depends_only_on_its_children() -> None:
    one = families([_contact("s1", "g", "Sam Doe", "1 A|T"), _contact("s2", "g", "Sam Doe", "1 A|T")])
    two = families([_contact("s2", "h", "Sam Doe", "1 A|T"), _contact("s1", "h", "Sam Doe", "1 A|T")])
    assert one[0].key == two[0].key
